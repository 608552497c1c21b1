"""rights_expiry_sweep end to end (OWS-2, OWS-4, VIP-8, OTG-3, EXS-2, EXS-5, CON-2): dag.test() against the sandboxes.

Effects are asserted where they land: workflow instances in the Workflow sandbox, dispositions
on the assets in the Smint.io sandbox, business keys and audit rows in the ledger.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.config import PROJECT_CONFIG_DIR
from contentops.ledger import Ledger
from contentops_sandbox.consonance import seed as consonance_seed
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.e2e

SEEDED = 36
#: campaign assets are linked to the syncable licenses in order: asset-spring-0N <-> license N-1
EXPIRED_ASSET = "asset-spring-04"  # license 3: expired 10 days ago
EXPIRING_ASSET = "asset-spring-01"  # license 0: expires in 7 days
PERPETUAL_ASSET = "asset-spring-10"  # license 9: no end date
UNUSABLE_ASSET = "asset-spring-06"  # license 5: we empty its terms -> metadata missing
VIP_ITEM = "ITM-1001"
RENEWED_UNTIL = "2027-06-30T00:00:00+00:00"
#: CON-2: book assets (attached to Consonance titles) share those licenses: the one on license 3
#: (expired) is taken down, the one on license 0 (expiring) renewed; the renewed one is attached
#: to its own title and to a second one
SECOND_TITLE = consonance_seed.work_id(20)


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": SEEDED})
    workflow = connect("workflow")
    workflow.admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "rights_renewal": {
                "outcome": "renew",
                "after_seconds": 0,
                "variables": {"valid_until": RENEWED_UNTIL},
                "by_variable": {"finding": {"expired": "takedown"}},
            },
            "compliance_exception": {"outcome": "cleared", "after_seconds": 0},
        },
    )
    smintio.admin("POST", f"smintio/lpt/{seed.stable_uuid('lpt', 5)}", json={"license_terms": []})
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    vip = connect("vip")
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for asset_id in (EXPIRED_ASSET, EXPIRING_ASSET):
        _given_delivered_to_vip(vip, ledger, asset_id)
    grid = connect("trading_grid")
    kit = ledger.plan("campaign_release", EXPIRED_ASSET, 1, "trading_grid:community-emea")  # an earlier launch kit
    ledger.begin(kit)
    ledger.complete(kit.key, "kit-spring-emea")
    # an earlier partner case that was answered with the (then licensed) expired asset
    case = grid.admin(
        "POST",
        "trading_grid/cases",
        json={
            "type": "asset_request",
            "partner_company_id": "GC00000000PT",
            "subject": "Spring images for our shop",
            "details": {"asset_kind": "image"},
        },
    )
    handed_out = ledger.plan("partner_case_intake", EXPIRED_ASSET, 1, f"trading_grid_case:{case['id']}")
    ledger.begin(handed_out)
    ledger.complete(handed_out.key, f"delivery-{EXPIRED_ASSET}-v1")
    exstream = connect("exstream")
    for asset_id, resource_id in ((EXPIRED_ASSET, "res-logo"), (EXPIRING_ASSET, "res-banner")):
        exstream.context.store.put(
            "resource",
            resource_id,
            {
                "id": resource_id,
                "version": 1,
                "name": f"{asset_id}.png",
                "type": "image",
                "state": "APPROVED",
                "stateComment": None,
                "domain": "retail",
                "metadata": {},
                "locked": False,
            },
        )
        template = ledger.plan("campaign_release", asset_id, 1, "exstream:retail")
        ledger.begin(template)
        ledger.complete(template.key, resource_id)
    consonance = connect("consonance")
    books = {
        "ended": _book_asset_on(smintio, 3),
        "renewed": _book_asset_on(smintio, 0),
    }
    titles = {
        "ended": [_title_of(consonance, books["ended"]["metadata"]["isbn"])],
        "renewed": [_title_of(consonance, books["renewed"]["metadata"]["isbn"]), SECOND_TITLE],
    }
    for which, asset in books.items():
        for work_id in titles[which]:
            _given_attached_to_title(consonance, ledger, asset["id"], work_id)
    return {
        "smintio": smintio,
        "workflow": workflow,
        "ledger": ledger,
        "vip": vip,
        "grid": grid,
        "exstream": exstream,
        "consonance": consonance,
        "books": {which: asset["id"] for which, asset in books.items()},
        "titles": titles,
        "case": case["id"],
    }


def _book_asset_on(smintio: Any, license_index: int) -> dict[str, Any]:
    """The first book asset (cover, jacket, author photo …) the Smint.io sandbox links to that license."""
    lpt = seed.stable_uuid("lpt", license_index)
    return next(
        a
        for a in smintio.context.store.all("asset")
        if a["id"].startswith("asset-book-") and a["license_purchase_transaction_uuid"] == lpt
    )


def _title_of(consonance: Any, isbn: str) -> str:
    """The Consonance work one of whose products carries the ISBN."""
    return next(
        str(p["workId"]) for p in consonance.context.store.all("product") if (p.get("isbn") or {}).get("isbn13") == isbn
    )


def _given_attached_to_title(consonance: Any, ledger: Ledger, asset_id: str, work_id: str) -> None:
    """State an earlier title push left: the supporting resource on the work and its ledger delivery."""
    resource_id = f"sr-{asset_id}-{work_id}"
    consonance.context.store.put(
        "supporting_resource",
        f"{work_id}:{asset_id}",
        {
            "id": resource_id,
            "workId": work_id,
            "reference": asset_id,
            "url": f"https://demo.smint.io/{asset_id}",
            "caption": asset_id,
            "resourceType": "AUTHOR_PHOTO",
            "assetId": asset_id,
            "assetVersion": 1,
            "productIds": [],
            "usageRights": {"summary": "as licensed"},
        },
    )
    plan = ledger.plan("title_metadata_push", asset_id, 1, f"consonance:{work_id}")
    ledger.begin(plan)
    ledger.complete(plan.key, resource_id)


def _given_delivered_to_vip(vip: Any, ledger: Ledger, asset_id: str) -> None:
    """State an earlier campaign release left: the asset as media of a VIP catalog item, and its
    ledger delivery."""
    media = {
        "ref": asset_id,
        "item_id": VIP_ITEM,
        "kind": "asset",
        "asset_id": asset_id,
        "version": 1,
        "file_name": f"{asset_id}.png",
        "content_type": "image/png",
        "status": "active",
        "approval_status": "approved",
        "campaign_tags": [],
        "available_to": ["rtl-001"],
        "usage_controls": {"regions": ["emea"], "channels": ["online"], "valid_until": None},
        "content": {"sha256": "0" * 64, "size": 10},
        "history": [],
    }
    vip.context.store.put("media", f"{VIP_ITEM}/{asset_id}", media)
    plan = ledger.plan("campaign_release", asset_id, 1, f"vip:{VIP_ITEM}")
    ledger.begin(plan)
    ledger.complete(plan.key, asset_id)


def _dag() -> Any:
    return load_dag("rights_expiry_sweep")


def _sweep(logical_date: datetime) -> Any:
    """A sweep run, then the workflow_outcomes run that applies the dispositions (the sweep
    itself no longer waits for them); the sweep's run."""
    return _sweep_and_apply(logical_date)[0]


