"""title_metadata_push end to end (CON-1, CON-3, CON-4, CON-5, CON-6, CON-7, CON-8): dag.test()
against the Smint.io and Consonance sandboxes.

Effects are asserted where they land: metadata and tags on the assets and retirements in the
Smint.io sandbox; supporting resources (with usage rights) and format pairings on the title
records in the Consonance sandbox; refusals, quarantine and cross-references in the ledger.

The stage: Smint.io's book assets (cover, jacket, author photo, promo graphic) carry the print
ISBNs of Consonance's works 1001 to 1012. Work 1001 publishes in two days (print + ebook); work
1003 was revised (a new print edition) and gets a new jacket in Smint.io; a malformed work
arrives in the same window.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e.project_dags import load_dag

from contentops.config import PROJECT_CONFIG_DIR
from contentops.ledger import Ledger
from contentops_sandbox.consonance import seed as consonance_seed
from contentops_sandbox.smintio import seed as smintio_seed

pytestmark = pytest.mark.e2e

DAG_ID = "title_metadata_push"
SEEDED_LICENSES = 36
LAUNCH_WORK, LAUNCH_ISBN = "1001", consonance_seed.isbn13(1)  # print + ebook, out in 2 days
REVISED_WORK, REVISED_ISBN = "1003", consonance_seed.isbn13(3)  # revised: a new print edition
QUIET_ISBN = consonance_seed.isbn13(2)  # work 1002: not in this run's scope
BROKEN_WORK = "1999"
NEW_JACKET = f"asset-book-{REVISED_ISBN}-jacket-rev2"
WORLDWIDE = {"allowed_geographies": ["worldwide"], "restricted_geographies": [], "allowed_distributions": ["any"]}


def book_asset(isbn: str, role: str) -> str:
    return f"asset-book-{isbn}-{role}"


def _dag() -> Any:
    return load_dag(DAG_ID)


def _window(run_after: datetime) -> tuple[datetime, datetime]:
    """The data interval of a manual run at ``run_after`` (hourly at :15): the last full hour."""
    end = run_after.replace(minute=15, second=0, microsecond=0)
    if end > run_after:
        end -= timedelta(hours=1)
    return end - timedelta(hours=1), end


def _set_license(smintio: Any, asset_id: str, **term: Any) -> None:
    """Give the asset's license exactly these terms (it re-enters the license feed)."""
    lpt = smintio.context.store.get("asset", asset_id)["license_purchase_transaction_uuid"]
    base = {"valid_from": None, "valid_until": None, "to_be_used_until": None, "is_editorial_use": False}
    terms = [{**smintio_seed._term(1), **base, **term}]
    smintio.admin("POST", f"smintio/lpt/{lpt}", json={"license_terms": terms, "license_download_constraints": {}})


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": SEEDED_LICENSES})
    consonance = connect("consonance")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    dag = _dag()
    run_after = datetime.now(UTC)
    start, end = _window(run_after)
    in_window = (end - timedelta(minutes=10)).isoformat()

    # the launch title (sold in gb and ie): cover and jacket cleared worldwide for any channel;
    # the author photo's license covers the US only
    for role in ("cover", "jacket"):
        _set_license(smintio, book_asset(LAUNCH_ISBN, role), **WORLDWIDE)
    _set_license(smintio, book_asset(LAUNCH_ISBN, "author_photo"), **{**WORLDWIDE, "allowed_geographies": ["us"]})

    # the revised title changed in this window; its jacket is cleared worldwide
    consonance.admin("PATCH", f"consonance/works/{REVISED_WORK}", json={"updatedAt": in_window})
    _set_license(smintio, book_asset(REVISED_ISBN, "jacket"), **WORLDWIDE)

    # a malformed title in the same window: an ISBN with a wrong check digit
    broken_isbn = consonance_seed.isbn13(777)[:-1] + str((int(consonance_seed.isbn13(777)[-1]) + 1) % 10)
    consonance.admin(
        "PUT",
        f"consonance/works/{BROKEN_WORK}",
        json={
            "title": "The Misprinted Atlas",
            "updatedAt": in_window,
            "contributions": [],
            "subjectCodes": [],
            "seriesMemberships": [],
            "lifecycleEvents": [],
            "products": [
                {
                    "id": "59991",
                    "__typename": "PhysicalBookProduct",
                    "fullTitle": "The Misprinted Atlas",
                    "isbn": {"isbn13": broken_isbn},
                    "publicationDate": (run_after + timedelta(days=40)).date().isoformat(),
                    "onix21ProductFormCode": "BB",
                    "onixEditionTypeCodes": [],
                }
            ],
        },
    )
    return {
        "smintio": smintio,
        "consonance": consonance,
        "ledger": ledger,
        "dag": dag,
        "run_after": run_after,
        "window": (start, end),
    }


