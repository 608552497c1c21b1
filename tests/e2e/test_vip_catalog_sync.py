"""vip_catalog_sync end to end (VIP-2, VIP-4): dag.test() against the VIP and Smint.io sandboxes.

Effects are asserted where they land: assets (and their files) in the Smint.io sandbox, media on
catalog items in the VIP sandbox, deliveries, quarantine and audit rows in the ledger.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e.given import vip_media_released
from e2e.project_dags import load_dag

from contentops.config import PROJECT_CONFIG_DIR
from contentops.ledger import Ledger
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.e2e

SEEDED = 36
ITEM = "ITM-1001"  # the catalog item the spring visuals show
CAMPAIGN = "spring-launch-2027"
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


def _given_delivered_to_vip(
    vip: Any, ledger: Ledger, asset_id: str, item: str = ITEM, regions: tuple[str, ...] = ("emea",)
) -> None:
    """What campaign_release leaves: version 1 of the asset as media of a catalog item, and its ledger slot."""
    vip_media_released(vip, asset_id, item, regions=regions, campaign_tags=(f"campaign:{CAMPAIGN}",), ledger=ledger)


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
    assert item["usage_controls"]["regions"] == ["emea"] and item["available_to"] == ["rtl-001"]  # release's kept
    assert item["campaign_tags"] == [f"campaign:{CAMPAIGN}"]
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


def _changed_in_smintio(smintio: Any, asset_id: str, **fields: Any) -> dict[str, Any]:
    """A change to a Smint.io asset as the Portals backend makes it: a new version, now."""
    asset = smintio.context.store.get("asset", asset_id)
    changed = {**asset, **fields, "version": asset["version"] + 1, "updated_at": datetime.now(UTC).isoformat()}
    smintio.context.store.put("asset", asset_id, changed)
    return changed


def _media(vip: Any, item: str, asset_id: str) -> dict[str, Any]:
    return vip.context.store.get("media", f"{item}/{asset_id}")


def _day(value: str | None) -> str:
    assert value is not None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()


def test_a_changed_master_brings_its_metadata_tags_and_license_end_to_its_vip_copies(
    airflow_db: Path, env: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """VIP-4, Smint.io -> VIP: what changed on the master reaches the media campaign_release delivered."""
    smintio, vip, ledger = env["smintio"], env["vip"], env["ledger"]
    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    mapping = config / "mappings" / "vip_media.yaml"
    described = yaml.safe_load(mapping.read_text())
    described.update(
        campaign_tag_prefixes=["campaign:", "season:"], attributes={"name": "title", "metadata.headline": "headline"}
    )
    mapping.write_text(yaml.safe_dump(described))
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(config))
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    _run(as_of)  # the fixture's version 2 reaches the media; the license's end comes with it
    license_ref = smintio.context.store.get("asset", CHANGED_MASTER)["license_purchase_transaction_uuid"]
    lpt_end = smintio.context.store.get("lpt", license_ref)["license_terms"][0]["valid_until"]
    media = _media(vip, ITEM, CHANGED_MASTER)
    assert media["version"] == 2 and _day(media["usage_controls"]["valid_until"]) == _day(lpt_end)

    # in Smint.io the master is renamed, its headline rewritten, tagged for a season, its license renewed
    renewed = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)
    smintio.admin("POST", f"smintio/lpt/{license_ref}", json={"valid_until": renewed.isoformat()})
    master = smintio.context.store.get("asset", CHANGED_MASTER)
    master = _changed_in_smintio(
        smintio,
        CHANGED_MASTER,
        name="Spring visual 1, recut",
        metadata={**master["metadata"], "headline": "newer"},
        tags=[*master["tags"], "season:spring"],
    )
    later = as_of + timedelta(minutes=30)
    second = _run(later)

    media = _media(vip, ITEM, CHANGED_MASTER)
    assert media["version"] == master["version"] and media["status"] == "active"
    assert media["attributes"] == {"title": "Spring visual 1, recut", "headline": "newer"}
    assert media["campaign_tags"] == [f"campaign:{CAMPAIGN}", "season:spring"]
    assert _day(media["usage_controls"]["valid_until"]) == renewed.date().isoformat()
    assert renewed.date().isoformat() in media["license_summary"]
    # what the release decided stays: regions, channels, parties, approval status
    assert media["usage_controls"]["regions"] == ["emea"] and media["usage_controls"]["channels"] == ["online"]
    assert media["available_to"] == ["rtl-001"] and media["approval_status"] == "approved"
    (slot,) = ledger.deliveries(asset_id=CHANGED_MASTER, target_prefix="vip:")
    assert slot.version == str(master["version"]) and slot.pipeline == "campaign_release"
    assert slot.status == "delivered" and slot.license_ref == license_ref
    updated = [e for e in ledger.audit_trail(run_id=second.run_id) if e.action == "item_updated"]
    assert [e.subject for e in updated] == [CHANGED_MASTER]

    # once per change: a re-run writes nothing
    writes = len(vip.context.store.history(kind="media", doc_id=f"{ITEM}/{CHANGED_MASTER}"))
    again = _run(later)
    assert ledger.effects(run_id=again.run_id) == []
    assert len(vip.context.store.history(kind="media", doc_id=f"{ITEM}/{CHANGED_MASTER}")) == writes


def test_a_master_unapproved_in_smintio_withdraws_its_vip_copies(airflow_db: Path, env: dict) -> None:
    """VIP-4: un-approved in Smint.io, the master's VIP copies are withdrawn (delivery_compliance's
    path: withdrawn and held), once; approved again, delivery_compliance gives them back."""
    smintio, vip, ledger = env["smintio"], env["vip"], env["ledger"]
    _given_delivered_to_vip(vip, ledger, CHANGED_MASTER, item="ITM-1002")
    _changed_in_smintio(smintio, CHANGED_MASTER, approval_status="in_review")
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    first = _run(as_of)

    for item in (ITEM, "ITM-1002"):
        assert _media(vip, item, CHANGED_MASTER)["status"] == "withdrawn"
    slots = ledger.deliveries(asset_id=CHANGED_MASTER, target_prefix="vip:")
    assert {(d.target, d.status) for d in slots} == {(f"vip:{ITEM}", "withdrawn"), ("vip:ITM-1002", "withdrawn")}
    holds = ledger.holds(asset_id=CHANGED_MASTER)
    assert {h.target for h in holds} == {f"vip:{ITEM}", "vip:ITM-1002"} and {h.cause for h in holds} == {"approval"}
    withdrawn = [
        e
        for e in ledger.audit_trail(run_id=first.run_id)
        if e.action == "withdrawn" and e.pipeline == "vip_catalog_sync"
    ]
    assert sorted(e.details["target"] for e in withdrawn) == ["vip:ITM-1001", "vip:ITM-1002"]
    assert all("in_review in Smint.io" in e.details["reason"] for e in withdrawn)

    # once: a re-run withdraws nothing again
    writes = len(vip.context.store.history(kind="media"))
    again = _run(as_of)
    assert ledger.effects(run_id=again.run_id) == []
    assert len(vip.context.store.history(kind="media")) == writes

    # approved again: the held copies come back through delivery_compliance, the one path
    _changed_in_smintio(smintio, CHANGED_MASTER, approval_status="approved")
    today = datetime.now(UTC)
    restored = load_dag("delivery_compliance").test(logical_date=today, run_conf={"as_of": today.isoformat()})
    assert restored.state == "success"
    for item in (ITEM, "ITM-1002"):
        assert _media(vip, item, CHANGED_MASTER)["status"] == "active"


def test_an_approved_replacement_in_vip_supersedes_its_master_and_the_masters_copies_follow(
    airflow_db: Path, env: dict
) -> None:
    """VIP-4, VIP -> Smint.io -> VIP: the approved replacement becomes the master's new version in
    Smint.io, and the master's media on the other catalog items get that version, once each."""
    smintio, vip, ledger = env["smintio"], env["vip"], env["ledger"]
    items = ("ITM-1002", "ITM-2001")  # the master's copies (license 1 covers Europe, online)
    for item in items:
        _given_delivered_to_vip(vip, ledger, REPLACED_MASTER, item=item, regions=("dach",))
    before = smintio.context.store.get("asset", REPLACED_MASTER)
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    first = _run(as_of)

    entry = vip.context.store.get("catalog", "vip-cat-007")
    master = smintio.context.store.get("asset", REPLACED_MASTER)
    assert master["version"] > before["version"] and master["approval_status"] == "approved"
    assert master["binaries"][0]["sha256"] == entry["sha256"]  # the replacement's file is the master's now
    assert master["metadata"]["superseded_by_vip_entry"] == "vip-cat-007"
    assert master["metadata"]["superseded_by_vip_version"] == entry["version"]
    for item in items:
        media = _media(vip, item, REPLACED_MASTER)
        assert media["version"] == master["version"] and media["status"] == "active"
        assert media["content"]["sha256"] == entry["sha256"]
    slots = ledger.deliveries(asset_id=REPLACED_MASTER, target_prefix="vip:")
    assert {(d.target, d.version, d.pipeline) for d in slots} == {
        (f"vip:{item}", str(master["version"]), "campaign_release") for item in items
    }
    (superseded,) = ledger.deliveries(asset_id=REPLACED_MASTER, target_prefix="smintio:superseded")
    assert superseded.version == f"vip-cat-007:v{entry['version']}" and superseded.status == "delivered"
    assert [e.subject for e in ledger.audit_trail(run_id=first.run_id) if e.action == "master_superseded"] == [
        REPLACED_MASTER
    ]

    # once: a re-run supersedes nothing and updates no copy again
    smintio_writes = len(smintio.context.store.history(kind="asset", doc_id=REPLACED_MASTER))
    vip_writes = len(vip.context.store.history(kind="media"))
    again = _run(as_of)
    assert ledger.effects(run_id=again.run_id) == []
    assert len(smintio.context.store.history(kind="asset", doc_id=REPLACED_MASTER)) == smintio_writes
    assert len(vip.context.store.history(kind="media")) == vip_writes

    # a corrected replacement (new file in VIP) supersedes the master once more, and the copies follow
    vip.admin("PUT", "vip/catalog/vip-cat-007", json={"title": "Spring visual 2, corrected again", "new_file": True})
    later = as_of + timedelta(minutes=30)
    _run(later)
    _run(later)
    entry = vip.context.store.get("catalog", "vip-cat-007")
    master = smintio.context.store.get("asset", REPLACED_MASTER)
    assert master["binaries"][0]["sha256"] == entry["sha256"]
    uploads = [h["action"] for h in smintio.context.store.history(kind="asset", doc_id=REPLACED_MASTER)]
    assert uploads.count("content") == 2
    for item in items:
        media = _media(vip, item, REPLACED_MASTER)
        assert media["version"] == master["version"] and media["content"]["sha256"] == entry["sha256"]