def _sweep_and_apply(logical_date: datetime) -> tuple[Any, Any]:
    run = _dag().test(logical_date=logical_date)
    assert run.state == "success"
    applied = load_dag("workflow_outcomes").test(logical_date=logical_date)
    assert applied.state == "success"
    return run, applied


def _instances(workflow: Any) -> list[dict[str, Any]]:
    return workflow.context.store.all("instance")


def _decisions(ledger: Ledger, run_id: str) -> dict[str, str]:
    findings = {"expired", "expiring", "limit_reached", "metadata_missing"}
    return {e.subject: e.action for e in ledger.audit_trail(run_id=run_id) if e.action in findings}


def test_sweep_starts_one_workflow_per_asset_and_writes_dispositions_back(airflow_db: Path, env: dict) -> None:
    today = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    run, applied = _sweep_and_apply(today)
    ledger: Ledger = env["ledger"]
    decisions = _decisions(ledger, run.run_id)
    assert decisions[EXPIRED_ASSET] == "expired"
    assert decisions[EXPIRING_ASSET] == "expiring"
    assert decisions[UNUSABLE_ASSET] == "metadata_missing"
    assert PERPETUAL_ASSET not in decisions

    instances = _instances(env["workflow"])
    by_asset = {i["variables"]["asset_id"]: i for i in instances}
    assert len(instances) == len(by_asset) == len(decisions)  # one workflow per affected asset
    assert by_asset[EXPIRED_ASSET]["processDefinitionKey"] == "rights_renewal"
    assert by_asset[UNUSABLE_ASSET]["processDefinitionKey"] == "compliance_exception"  # OWS-4

    assets = {a["id"]: a for a in env["smintio"].context.store.all("asset")}
    assert assets[EXPIRED_ASSET]["approval_status"] == "retired"  # takedown
    assert assets[EXPIRED_ASSET]["metadata"]["rights_disposition"] == "takedown"
    assert assets[EXPIRING_ASSET]["metadata"]["rights_disposition"] == "renew"
    assert "rights:renewed" in assets[EXPIRING_ASSET]["tags"]
    assert assets[UNUSABLE_ASSET]["metadata"]["rights_disposition"] == "cleared"
    assert "rights_disposition" not in assets[PERPETUAL_ASSET]["metadata"]
    # VIP-8: the taken-down asset is withdrawn in VIP, the renewed one re-restricted to its new end
    vip_items = {m["asset_id"]: m for m in env["vip"].context.store.all("media")}
    assert vip_items[EXPIRED_ASSET]["status"] == "withdrawn"
    assert vip_items[EXPIRING_ASSET]["status"] == "active"
    assert vip_items[EXPIRING_ASSET]["usage_controls"]["valid_until"].startswith("2027-06-30")
    assert vip_items[EXPIRING_ASSET]["approval_status"] == "restricted"
    assert {
        d.target: d.status for d in ledger.where_did_it_go(EXPIRED_ASSET) if not d.target.startswith("trading_grid")
    } == {f"vip:{VIP_ITEM}": "withdrawn", "exstream:retail": "withdrawn"}
    # OTG-3: the community that received the expired asset is told to stop using it
    (post,) = env["grid"].context.store.all("post")
    assert post["community"] == "community-emea" and post["kind"] == "usage_guidance"
    assert post["asset_ids"] == [EXPIRED_ASSET] and "Stop using it" in post["body"]
    # OTG-3: so is the partner of the case it was handed out in, by a reply on that case
    (reply,) = env["grid"].context.store.all("case_comment")
    assert reply["case_id"] == env["case"] and EXPIRED_ASSET in reply["body"] and "Stop using it" in reply["body"]
    assert [d.target for d in ledger.deliveries(asset_id=EXPIRED_ASSET, target_prefix="trading_grid_case_rights:")] == [
        f"trading_grid_case_rights:{env['case']}"
    ]
    # EXS-2/EXS-5: the expired image leaves APPROVED in Exstream; the renewed one carries its new expiry
    resources = {r["id"]: r for r in env["exstream"].context.store.all("resource")}
    assert resources["res-logo"]["state"] == "DRAFT"
    assert resources["res-banner"]["state"] == "APPROVED"
    assert resources["res-banner"]["metadata"]["valid_until"].startswith("2027-06-30")
    # CON-2: each Consonance title using a book asset whose license changed records the terms
    books, titles = env["books"], env["titles"]
    assert by_asset[books["ended"]]["processDefinitionKey"] == "rights_renewal"
    terms = {(t["workId"], t["assetId"]): t for t in env["consonance"].context.store.all("license_terms")}
    assert set(terms) == {(w, books[which]) for which in ("ended", "renewed") for w in titles[which]}
    (ended,) = [terms[(w, books["ended"])] for w in titles["ended"]]
    assert ended["status"] == "ENDED" and ended["validUntil"][:10] == by_asset[books["ended"]]["variables"]["expires"]
    for work_id in titles["renewed"]:
        renewed = terms[(work_id, books["renewed"])]
        assert renewed["status"] == "RENEWED" and renewed["validUntil"].startswith("2027-06-30")
        assert renewed["licenseReference"] == seed.stable_uuid("lpt", 0)
        assert renewed["permittedUsage"] and "not stated" not in renewed["permittedUsage"]
    summary = ledger.run_summary("rights_expiry_sweep", run.run_id)
    assert summary and Path(summary["report_path"]).is_file()
    outcomes = ledger.run_summary("workflow_outcomes", applied.run_id)
    assert outcomes and "disposition_takedown" in outcomes["counts"]

    # the next day's run starts nothing twice and writes nothing twice. Its horizon reaches one
    # day further, so a license that only now comes within it may rightly start a workflow of its own.
    handled = set(by_asset)
    versions = {a["id"]: a["version"] for a in env["smintio"].context.store.all("asset") if a["id"] in handled}
    _sweep(today + timedelta(days=1))
    first_ids = {i["id"] for i in instances}
    later = [i for i in _instances(env["workflow"]) if i["id"] not in first_ids]
    assert not {i["variables"]["asset_id"] for i in later} & handled
    assert len({i["businessKey"] for i in _instances(env["workflow"])}) == len(_instances(env["workflow"]))
    assert {a["id"]: a["version"] for a in env["smintio"].context.store.all("asset") if a["id"] in handled} == versions
    vip_writes = [h for h in env["vip"].context.store.history(kind="media") if h["action"] in ("withdraw", "restrict")]
    assert len(vip_writes) == 2  # one withdrawal, one re-restriction, nothing repeated
    assert len(env["grid"].context.store.history(kind="post")) == 1  # the guidance was posted once
    assert len(env["grid"].context.store.history(kind="case_comment")) == 1  # and the case told once
    exstream_writes = [
        h for h in env["exstream"].context.store.history(kind="resource") if h["action"] in ("state:DRAFT", "metadata")
    ]
    assert len(exstream_writes) == 2
    # CON-2: the terms were recorded once per title, and the next day's run repeated none of them
    assert len(env["consonance"].context.store.history(kind="license_terms")) == 3


