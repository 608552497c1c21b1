"""The lineage a campaign_release run reports: dag.test() against the sandboxes, with a real
hook-lineage collector in place of the process's (Airflow creates one per task process when a
hook-lineage reader such as the OpenLineage provider is installed; in dag.test() every task runs
in this process, so the collector here holds the whole run's lineage).

What the run read and wrote is compared with where its effects landed in the sandboxes, and each
collected asset is translated by the OpenLineage provider's own function into the dataset its
events would carry. The run's delivery batches also emit the release Asset of each target they
changed (the DAG's declared outlet, an alias resolved per target).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from e2e.project_dags import load_dag
from e2e.test_campaign_release import CAMPAIGN, ITEM, KIT, REGION_REFUSED, RELEASED, _env, _now, _release_cycle

pytestmark = pytest.mark.e2e


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh, real collector for this run (the process-wide one is cached and may be a no-op)."""
    from airflow.sdk import lineage as sdk_lineage

    fresh = sdk_lineage.HookLineageCollector()
    monkeypatch.setattr(sdk_lineage, "get_hook_lineage_collector", lambda: fresh)
    return fresh


@pytest.fixture
def env(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    return _env(sandbox, monkeypatch, tmp_path)


def _host(running: Any) -> str:
    return urlsplit(running.url).netloc


def test_a_release_reports_smintio_inputs_and_partner_outputs(
    airflow_db: Path, env: dict[str, Any], collector: Any
) -> None:
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset

    # the release, workflow_outcomes applying its drafts' approvals, the release their Asset starts
    first, run = _release_cycle(_now())
    assert first.state == run.state == "success"
    lineage = collector.collected_assets
    inputs = {info.asset.uri for info in lineage.inputs}
    outputs = {info.asset.uri for info in lineage.outputs}

    # Smint.io: the campaign, its assets and the license feed are what the release read
    assert f"smintio://demo/campaigns/{CAMPAIGN}" in inputs
    assert "smintio://demo/license-purchase-transactions" in inputs
    assert {f"smintio://demo/assets/{asset}" for asset in RELEASED} <= inputs
    # the drafts' approval outcomes were written back to Smint.io (by workflow_outcomes)
    assert "smintio://demo/assets/asset-spring-10" in outputs

    # VIP: each released asset's media on the catalog item, and no media of a refused asset
    vip = _host(env["vip"])
    media = {f"vip://{vip}/items/{m['item_id']}/media/{m['ref']}" for m in env["vip"].context.store.all("media")}
    assert len(media) == len(RELEASED)
    assert media <= outputs
    assert not any(REGION_REFUSED in uri for uri in outputs)
    assert all(uri.startswith(f"vip://{vip}/items/{ITEM}/") for uri in outputs if uri.startswith("vip://"))

    # Trading Grid: the launch kit post of each community
    grid = _host(env["grid"])
    kits = {
        f"trading-grid://{grid}/communities/{p['community']}/posts/{KIT}"
        for p in env["grid"].context.store.all("post")
        if p["ref"] == KIT
    }
    assert len(kits) == 2 and kits <= outputs

    # Exstream: the image resources of the released assets
    exstream = _host(env["exstream"])
    resources = {
        f"exstream://{exstream}/domains/{r['domain']}/resources/{r['id']}"
        for r in env["exstream"].context.store.all("resource")
        if (r.get("metadata") or {}).get("source_asset") in RELEASED
    }
    assert len(resources) == len(RELEASED) and resources <= outputs

    # the approvals: workflow instances started, one per draft
    assert sum(uri.startswith("opentext-workflow://") for uri in outputs) == len(
        env["workflow"].context.store.all("instance")
    )

    # every collected asset becomes an OpenLineage dataset under its system's namespace
    for info in [*lineage.inputs, *lineage.outputs]:
        dataset = translate_airflow_asset(info.asset, info.context)
        assert dataset is not None, info.asset.uri
        scheme, netloc, path = urlsplit(info.asset.uri)[:3]
        assert (dataset.namespace, dataset.name) == (f"{scheme}://{netloc}", path.lstrip("/"))


def test_each_target_that_received_the_release_gets_its_asset_event(airflow_db: Path, env: dict[str, Any]) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from contentops.assets import CAMPAIGN_RELEASES, WORKFLOWS_STARTED

    first, run = _release_cycle(_now(), {"targets": ["vip", "exstream"]})
    assert first.state == run.state == "success"
    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, AssetEvent.extra)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_run_id.in_([first.run_id, run.run_id]))
        ).all()
    events: dict[str, dict[str, int]] = {}
    for uri, extra in rows:
        for key, count in (extra or {}).items():
            events.setdefault(uri, {})
            events[uri][key] = events[uri].get(key, 0) + count
    # not trading grid; the first run also handed its approvals to workflow_outcomes
    assert set(events) == {CAMPAIGN_RELEASES["vip"].uri, CAMPAIGN_RELEASES["exstream"].uri, WORKFLOWS_STARTED.uri}
    assert events[WORKFLOWS_STARTED.uri] == {"open": 4}  # the four drafts' approvals
    assert events[CAMPAIGN_RELEASES["vip"].uri] == {"vip_create": len(RELEASED)}

    # the same release again changes nothing, so it tells no consumer anything
    again = load_dag("campaign_release").test(logical_date=_now(), run_conf={"targets": ["vip", "exstream"]})
    assert again.state == "success"
    with create_session() as session:
        repeated = session.execute(select(AssetEvent.id).where(AssetEvent.source_run_id == again.run_id)).all()
    assert repeated == []