def _approve_new_jacket(smintio: Any, at: datetime) -> None:
    """A new jacket for the revised edition, approved in Smint.io at ``at`` (licensed worldwide)."""
    old_jacket = smintio.context.store.get("asset", book_asset(REVISED_ISBN, "jacket"))
    smintio.context.store.put(
        "asset",
        NEW_JACKET,
        {
            **old_jacket,
            "id": NEW_JACKET,
            "version": 1,
            "name": "Jacket for the revised edition",
            "tags": [f"isbn:{REVISED_ISBN}"],
            "metadata": {"asset_role": "jacket", "format": "print", "isbn": REVISED_ISBN, "edition_number": 2},
            "created_at": at.isoformat(),
            "updated_at": at.isoformat(),
        },
    )
    _set_license(smintio, NEW_JACKET, **WORLDWIDE)


def _assets(smintio: Any) -> dict[str, dict[str, Any]]:
    return {a["id"]: a for a in smintio.context.store.all("asset")}


def _resources(consonance: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["workId"], r["assetId"]): r for r in consonance.context.store.all("supporting_resource")}


def _pairings(consonance: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["productId"], p["assetId"]): p for p in consonance.context.store.all("format_asset_pairing")}


def _actions(ledger: Ledger, run_id: str) -> dict[tuple[str, str], Any]:
    return {(e.subject, e.action): e for e in ledger.audit_trail(run_id=run_id, pipeline=DAG_ID)}