def test_communities_that_got_the_asset_in_a_co_marketing_kit_are_told_too(airflow_db: Path, env: dict) -> None:
    """OTG-3: a brand kit sent for sign-off hands its assets to a community as surely as a launch kit."""
    ledger: Ledger = env["ledger"]
    for community, kit_assets in (
        ("community-dach", [EXPIRED_ASSET]),  # got the expired asset only in the co-marketing kit
        ("community-emea", [EXPIRED_ASSET]),  # got it in a launch kit as well: told once, not twice
        ("community-apac", [PERPETUAL_ASSET]),  # a kit without it: nothing to tell
    ):
        ref = f"brand-{community}-abc123"
        kit = ledger.plan("co_marketing_signoff", "kit:brand", "abc123", f"trading_grid_signoff:{community}")
        ledger.begin(kit)
        ledger.complete(kit.key, ref)
        for asset_id in kit_assets:
            ledger.link("co_marketing_signoff", "smintio", asset_id, f"trading_grid:{community}", ref)
    today = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    _sweep(today)
    posts = {p["community"]: p for p in env["grid"].context.store.all("post")}
    assert set(posts) == {"community-dach", "community-emea"}
    assert all(p["asset_ids"] == [EXPIRED_ASSET] and "Stop using it" in p["body"] for p in posts.values())
    _sweep(today + timedelta(days=1))
    assert len(env["grid"].context.store.history(kind="post")) == 2


