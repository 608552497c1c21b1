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


def _effects_by_key(ledger: Ledger) -> dict[str, int]:
    return {e["idempotency_key"]: e["attempts"] for e in ledger.effects()}


def test_an_unapproved_asset_is_released_only_if_its_workflow_approves_it(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    env["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "asset_approval": {
                "outcome": "approved",
                "after_seconds": 0,
                "by_variable": {"asset_id": {"asset-spring-10": "rejected"}},
            }
        },
    )
    run = _dag().test(logical_date=_now(), run_conf={"poll_interval": 1, "targets": ["vip"]})
    assert run.state == "success"
    assets = {a["id"]: a for a in env["smintio"].context.store.all("asset")}
    assert assets["asset-spring-10"]["approval_status"] == "rejected"  # OWS-1: the outcome is in Smint.io
    assert assets["asset-spring-12"]["approval_status"] == "approved"
    assert assets["asset-spring-12"]["approval_history"][-1]["comment"].startswith("Approval workflow")
    items = _vip_items(env)
    assert "asset-spring-12" in items and "asset-spring-10" not in items
    assert env["ledger"].where_did_it_go("asset-spring-10") == []
    reasons = [
        (e.details or {}).get("reason", "")
        for e in env["ledger"].audit_trail(subject="asset-spring-10")
        if e.action == "refused"
    ]
    assert any("rejected" in reason for reason in reasons)

    # a second trigger starts no second workflow and delivers nothing twice
    again = _dag().test(logical_date=_now(), run_conf={"poll_interval": 1, "targets": ["vip"]})
    assert again.state == "success"
    assert len(env["workflow"].context.store.all("instance")) == len(DRAFTS)
    creates = [h for h in env["vip"].context.store.history(kind="item") if h["action"] == "create"]
    assert len(creates) == len(items)


def test_a_target_failing_on_the_first_run_gets_only_what_is_missing_on_the_next(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    env["exstream"].set_faults(error_rate=1.0)  # Exstream is down for the whole first run
    first = _dag().test(logical_date=_now(), run_conf={"poll_interval": 1})
    assert first.state == "failed"
    assert set(_vip_items(env)) == RELEASED and set(_kits(env)) == {"community-emea", "community-north_america"}
    assert _resources(env) == {}
    ledger: Ledger = env["ledger"]
    assert ledger.run_summary("campaign_release", first.run_id)  # the report is written even so
    effects_before = _effects_by_key(ledger)

    env["exstream"].set_faults()
    second = _dag().test(logical_date=_now(), run_conf={"poll_interval": 1})
    assert second.state == "success"
    assert set(_resources(env)) == RELEASED
    # nothing went twice: one item creation per VIP item, one attachment per kit and asset,
    # one upload per Exstream resource, no effect of the first run sent again
    vip_history = env["vip"].context.store.history(kind="item")
    assert len([h for h in vip_history if h["action"] == "create"]) == len(RELEASED)
    assert len([h for h in vip_history if h["action"] == "content"]) == len(RELEASED)
    attachments = [h for h in env["grid"].context.store.history(kind="post") if h["action"] == "attachment"]
    assert len(attachments) == 2 * len(RELEASED)
    uploads = [h for h in env["exstream"].context.store.history(kind="resource") if h["action"] == "upload"]
    assert len(uploads) == len(RELEASED)
    after = _effects_by_key(ledger)
    done_before = {e["idempotency_key"] for e in ledger.effects() if e["run_id"] == first.run_id}
    assert all(after[key] == effects_before[key] for key in done_before if key in effects_before)
    assert len(env["workflow"].context.store.all("instance")) == len(DRAFTS)  # no second approval


def test_a_new_asset_version_updates_what_was_delivered(airflow_db: Path, env: dict[str, Any]) -> None:
    first = _dag().test(logical_date=_now(), run_conf={"poll_interval": 1})
    assert first.state == "success"
    smintio = env["smintio"].context.store
    asset = smintio.get("asset", "asset-spring-03")
    smintio.put("asset", asset["id"], {**asset, "version": asset["version"] + 1, "name": "spring visual 3, recut"})
    old_content = _vip_items(env)["asset-spring-03"]["content"]["sha256"]

    second = _dag().test(logical_date=_now(), run_conf={"poll_interval": 1})
    assert second.state == "success"
    items = _vip_items(env)
    assert set(items) == RELEASED  # an update of the item, not a second one
    item = env["vip"].context.store.get("item", f"{PACKAGE}/asset-spring-03")
    assert item["version"] == asset["version"] + 1
    assert [h["version"] for h in item["history"]] == [asset["version"]]
    assert item["content"]["sha256"] != old_content  # the new version's file was uploaded
    resource = _resources(env)["asset-spring-03"]
    assert resource["version"] == 2 and resource["state"] == "APPROVED"
    assert resource["metadata"]["asset_version"] == asset["version"] + 1
    assert len(_resources(env)) == len(RELEASED)
    slots = {d.target: d.version for d in env["ledger"].where_did_it_go("asset-spring-03")}
    assert set(slots.values()) == {str(asset["version"] + 1)}
    updates = [e for e in env["ledger"].effects(run_id=second.run_id) if e["action"] == "update"]
    assert {e["asset_id"] for e in updates} == {"asset-spring-03"}
    assert len(updates) == 4  # VIP, two communities, Exstream
