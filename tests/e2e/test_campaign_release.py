"""campaign_release end to end: dag.test() against the Smint.io, Workflow, VIP, Trading Grid and
Exstream sandboxes; effects asserted where they land (sandbox state) and in the ledger.

The demo campaign ``spring-launch-2027`` has twelve assets, linked in order to the seeded
licenses (asset-spring-0N <-> license N-1, license 11 is not syncable so 12 takes license 12):

| asset | license situation | released? |
|---|---|---|
| 01, 12 | worldwide, online + print, ends in 7 days | yes |
| 02 | europe only, online | no: the regions asked for are not licensed |
| 03 | worldwide, any channel, ends in 90 days | yes |
| 04 | expired | no |
| 05 | europe, gb restricted | no |
| 06 | social media only | no: channel |
| 07 | download limit reached | no |
| 08 | 12 of 500 downloads | yes |
| 09 | unknown regions / channels | no (unknown is never allowed) |
| 10 | perpetual | yes |
| 11 | editorial use only | no |

01-08 are approved; 09-12 are drafts and go through the approval workflow first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contentops.ledger import Ledger
from contentops_sandbox.connections import (
    exstream_connection,
    opentext_workflow_connection,
    smintio_connection,
    trading_grid_connection,
    vip_connection,
)

pytestmark = pytest.mark.e2e

SEEDED = 24
CAMPAIGN = "spring-launch-2027"
PACKAGE = f"campaign-{CAMPAIGN}"
KIT = f"kit-{CAMPAIGN}"
RELEASED = {"asset-spring-01", "asset-spring-03", "asset-spring-08", "asset-spring-10", "asset-spring-12"}
DRAFTS = {"asset-spring-09", "asset-spring-10", "asset-spring-11", "asset-spring-12"}
REGION_REFUSED = "asset-spring-02"  # licensed for europe only: emea and north_america are not covered


@pytest.fixture
def env(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    systems = {
        "smintio": sandbox("smintio", options={"seeded_transactions": SEEDED}),
        "workflow": sandbox("workflow"),
        "vip": sandbox("vip"),
        "grid": sandbox("trading_grid"),
        "exstream": sandbox("exstream"),
    }
    systems["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "asset_approval": {"outcome": "approved", "after_seconds": 0},
            "client_approval_northwind": {"outcome": "approved", "after_seconds": 0},
        },
    )
    connections = {
        "SMINTIO_DEFAULT": smintio_connection(systems["smintio"].url, backoff_max=0.05),
        "OPENTEXT_WORKFLOW_DEFAULT": opentext_workflow_connection(systems["workflow"].url, backoff_max=0.05),
        "VIP_DEFAULT": vip_connection(systems["vip"].url, backoff_max=0.05),
        "OPENTEXT_TRADING_GRID_DEFAULT": trading_grid_connection(systems["grid"].url, backoff_max=0.05),
        "OPENTEXT_EXSTREAM_DEFAULT": exstream_connection(systems["exstream"].url, backoff_max=0.05),
    }
    for name, conn in connections.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{name}", json.dumps(conn))
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": ledger_url}})
    )
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    return {**systems, "ledger": ledger}


def _dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    path = Path(__file__).resolve().parents[2] / "dags" / "campaign_release.py"
    dag = DagBag(dag_folder=str(path)).dags["campaign_release"]
    for task in dag.tasks:
        task.retries = 0  # a failure here is a finding, not something to wait minutes for
    return dag


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _vip_items(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["asset_id"]: i for i in env["vip"].context.store.all("item") if i["package"] == PACKAGE}


def _kits(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["community"]: p for p in env["grid"].context.store.all("post") if p["ref"] == KIT}


def _resources(env: dict[str, Any], domain: str = "retail") -> dict[str, dict[str, Any]]:
    return {
        r["metadata"]["source_asset"]: r
        for r in env["exstream"].context.store.all("resource")
        if r["domain"] == domain and (r.get("metadata") or {}).get("source_asset")
    }


def test_default_params_release_the_demo_campaign_to_every_target(airflow_db: Path, env: dict[str, Any]) -> None:
    run = _dag().test(logical_date=_now(), run_conf={"poll_interval": 1})
    assert run.state == "success"
    ledger: Ledger = env["ledger"]

    # OWS-1: the drafts went through one approval workflow each, the outcome is in Smint.io
    instances = env["workflow"].context.store.all("instance")
    assert {i["variables"]["asset_id"] for i in instances} == DRAFTS
    assert {i["processDefinitionKey"] for i in instances} == {"asset_approval"}
    assets = {a["id"]: a for a in env["smintio"].context.store.all("asset")}
    assert all(assets[a]["approval_status"] == "approved" for a in DRAFTS)

    # VIP-1/3/5/8: one package, one item per released asset, with its controls and file
    package = env["vip"].context.store.get("package", PACKAGE)
    assert package and package["campaign"] == CAMPAIGN and package["recipients"]
    items = _vip_items(env)
    assert set(items) == RELEASED
    item = items["asset-spring-03"]
    assert item["usage_controls"]["regions"] == ["emea", "north_america"]
    assert item["usage_controls"]["channels"] == ["online"]
    assert item["usage_controls"]["valid_until"]  # the license's end travels with the item
    assert f"campaign:{CAMPAIGN}" in item["campaign_tags"] and item["approval_status"] == "approved"
    assert "license" in item["license_summary"] and item["content"]["size"] > 0
    assert items["asset-spring-10"]["usage_controls"]["valid_until"] is None  # perpetual

    # OTG-1/5: a launch kit per community of the campaign's regions, addressed to its partners
    kits = _kits(env)
    assert set(kits) == {"community-emea", "community-north_america"}
    for kit in kits.values():
        assert kit["kind"] == "launch_kit" and set(kit["asset_ids"]) == RELEASED
        assert set(kit["attachments"]) == RELEASED and kit["partners"]

    # EXS-1/2/4: approved image resources with rights metadata Exstream picks images by
    resources = _resources(env)
    assert set(resources) == RELEASED
    assert {r["state"] for r in resources.values()} == {"APPROVED"}
    meta = resources["asset-spring-01"]["metadata"]
    assert meta["campaign"] == CAMPAIGN and meta["segments"] and meta["regions"] == ["emea", "north_america"]
    assert meta["valid_until"]

    # refusals with reasons; the region-refused asset went nowhere
    refusals = [e for e in ledger.audit_trail(run_id=run.run_id) if e.action == "refused"]
    about = [e for e in refusals if e.subject == REGION_REFUSED]
    assert about and all("region" in (e.details or {}).get("reason", "") for e in about)
    assert ledger.where_did_it_go(REGION_REFUSED) == []
    # the ledger says where each released asset went, under the names the rights sweep reads
    targets = {d.target for d in ledger.where_did_it_go("asset-spring-08")}
    assert targets == {
        f"vip:{PACKAGE}",
        "trading_grid:community-emea",
        "trading_grid:community-north_america",
        "exstream:retail",
    }
    summary = ledger.run_summary("campaign_release", run.run_id)
    assert summary and Path(summary["report_path"]).is_file()