def test_dry_run_decides_without_changing_anything(airflow_db: Path, env: dict) -> None:
    today = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    run = _dag().test(logical_date=today, run_conf={"dry_run": True})
    assert run.state == "success"
    assert _decisions(env["ledger"], run.run_id)[EXPIRED_ASSET] == "expired"
    assert _instances(env["workflow"]) == []
    assert all("rights_disposition" not in a["metadata"] for a in env["smintio"].context.store.all("asset"))


def test_a_backfilled_day_is_decided_as_of_that_day(airflow_db: Path, env: dict) -> None:
    today = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    decided = {}
    for days_ago in (50, 20, 0):
        run = _dag().test(logical_date=today - timedelta(days=days_ago), run_conf={"dry_run": True})
        assert run.state == "success"
        decided[days_ago] = _decisions(env["ledger"], run.run_id)
    # license 3 ended 10 days ago: 50 days ago it was not yet due, 20 days ago it was expiring
    assert EXPIRED_ASSET not in decided[50]
    assert decided[20][EXPIRED_ASSET] == "expiring"
    assert decided[0][EXPIRED_ASSET] == "expired"
    # replaying a day gives that day's decisions again
    replay = _dag().test(logical_date=today - timedelta(days=20), run_conf={"dry_run": True})
    assert _decisions(env["ledger"], replay.run_id) == decided[20]