def test_titles_and_assets_meet_once_rights_gated(airflow_db: Path, env: dict[str, Any]) -> None:
    smintio, consonance, ledger = env["smintio"], env["consonance"], env["ledger"]
    run = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 5})
    assert run.state == "success"
    assert (run.data_interval_start, run.data_interval_end) == env["window"]
    assets = _assets(smintio)
    launch = {role: assets[book_asset(LAUNCH_ISBN, role)] for role in smintio_seed.BOOK_ROLES}

    # CON-4 / CON-7: the title approaching publication is on its assets, per edition
    cover, jacket = launch["cover"], launch["jacket"]
    assert cover["metadata"]["book_title"] == jacket["metadata"]["book_title"] != ""
    assert cover["metadata"]["consonance_work_id"] == LAUNCH_WORK
    assert cover["metadata"]["format"] == "ebook" and cover["metadata"]["isbn"] == consonance_seed.isbn13(100001)
    assert jacket["metadata"]["format"] == "print" and jacket["metadata"]["isbn"] == LAUNCH_ISBN
    assert jacket["metadata"]["publication_phase"] == "prepublication"
    assert jacket["metadata"]["imprint"] and jacket["metadata"]["authors"]
    assert jacket["metadata"]["bisac_subjects"][0]["code"]
    work = consonance.context.store.get("work", LAUNCH_WORK)
    assert jacket["metadata"]["campaign"] == work["campaign"]
    assert jacket["metadata"]["campaign_milestones"] == work["campaignMilestones"]  # cover reveal .. launch
    assert any(t.startswith("campaign:") for t in jacket["tags"])
    assert {f"isbn:{LAUNCH_ISBN}", "format:print"} <= set(jacket["tags"])
    assert any(t.startswith("imprint:") for t in jacket["tags"]) and any(
        t.startswith("author:") for t in jacket["tags"]
    )
    assert any(t.startswith("bisac:") for t in jacket["tags"])
    # ... and on no other title's assets, nor on anything that is not a book asset
    assert all("book_title" not in assets[book_asset(QUIET_ISBN, role)]["metadata"] for role in smintio_seed.BOOK_ROLES)
    assert all("book_title" not in a["metadata"] for a in assets.values() if not a["id"].startswith("asset-book-"))

    # CON-1 / CON-5 / CON-6: approved assets on the right title, paired with the right edition
    resources = _resources(consonance)
    pairings = _pairings(consonance)
    ebook_product, print_product = consonance_seed.product_id(1, 2), consonance_seed.product_id(1, 1)
    cover_resource = resources[(LAUNCH_WORK, cover["id"])]
    assert cover_resource["productIds"] == [ebook_product] and cover_resource["resourceType"] == "cover"
    assert cover_resource["usageRights"]["licenseReference"] == cover["license_purchase_transaction_uuid"]
    assert cover_resource["usageRights"]["territories"] == ["worldwide"]
    assert resources[(LAUNCH_WORK, jacket["id"])]["productIds"] == [print_product]
    release = consonance.context.store.get("product", print_product)["publicationDate"]
    assert pairings[(print_product, jacket["id"])]["releaseDate"] == release
    assert pairings[(ebook_product, cover["id"])]["role"] == "cover"
    assert {asset for (work, asset) in resources if work == LAUNCH_WORK} == {cover["id"], jacket["id"]}
    # the author photo's license does not cover the title's territories (gb, ie)
    actions = _actions(ledger, run.run_id)
    refusal = actions[(launch["author_photo"]["id"], "refused")]
    assert "region" in refusal.details["reason"]
    # the promo graphic is for the audio edition, which this title does not have
    assert (launch["promo"]["id"], "not_paired") in actions
    assert ledger.lookup("title", "smintio", cover["id"], "consonance") == LAUNCH_WORK

    # the revised title: its one approved jacket is current and paired with the revised edition
    old_jacket = assets[book_asset(REVISED_ISBN, "jacket")]
    assert "title:current" in old_jacket["tags"] and old_jacket["approval_status"] == "approved"
    revised_print = consonance_seed.product_id(3, 4)
    assert resources[(REVISED_WORK, old_jacket["id"])]["productIds"] == [revised_print]
    assert not [a for a in assets.values() if a["approval_status"] == "retired"]

    # the malformed title is quarantined with its reason; the others went through
    (quarantined,) = ledger.quarantined(source="consonance")
    assert quarantined.ref == BROKEN_WORK and "invalid ISBN" in quarantined.reason
    assert not [r for r in resources if r[0] == BROKEN_WORK]

    # a re-run of the same window changes nothing: no second attachment, no new asset version
    versions = {a["id"]: a["version"] for a in assets.values()}
    writes = len(consonance.context.store.history(kind="supporting_resource"))
    pairing_writes = len(consonance.context.store.history(kind="format_asset_pairing"))
    again = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 5})
    assert again.state == "success"
    assert {a["id"]: a["version"] for a in _assets(smintio).values()} == versions
    assert len(consonance.context.store.history(kind="supporting_resource")) == writes
    assert len(consonance.context.store.history(kind="format_asset_pairing")) == pairing_writes
    summary = ledger.run_summary(DAG_ID, again.run_id)
    assert summary and Path(summary["report_path"]).is_file()