_RUN_IN_A_FRESH_PROCESS = """
import sys
from datetime import UTC, datetime

from e2e.project_dags import load_dag

run = load_dag("campaign_release").test(
    logical_date=datetime.now(UTC).replace(microsecond=0), run_conf={"targets": ["vip"]}
)
sys.exit(0 if run.state == "success" else 1)
"""


def test_the_openlineage_provider_emits_the_hooks_lineage(
    airflow_db: Path, env: dict[str, Any], tmp_path: Path
) -> None:
    """The provider as a deployment configures it: a transport set before Airflow starts (so its
    plugin registers the hook-lineage reader and the listener), here the file transport.

    A worker runs each task in a process of its own; dag.test() runs them all in one, whose
    collector keeps what earlier tasks reported, so a task's event here may also list its
    predecessors' datasets: the checks are what each task must list at least."""
    events_file = tmp_path / "openlineage.jsonl"
    transport = {"type": "file", "log_file_path": str(events_file), "append": True}
    environment = {
        **os.environ,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "contentops-test",
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",  # emitted before the task ends, no forked child
        # the tests' folder (for e2e.project_dags), and not the working directory: the source tree's
        # egg-info there would list this package's entry points twice
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _RUN_IN_A_FRESH_PROCESS],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    completed = {e["job"]["name"]: e for e in events if e.get("eventType") == "COMPLETE" and "." in e["job"]["name"]}
    deliver = next(e for name, e in completed.items() if name.endswith(".deliver"))
    vip = _host(env["vip"])
    outputs = {(d["namespace"], d["name"]) for d in deliver["outputs"]}
    media = {(f"vip://{vip}", f"items/{m['item_id']}/media/{m['ref']}") for m in env["vip"].context.store.all("media")}
    assert media and media <= outputs
    inputs = {(d["namespace"], d["name"]) for d in deliver["inputs"]}
    assert {("smintio://demo", f"assets/{asset}") for asset in RELEASED} <= inputs
    collect = next(e for name, e in completed.items() if name.endswith(".collect"))
    assert ("smintio://demo", f"campaigns/{CAMPAIGN}") in {(d["namespace"], d["name"]) for d in collect["inputs"]}