#: OWS-4: approved summer assets the test breaks on the asset itself (their licenses stay as seeded)
NO_METADATA_ASSET = "asset-summer-01"  # its categories emptied; the settings require them
NO_LICENSE_ASSET = "asset-summer-02"  # linked to no license at all
VIOLATING_ASSET = "asset-summer-03"  # a compliance review found it non-compliant


def test_asset_exceptions_each_start_one_workflow_and_removed_retires(
    airflow_db: Path, env: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """OWS-4: missing required metadata, no license and a policy violation each start one
    compliance exception workflow (reason as a variable); a ``removed`` answer retires the asset
    in Smint.io and withdraws its VIP copy; the next run starts none of them again."""
    folder = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, folder)
    (folder / "rights_expiry_sweep.yaml").write_text("required_metadata: [categories]\n", encoding="utf-8")
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(folder))
    store = env["smintio"].context.store
    for asset_id, change in (
        (NO_METADATA_ASSET, {"categories": []}),
        (NO_LICENSE_ASSET, {"license_purchase_transaction_uuid": None}),
        (VIOLATING_ASSET, {"compliance_status": "non_compliant"}),
    ):
        store.put("asset", asset_id, {**store.get("asset", asset_id), **change})
    _given_delivered_to_vip(env["vip"], env["ledger"], VIOLATING_ASSET)
    env["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "rights_renewal": {"outcome": "renew", "after_seconds": 0},
            "compliance_exception": {
                "outcome": "cleared",
                "after_seconds": 0,
                "by_variable": {"reason": {"policy_violation": "removed"}},
            },
        },
    )
    today = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    _sweep(today)

    def exceptions() -> list[dict[str, Any]]:
        return [
            i
            for i in _instances(env["workflow"])
            if i["processDefinitionKey"] == "compliance_exception" and i["variables"].get("reason")
        ]

    first = exceptions()
    assert sorted((i["variables"]["asset_id"], i["variables"]["reason"]) for i in first) == [
        (NO_METADATA_ASSET, "asset_metadata_missing"),
        (NO_LICENSE_ASSET, "no_license"),
        (VIOLATING_ASSET, "policy_violation"),
    ]
    assert {i["businessKey"] for i in first} == {
        f"compliance_exception:{NO_METADATA_ASSET}:asset_metadata_missing",
        f"compliance_exception:{NO_LICENSE_ASSET}:no_license",
        f"compliance_exception:{VIOLATING_ASSET}:policy_violation",
    }
    assert (
        "categories"
        in next(i for i in first if i["variables"]["asset_id"] == NO_METADATA_ASSET)["variables"]["reasons"]
    )
    assets = {a["id"]: a for a in store.all("asset")}
    assert assets[VIOLATING_ASSET]["approval_status"] == "retired"  # removed: retired in Smint.io
    # (tags, not ``rights_disposition``: an asset's license workflow may write its own answer after)
    assert "compliance:removed" in assets[VIOLATING_ASSET]["tags"]
    for cleared in (NO_METADATA_ASSET, NO_LICENSE_ASSET):
        assert assets[cleared]["approval_status"] == "approved"
        assert "compliance:cleared" in assets[cleared]["tags"]
    vip_items = {m["asset_id"]: m for m in env["vip"].context.store.all("media")}
    assert vip_items[VIOLATING_ASSET]["status"] == "withdrawn"  # and withdrawn from the partner
    assert {d.target: d.status for d in env["ledger"].where_did_it_go(VIOLATING_ASSET)}[f"vip:{VIP_ITEM}"] == (
        "withdrawn"
    )

    # the cleared assets still lack what they lacked: the next run starts no second workflow
    _sweep(today + timedelta(days=1))
    assert len(exceptions()) == 3