def test_an_editor_attaches_an_approved_asset_to_a_title_on_request(airflow_db: Path, env: dict[str, Any]) -> None:
    """CON-3: the form names an ISBN and an asset; the asset lands on that edition of the title,
    rights permitting, is linked to the title in the ledger and then carries the title's metadata."""
    smintio, consonance, ledger = env["smintio"], env["consonance"], env["ledger"]
    ebook_isbn, ebook_product = consonance_seed.isbn13(100002), consonance_seed.product_id(2, 2)
    stock, expired = "asset-spring-01", "asset-spring-04"  # licensed stock; the second license has ended
    _set_license(smintio, stock, **WORLDWIDE)
    _set_license(smintio, expired, **{**WORLDWIDE, "valid_until": "2026-01-31"})

    run = env["dag"].test(logical_date=env["run_after"], run_conf={"isbn": ebook_isbn, "asset_id": stock})
    assert run.state == "success"
    resource = _resources(consonance)[("1002", stock)]
    assert resource["productIds"] == [ebook_product]
    assert (
        resource["usageRights"]["licenseReference"]
        == smintio.context.store.get("asset", stock)["license_purchase_transaction_uuid"]
    )
    assert _pairings(consonance)[(ebook_product, stock)]["assetId"] == stock
    assert ledger.lookup("title", "smintio", stock, "consonance") == "1002"
    # the same run then pushed the title onto it (matched through the ledger cross-reference)
    stock_asset = smintio.context.store.get("asset", stock)
    assert stock_asset["metadata"]["consonance_work_id"] == "1002"
    assert _actions(ledger, run.run_id)[(stock, "attached")].details["reason"] == f"on request for ISBN {ebook_isbn}"
    # ... and attached it once: the title's own attachment step leaves a requested asset alone
    assert [r["assetId"] for r in consonance.context.store.all("supporting_resource")].count(stock) == 1
    # only that title was in scope
    assert {r["workId"] for r in consonance.context.store.all("supporting_resource")} == {"1002"}

    refused = env["dag"].test(logical_date=env["run_after"], run_conf={"isbn": ebook_isbn, "asset_id": expired})
    assert refused.state == "success"
    assert ("1002", expired) not in _resources(consonance)
    reason = _actions(ledger, refused.run_id)[(expired, "refused")].details["reason"]
    assert "refused" in reason and "2026-01-31" in reason
    assert ledger.lookup("title", "smintio", expired, "consonance") is None

    # an ISBN no title has: refused with the reason, nothing else runs, the report is written
    unknown_isbn = consonance_seed.isbn13(999999)
    nowhere = env["dag"].test(logical_date=env["run_after"], run_conf={"isbn": unknown_isbn, "asset_id": stock})
    assert nowhere.state == "success"
    reason = _actions(ledger, nowhere.run_id)[(stock, "refused")].details["reason"]
    assert reason == f"no Consonance title has ISBN {unknown_isbn}"
    assert ledger.run_summary(DAG_ID, nowhere.run_id) is not None


def test_dry_run_decides_without_changing_anything(airflow_db: Path, env: dict[str, Any]) -> None:
    smintio, consonance, ledger = env["smintio"], env["consonance"], env["ledger"]
    versions = {a["id"]: a["version"] for a in smintio.context.store.all("asset")}
    run = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 5, "dry_run": True})
    assert run.state == "success"
    assert {a["id"]: a["version"] for a in smintio.context.store.all("asset")} == versions
    assert consonance.context.store.all("supporting_resource") == []
    assert consonance.context.store.all("format_asset_pairing") == []
    actions = _actions(ledger, run.run_id)
    assert (book_asset(LAUNCH_ISBN, "author_photo"), "refused") in actions  # decided all the same
    assert ledger.deliveries(pipeline=DAG_ID) == []


