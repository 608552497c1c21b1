"""vip_catalog_sync end to end (VIP-2, VIP-4): dag.test() against the VIP and Smint.io sandboxes.

Effects are asserted where they land: assets (and their files) in the Smint.io sandbox, media on
catalog items in the VIP sandbox, deliveries, quarantine and audit rows in the ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.e2e

SEEDED = 36
ITEM = "ITM-1001"  # the catalog item the spring visuals show
CHANGED_MASTER = "asset-spring-01"  # license 0: worldwide, online + print, ends in 7 days
EXPIRED_MASTER = "asset-spring-04"  # license 3: ended 10 days ago
REPLACED_MASTER = "asset-spring-02"
APPROVED_ENTRIES = {"vip-cat-001", "vip-cat-002", "vip-cat-003", "vip-cat-004", "vip-cat-005", "vip-cat-007"}


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": SEEDED})
    vip = connect("vip")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    # what an earlier campaign release left: version 1 of two masters, media of a VIP catalog item
    for asset_id in (CHANGED_MASTER, EXPIRED_MASTER):
        _given_delivered_to_vip(vip, ledger, asset_id)
    # since then both masters changed in Smint.io (a new version)
    for asset_id in (CHANGED_MASTER, EXPIRED_MASTER):
        asset = smintio.context.store.get("asset", asset_id)
        smintio.context.store.put(
            "asset",
            asset_id,
            {**asset, "version": 2, "metadata": {"headline": "new"}, "updated_at": datetime.now(UTC).isoformat()},
        )
    # VIP-side content beyond the seeded catalogue: an approved replacement of a Smint.io master,
    # a file that came from Smint.io, and an entry whose file name would escape its folder
    vip.admin(
        "PUT",
        "vip/catalog/vip-cat-007",
        json={
            "kind": "replacement",
            "title": "Spring visual 2, corrected logo",
            "file_name": "spring-02-corrected.png",
            "content_type": "image/png",
            "region": "emea",
            "replaces_asset_id": REPLACED_MASTER,
        },
    )
    vip.admin(
        "PUT",
        "vip/catalog/vip-cat-008",
        json={
            "title": "Spring visual 3 as distributed",
            "file_name": "spring-03.png",
            "content_type": "image/png",
            "smintio_asset_id": "asset-spring-03",
        },
    )
    vip.admin(
        "PUT",
        "vip/catalog/vip-cat-bad",
        json={"title": "Escaping file", "file_name": "../../etc/passwd", "content_type": "image/png"},
    )
    return {"smintio": smintio, "vip": vip, "ledger": ledger}


def _given_delivered_to_vip(vip: Any, ledger: Ledger, asset_id: str) -> None:
    vip.context.store.put(
        "media",
        f"{ITEM}/{asset_id}",
        {
            "ref": asset_id,
            "item_id": ITEM,
            "kind": "asset",
            "asset_id": asset_id,
            "version": 1,
            "file_name": f"{asset_id}.png",
            "content_type": "image/png",
            "status": "active",
            "approval_status": "approved",
            "campaign_tags": ["spring"],
            "available_to": ["rtl-001"],
            "usage_controls": {"regions": ["emea"], "channels": ["online"], "valid_until": None},
            "content": {"sha256": "0" * 64, "size": 10},
            "history": [],
        },
    )
    plan = ledger.plan("campaign_release", asset_id, 1, f"vip:{ITEM}")
    ledger.begin(plan)
    ledger.complete(plan.key, asset_id)


def _dag() -> Any:
    return load_dag("vip_catalog_sync")


def _run(as_of: datetime) -> Any:
    run = _dag().test(logical_date=as_of, run_conf={"as_of": as_of.isoformat()})
    assert run.state == "success"
    return run


def _registered(smintio: Any) -> dict[str, dict[str, Any]]:
    """Smint.io assets registered from VIP, by VIP entry id."""
    return {
        a["external_reference"].removeprefix("vip:"): a
        for a in smintio.context.store.all("asset")
        if str(a.get("external_reference", "")).startswith("vip:")
    }


def test_vip_content_becomes_smintio_assets_and_masters_stay_in_sync(airflow_db: Path, env: dict) -> None:
    smintio, vip, ledger = env["smintio"], env["vip"], env["ledger"]
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    first = _run(as_of)

    # VIP-2: every approved entry is one Smint.io asset with its file; drafts and Smint.io's own stay out
    registered = _registered(smintio)
    assert set(registered) == APPROVED_ENTRIES
    entries = {e["id"]: e for e in vip.context.store.all("catalog")}
    for entry_id, asset in registered.items():
        (binary,) = asset["binaries"]
        assert binary["sha256"] == entries[entry_id]["sha256"]  # the file VIP holds, streamed across
        assert asset["metadata"]["vip_version"] == entries[entry_id]["version"]
    assert registered["vip-cat-002"]["master_asset_id"] == registered["vip-cat-001"]["id"]  # localized of its master
    german = registered["vip-cat-002"]
    assert german["language"] == "de" and "vip:localized_version" in german["tags"]
    assert registered["vip-cat-005"]["master_asset_id"] == registered["vip-cat-004"]["id"]
    quarantined = ledger.quarantined(source="vip")
    assert [q.ref for q in quarantined] == ["vip-cat-bad"] and "file_name" in quarantined[0].reason
    assert ledger.lookup("asset", "vip", "vip-cat-003", "smintio") == registered["vip-cat-003"]["id"]

    # VIP-4: the approved replacement in VIP is written onto the Smint.io master it replaces
    replaced = smintio.context.store.get("asset", REPLACED_MASTER)
    assert replaced["metadata"]["vip_approved_replacement"] == "vip-cat-007"
    assert replaced["metadata"]["vip_replacement_asset"] == registered["vip-cat-007"]["id"]
    assert "vip:replacement-approved" in replaced["tags"]
    assert registered["vip-cat-007"]["master_asset_id"] == REPLACED_MASTER
    # VIP-4: the changed master's VIP media now holds version 2 and its file; the expired one is refused
    item = vip.context.store.get("media", f"{ITEM}/{CHANGED_MASTER}")
    assert item["version"] == 2 and item["status"] == "active"
    assert item["content"]["sha256"] == hashlib.sha256(images.png(f"{CHANGED_MASTER}-main:v2")).hexdigest()
    assert item["usage_controls"]["regions"] == ["emea"] and item["campaign_tags"] == ["spring"]  # controls kept
    assert [h["action"] for h in vip.context.store.history(kind="media", doc_id=f"{ITEM}/{CHANGED_MASTER}")] == [
        "put",
        "update",
        "content",
    ]
    assert vip.context.store.get("media", f"{ITEM}/{EXPIRED_MASTER}")["version"] == 1
    refused = [e for e in ledger.audit_trail(run_id=first.run_id) if e.action == "refused"]
    assert [e.subject for e in refused] == [EXPIRED_MASTER] and "expired" in refused[0].details["reason"]
    slots = {d.asset_id: d for d in ledger.deliveries(target_prefix="vip:")}
    assert slots[CHANGED_MASTER].version == "2" and slots[CHANGED_MASTER].pipeline == "campaign_release"
    assert slots[EXPIRED_MASTER].version == "1"
    assert ledger.run_summary("vip_catalog_sync", first.run_id)["counts"]

    # a re-run of the same window sends nothing again
    smintio_writes = len(smintio.context.store.history(kind="asset"))
    vip_writes = len(vip.context.store.history(kind="media"))
    again = _run(as_of)
    assert ledger.effects(run_id=again.run_id) == []
    assert len(smintio.context.store.history(kind="asset")) == smintio_writes
    assert len(vip.context.store.history(kind="media")) == vip_writes
    assert len(ledger.quarantined(source="vip")) == 2  # the bad entry again, with this run's id

    # a new version of an entry updates its asset (new file), it does not add a second one;
    # an entry VIP withdrew is retired in Smint.io, once
    vip.admin("PUT", "vip/catalog/vip-cat-002", json={"title": "Spring key visual (German), final", "new_file": True})
    vip.admin("PUT", "vip/catalog/vip-cat-003", json={"status": "withdrawn"})
    later = as_of + timedelta(minutes=30)
    _run(later)
    _run(later)
    updated = _registered(smintio)
    assert set(updated) == APPROVED_ENTRIES
    assert updated["vip-cat-002"]["id"] == registered["vip-cat-002"]["id"]
    assert updated["vip-cat-002"]["name"] == "Spring key visual (German), final"
    new_sha = vip.context.store.get("catalog", "vip-cat-002")["sha256"]
    assert new_sha != entries["vip-cat-002"]["sha256"] and updated["vip-cat-002"]["binaries"][0]["sha256"] == new_sha
    french = registered["vip-cat-003"]["id"]
    assert smintio.context.store.get("asset", french)["approval_status"] == "retired"
    assert [h["action"] for h in smintio.context.store.history(kind="asset", doc_id=french)].count("retire") == 1
    assert {d.status for d in ledger.deliveries(asset_id="vip-cat-003")} == {"withdrawn"}


def test_a_dry_run_changes_nothing(airflow_db: Path, env: dict) -> None:
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    run = _dag().test(logical_date=as_of, run_conf={"as_of": as_of.isoformat(), "dry_run": True})
    assert run.state == "success"
    assert _registered(env["smintio"]) == {}
    assert env["vip"].context.store.get("media", f"{ITEM}/{CHANGED_MASTER}")["version"] == 1
    assert env["ledger"].effects() and all(e["pipeline"] == "campaign_release" for e in env["ledger"].effects())