def test_a_revised_title_surfaces_the_new_asset_and_retires_only_the_old_one(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    """CON-8 (with CON-1's trigger from the Smint.io side): a new jacket approved in the next
    hour for the revised title replaces the old one in Smint.io and on the title record; a
    license renewed meanwhile updates its attachment instead of adding one."""
    smintio, consonance, ledger = env["smintio"], env["consonance"], env["ledger"]
    first = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 5})
    assert first.state == "success"
    old_jacket_id = book_asset(REVISED_ISBN, "jacket")
    cover_id = book_asset(LAUNCH_ISBN, "cover")
    before = _assets(smintio)
    cover_resource = _resources(consonance)[(LAUNCH_WORK, cover_id)]

    _, end = env["window"]
    _approve_new_jacket(smintio, end + timedelta(minutes=20))  # in the next window; the title itself is unchanged
    _set_license(smintio, cover_id, **{**WORLDWIDE, "valid_until": "2028-06-30"})
    second = env["dag"].test(logical_date=env["run_after"] + timedelta(hours=1), run_conf={"lead_days": 5})
    assert second.state == "success"
    assert second.data_interval_start == end

    assets = _assets(smintio)
    old_jacket, new_jacket = assets[old_jacket_id], assets[NEW_JACKET]
    assert old_jacket["approval_status"] == "retired" and old_jacket["metadata"]["superseded_by"] == NEW_JACKET
    assert "title:outdated" in old_jacket["tags"] and "title:current" not in old_jacket["tags"]
    assert new_jacket["approval_status"] == "approved" and "title:current" in new_jacket["tags"]
    assert new_jacket["metadata"]["consonance_work_id"] == REVISED_WORK  # the title's metadata came too
    # only that one: nothing else was retired; the title's other assets and every asset that is
    # not a book asset are as they were
    assert {a["id"] for a in assets.values() if a["approval_status"] == "retired"} == {old_jacket_id}
    untouched = {i for i in before if i.startswith(f"asset-book-{REVISED_ISBN}-") or not i.startswith("asset-book-")}
    untouched -= {old_jacket_id}
    assert len(untouched) > 30
    assert {i: assets[i]["version"] for i in untouched} == {i: before[i]["version"] for i in untouched}

    # on the title record: the new jacket is attached and paired with the revised edition; the
    # old one's resource says it is retired, and the ledger no longer counts it as delivered
    revised_print = consonance_seed.product_id(3, 4)
    resources = _resources(consonance)
    assert resources[(REVISED_WORK, NEW_JACKET)]["productIds"] == [revised_print]
    assert resources[(REVISED_WORK, old_jacket_id)]["resourceType"] == "retired"
    jacket_pairings = [p for p in consonance.context.store.all("format_asset_pairing") if p["role"] == "jacket"]
    assert {(p["productId"], p["assetId"]) for p in jacket_pairings if p["workId"] == REVISED_WORK} == {
        (revised_print, NEW_JACKET)
    }
    (old_delivery,) = [d for d in ledger.where_did_it_go(old_jacket_id) if d.target == f"consonance:{REVISED_WORK}"]
    assert old_delivery.status == "withdrawn"
    assert (old_jacket_id, "retired") in _actions(ledger, second.run_id)

    # the renewed cover license updated the cover's one resource, not a second one
    renewed = _resources(consonance)[(LAUNCH_WORK, cover_id)]
    assert renewed["id"] == cover_resource["id"]
    assert renewed["usageRights"]["validUntil"].startswith("2028-06-30")
    assert [r["assetId"] for r in consonance.context.store.all("supporting_resource")].count(cover_id) == 1


def _decisions(ledger: Ledger, run_id: str) -> dict[tuple[str, str], Any]:
    """The run's decisions by (asset, target): an asset can be decided for a title and a task alike."""
    return {(e.subject, (e.details or {}).get("target")): e for e in ledger.audit_trail(run_id=run_id, pipeline=DAG_ID)}


def test_an_editor_attaches_an_approved_asset_to_a_production_task_or_manuscript_on_request(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    """CON-3: the form names an asset and a production task (or manuscript) of a title; the asset
    lands there once, rights-gated for the edition the ISBN names; the title record is left alone."""
    smintio, consonance, ledger = env["smintio"], env["consonance"], env["ledger"]
    stock, expired = "asset-spring-01", "asset-spring-04"  # licensed stock; the second license has ended
    _set_license(smintio, stock, **WORLDWIDE)
    _set_license(smintio, expired, **{**WORLDWIDE, "valid_until": "2026-01-31"})
    task_id = consonance_seed.task_id(1, 1)  # work 1001's "Cover design"
    task_target = f"consonance_production_task:{task_id}"
    form = {"isbn": LAUNCH_ISBN, "asset_id": stock, "target_kind": "production_task", "target_id": task_id}

    run = env["dag"].test(logical_date=env["run_after"], run_conf=form)
    assert run.state == "success"
    (attached,) = consonance.context.store.all("production_task_attachment")
    assert attached["productionTaskId"] == task_id and attached["assetId"] == stock
    lpt = smintio.context.store.get("asset", stock)["license_purchase_transaction_uuid"]
    assert attached["usageRights"]["licenseReference"] == lpt
    decision = _decisions(ledger, run.run_id)[(stock, task_target)]
    assert decision.action == "attached" and decision.details["reason"] == f"on request for production task {task_id}"
    assert "Cover design" in decision.details["detail"]
    (delivery,) = ledger.deliveries(asset_id=stock, target_prefix="consonance_production_task:")
    assert delivery.target == task_target and delivery.status == "delivered"
    # the title record and the asset's title cross-reference are not touched by a task attachment
    assert ("1001", stock) not in _resources(consonance)
    assert ledger.lookup("title", "smintio", stock, "consonance") is None

    again = env["dag"].test(logical_date=env["run_after"], run_conf=form)
    assert again.state == "success"
    assert len(consonance.context.store.history(kind="production_task_attachment")) == 1  # attached once
    assert _decisions(ledger, again.run_id)[(stock, task_target)].action == "already_attached"

    # a manuscript of the same title, cleared for its ebook edition
    manuscript_id = consonance_seed.manuscript_id(1, 2)
    ebook_isbn = consonance_seed.isbn13(100001)
    to_manuscript = {
        "isbn": ebook_isbn,
        "asset_id": stock,
        "target_kind": "manuscript",
        "target_id": manuscript_id,
    }
    run = env["dag"].test(logical_date=env["run_after"], run_conf=to_manuscript)
    assert run.state == "success"
    (on_manuscript,) = consonance.context.store.all("manuscript_attachment")
    assert on_manuscript["manuscriptId"] == manuscript_id and on_manuscript["assetId"] == stock
    assert on_manuscript["usageRights"]["editions"] == [f"ebook {ebook_isbn}"]

    # refused, with the reason and nothing written: an ended license, a task of another title,
    # a task that does not exist
    refused = env["dag"].test(logical_date=env["run_after"], run_conf={**form, "asset_id": expired})
    reason = _decisions(ledger, refused.run_id)[(expired, task_target)].details["reason"]
    assert "refused" in reason and "2026-01-31" in reason
    other_task = consonance_seed.task_id(2, 1)
    elsewhere = env["dag"].test(logical_date=env["run_after"], run_conf={**form, "target_id": other_task})
    reason = _decisions(ledger, elsewhere.run_id)[(stock, f"consonance_production_task:{other_task}")].details["reason"]
    assert reason == f"production task {other_task} belongs to title 1002, which has no edition with ISBN {LAUNCH_ISBN}"
    nowhere = env["dag"].test(logical_date=env["run_after"], run_conf={**form, "target_id": "404"})
    assert _decisions(ledger, nowhere.run_id)[(stock, "consonance_production_task:404")].details["reason"] == (
        "no Consonance production task 404"
    )
    assert [a["assetId"] for a in consonance.context.store.all("production_task_attachment")] == [stock]
    assert all(r.state == "success" for r in (refused, elsewhere, nowhere))


def test_an_asset_asked_for_in_smintio_is_attached_to_its_production_task_once(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    """CON-3 from Smint.io's side: an editor names a Consonance production task on an approved
    asset (metadata ``consonance_task`` or a ``consonance-task:`` tag); the scheduled run that sees
    the asset change attaches it there once — only if its license allows the title's use."""
    smintio, consonance, ledger = env["smintio"], env["consonance"], env["ledger"]
    in_window = (env["window"][1] - timedelta(minutes=5)).isoformat()
    cover_task, jacket_task = consonance_seed.task_id(1, 1), consonance_seed.task_id(1, 2)
    cover, photo = book_asset(LAUNCH_ISBN, "cover"), book_asset(LAUNCH_ISBN, "author_photo")  # photo: US only
    for asset_id, change in (
        (cover, {"metadata": {"consonance_task": cover_task}}),
        (photo, {"tags": [f"consonance-task:{jacket_task}"]}),
    ):
        asset = smintio.context.store.get("asset", asset_id)
        asset["metadata"] = {**asset["metadata"], **change.get("metadata", {})}
        asset["tags"] = [*asset["tags"], *change.get("tags", [])]
        smintio.context.store.put("asset", asset_id, {**asset, "updated_at": in_window})

    run = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 0})
    assert run.state == "success"
    (attached,) = consonance.context.store.all("production_task_attachment")
    assert (attached["productionTaskId"], attached["assetId"]) == (cover_task, cover)
    assert attached["resourceType"] == "cover"
    decisions = _decisions(ledger, run.run_id)
    cover_decision = decisions[(cover, f"consonance_production_task:{cover_task}")]
    assert cover_decision.action == "attached"
    assert cover_decision.details["reason"] == f"as asked in Smint.io for production task {cover_task}"
    photo_decision = decisions[(photo, f"consonance_production_task:{jacket_task}")]
    assert photo_decision.action == "refused" and "refused" in photo_decision.details["reason"]

    # the next run over the same window changes nothing and records no new attachment
    rerun = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 0})
    assert rerun.state == "success"
    assert len(consonance.context.store.history(kind="production_task_attachment")) == 1
    assert (cover, f"consonance_production_task:{cover_task}") not in _decisions(ledger, rerun.run_id)
    (delivery,) = ledger.deliveries(asset_id=cover, target_prefix="consonance_production_task:")
    assert delivery.target == f"consonance_production_task:{cover_task}"


def test_a_changed_field_mapping_changes_what_is_written_on_the_assets(
    airflow_db: Path, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The Consonance title field -> Smint.io key mapping is configuration: an edited
    ``mappings/consonance_titles.yaml`` writes under the new keys, on the next run, once."""
    smintio, consonance = env["smintio"], env["consonance"]
    jacket_id = book_asset(LAUNCH_ISBN, "jacket")
    title = consonance.context.store.get("work", LAUNCH_WORK)["title"]
    first = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 5})
    assert first.state == "success"
    assert _assets(smintio)[jacket_id]["metadata"]["book_title"] == title

    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    mapping_file = config / "mappings" / "consonance_titles.yaml"
    mapping = yaml.safe_load(mapping_file.read_text())
    mapping["smintio_metadata"]["title"] = "headline"
    mapping["smintio_metadata"]["imprint"] = None
    mapping["smintio_metadata"]["isbn"] = "product_isbn"
    mapping_file.write_text(yaml.safe_dump(mapping))
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(config))
    before = {a["id"]: a["metadata"] for a in _assets(smintio).values()}

    second = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 5})
    assert second.state == "success"
    after = _assets(smintio)
    jacket = after[jacket_id]["metadata"]
    assert jacket["headline"] == title and jacket["product_isbn"] == LAUNCH_ISBN
    assert jacket["consonance_work_id"] == LAUNCH_WORK  # the fields still mapped keep their keys
    # the same title revision and phase, yet pushed again: the mapping is part of the push's version
    pushed_again = {a for a, body in after.items() if "headline" in body["metadata"]}
    assert jacket_id in pushed_again
    assert pushed_again == {a for a, metadata in before.items() if "book_title" in metadata}
    # the imprint is no longer written: an asset pushed only under the new mapping never gets it
    assert all(after[a]["metadata"].get("imprint") == before[a].get("imprint") for a in pushed_again)

    third = env["dag"].test(logical_date=env["run_after"], run_conf={"lead_days": 5})
    assert third.state == "success"
    versions = {a: body["version"] for a, body in after.items()}
    assert {a["id"]: a["version"] for a in _assets(smintio).values()} == versions  # delivered once
