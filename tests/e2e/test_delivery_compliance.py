"""delivery_compliance end to end (X-3, X-4; OWS-8, OTG-3, EXS-2): dag.test() against the sandboxes.

Each test leaves copies of assets in every partner as earlier pipelines would have (the partner
object and its ledger delivery), changes what a removal source changes — the asset's state in
Smint.io, or its license — and runs the pipeline for a chosen day. Effects are asserted where
they land (VIP media, Trading Grid posts and case comments, Exstream states, Consonance license
terms, the ledger), and every re-run is checked to add no partner write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.given import delivered, vip_media_released
from e2e.project_dags import load_dag

from contentops.ledger import Ledger
from contentops_sandbox.consonance import seed as consonance_seed
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.e2e

#: the campaign assets are linked to the seeded licenses in order: asset-spring-0N <-> license N-1
EXPIRING = "asset-spring-01"  # license 0: ends 7 days after the seed
NARROWED = "asset-spring-03"  # license 2: worldwide, any channel, 90 days
REMOVED = "asset-spring-08"  # license 7: worldwide, any channel, no end
UNTOUCHED = "asset-spring-02"  # license 1 made worldwide / any channel below: nothing happens to it
VIP_ITEM = "ITM-1001"
WORK = consonance_seed.work_id(20)


def _lpt(index: int) -> str:
    return seed.stable_uuid("lpt", index)


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    smintio = connect("smintio", options={"seeded_transactions": 12})
    # every channel, so each partner's copy is decided on its dates and regions alone
    for index in (0, 1, 2):
        smintio.admin("POST", f"smintio/lpt/{_lpt(index)}", json={"allowed_distributions": ["any"]})
    smintio.admin("POST", f"smintio/lpt/{_lpt(1)}", json={"allowed_geographies": ["worldwide"]})
    ledger = Ledger(ledger_url)
    ledger.migrate()
    return {
        "smintio": smintio,
        "vip": connect("vip"),
        "grid": connect("trading_grid"),
        "exstream": connect("exstream"),
        "consonance": connect("consonance"),
        "ledger": ledger,
        "cases": {},
    }


def _given_everywhere(env: dict[str, Any], asset_id: str, *, regions: tuple[str, ...] = ("emea",)) -> None:
    """What earlier runs left of one asset: VIP media, a launch kit per region's community, a
    partner case it was handed out in, an APPROVED Exstream image, a Consonance title attachment."""
    ledger: Ledger = env["ledger"]
    vip_media_released(
        env["vip"], asset_id, VIP_ITEM, regions=regions, campaign_tags=("spring-launch-2027",), ledger=ledger
    )
    for region in regions:
        delivered(ledger, "campaign_release", asset_id, f"trading_grid:community-{region}", f"kit-{region}")
    case = env["grid"].admin(
        "POST",
        "trading_grid/cases",
        json={
            "type": "asset_request",
            "partner_company_id": "GC00000000PT",
            "subject": f"Images for our shop ({asset_id})",
            "details": {"asset_kind": "image"},
        },
    )
    env["cases"][asset_id] = case["id"]
    delivered(ledger, "partner_case_intake", asset_id, f"trading_grid_case:{case['id']}", f"delivery-{asset_id}")
    resource_id = f"res-{asset_id}"
    env["exstream"].context.store.put(
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
            "metadata": {"regions": list(regions), "campaign": "spring-launch-2027"},
            "locked": False,
        },
    )
    delivered(ledger, "campaign_release", asset_id, "exstream:retail", resource_id)
    delivered(ledger, "title_metadata_push", asset_id, f"consonance:{WORK}", f"sr-{asset_id}")


def _run(day: datetime) -> Any:
    run = load_dag("delivery_compliance").test(logical_date=day)
    return run


def _media(env: dict[str, Any], asset_id: str) -> dict[str, Any]:
    return env["vip"].context.store.get("media", f"{VIP_ITEM}/{asset_id}")


def _state(env: dict[str, Any], asset_id: str) -> str:
    return env["exstream"].context.store.get("resource", f"res-{asset_id}")["state"]


def _posts(env: dict[str, Any], asset_id: str) -> list[dict[str, Any]]:
    return [p for p in env["grid"].context.store.all("post") if p["asset_ids"] == [asset_id]]


def _replies(env: dict[str, Any], asset_id: str) -> list[dict[str, Any]]:
    return [c for c in env["grid"].context.store.all("case_comment") if c["case_id"] == env["cases"][asset_id]]


def _terms(env: dict[str, Any], asset_id: str) -> list[dict[str, Any]]:
    return [t for t in env["consonance"].context.store.all("license_terms") if t["assetId"] == asset_id]


def _writes(env: dict[str, Any]) -> dict[str, int]:
    """Every partner write so far (history rows): a re-run must add none."""
    return {
        "vip": len(env["vip"].context.store.history(kind="media")),
        "posts": len(env["grid"].context.store.history(kind="post")),
        "replies": len(env["grid"].context.store.history(kind="case_comment")),
        "exstream": len(env["exstream"].context.store.history(kind="resource")),
        "consonance": len(env["consonance"].context.store.history(kind="license_terms")),
    }


def _slots(ledger: Ledger, asset_id: str) -> dict[str, str]:
    copies = ("vip:", "trading_grid:", "trading_grid_case:", "exstream:", "consonance:")
    return {d.target: d.status for d in ledger.where_did_it_go(asset_id) if d.target.startswith(copies)}


def _decisions(ledger: Ledger, run_id: str) -> dict[tuple[str, str], str]:
    return {
        (e.subject, (e.details or {}).get("target", "")): e.action
        for e in ledger.audit_trail(run_id=run_id, pipeline="delivery_compliance")
        if e.action.startswith("compliance_")
    }


def _today() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _withdrawn_everywhere(env: dict[str, Any], asset_id: str) -> None:
    assert _media(env, asset_id)["status"] == "withdrawn"
    assert _state(env, asset_id) == "DRAFT"  # out of APPROVED: no communication uses it
    (post,) = _posts(env, asset_id)
    assert post["community"] == "community-emea" and post["kind"] == "usage_guidance"
    assert "Stop using it" in post["body"]
    (reply,) = _replies(env, asset_id)
    assert "Stop using it" in reply["body"]
    (terms,) = _terms(env, asset_id)
    assert terms["workId"] == WORK and terms["status"] == "ENDED"
    assert set(_slots(env["ledger"], asset_id).values()) == {"withdrawn"}


def _set_approval(smintio: Any, asset_id: str, status: str, comment: str) -> None:
    """What Smint.io holds after an approval change (the state the retire / approval routes leave;
    written on the sandbox's side, so the DAG's own client keeps its rotating refresh token)."""
    asset = smintio.context.store.get("asset", asset_id)
    history = [*asset.get("approval_history", []), {"from": asset["approval_status"], "to": status, "comment": comment}]
    smintio.context.store.put("asset", asset_id, {**asset, "approval_status": status, "approval_history": history})


@pytest.mark.parametrize(
    ("status", "comment"),
    [
        # a compliance review's "removed", an Exstream production "retire", a title refresh and the
        # VIP catalog sync seeing a VIP withdrawal all end the same way: the asset retired in
        # Smint.io (as a person can retire it by hand), which is what delivery_compliance reads
        ("retired", "Compliance review: removed"),
        ("in_review", "un-approved by hand"),
    ],
    ids=["retired", "unapproved"],
)
def test_a_removal_in_smintio_withdraws_every_copy_once(airflow_db: Path, env: dict, status: str, comment: str) -> None:
    _given_everywhere(env, REMOVED)
    _given_everywhere(env, UNTOUCHED)
    _set_approval(env["smintio"], REMOVED, status, comment)
    run = _run(_today())
    assert run.state == "success"
    _withdrawn_everywhere(env, REMOVED)
    decided = _decisions(env["ledger"], run.run_id)
    assert decided[(REMOVED, f"vip:{VIP_ITEM}")] == "compliance_withdrawn"
    assert not [key for key in decided if key[0] == UNTOUCHED]
    assert _media(env, UNTOUCHED)["status"] == "active" and _state(env, UNTOUCHED) == "APPROVED"
    assert set(_slots(env["ledger"], UNTOUCHED).values()) == {"delivered"}
    report = env["ledger"].run_summary("delivery_compliance", run.run_id)
    assert report and Path(report["report_path"]).is_file()
    assert "no longer approved" in Path(report["report_path"]).read_text()

    writes = _writes(env)
    again = _run(_today() + timedelta(hours=1))
    assert again.state == "success"
    assert _writes(env) == writes  # a re-run adds nothing
    assert not _decisions(env["ledger"], again.run_id)


def test_a_narrowed_license_withdraws_only_the_copies_outside_it(airflow_db: Path, env: dict) -> None:
    _given_everywhere(env, NARROWED, regions=("emea", "apac"))
    env["smintio"].admin("POST", f"smintio/lpt/{_lpt(2)}", json={"allowed_geographies": ["emea"]})
    run = _run(_today())
    assert run.state == "success"
    media = _media(env, NARROWED)
    assert media["status"] == "active" and media["usage_controls"]["regions"] == ["emea"]  # re-restricted
    (post,) = _posts(env, NARROWED)
    assert post["community"] == "community-apac" and "Stop using it" in post["body"]
    assert _state(env, NARROWED) == "APPROVED"  # still allowed in emea, where it is used
    assert _replies(env, NARROWED) == [] and _terms(env, NARROWED) == []
    slots = _slots(env["ledger"], NARROWED)
    assert slots.pop("trading_grid:community-apac") == "withdrawn"
    assert set(slots.values()) == {"delivered"}

    writes = _writes(env)
    assert _run(_today() + timedelta(hours=1)).state == "success"
    assert _writes(env) == writes


def test_expiry_fails_closed_on_its_day_and_a_later_renewal_restores_once(airflow_db: Path, env: dict) -> None:
    _given_everywhere(env, EXPIRING)
    _given_everywhere(env, UNTOUCHED)
    seeded = datetime.fromisoformat(env["smintio"].context.store.get("lpt", _lpt(0))["license_terms"][0]["valid_until"])
    expiry_day = seeded.replace(hour=0, minute=0, second=0, microsecond=0)

    before = _run(expiry_day - timedelta(days=1))  # the day before: still licensed
    assert before.state == "success"
    assert _media(env, EXPIRING)["status"] == "active" and _state(env, EXPIRING) == "APPROVED"

    on_the_day = _run(expiry_day)  # no renewal workflow, no human answer: it leaves every partner
    assert on_the_day.state == "success"
    _withdrawn_everywhere(env, EXPIRING)
    assert "ends today" in _posts(env, EXPIRING)[0]["body"]  # the community is told at once
    assert _decisions(env["ledger"], on_the_day.run_id)[(EXPIRING, "exstream:retail")] == "compliance_expired"
    assert len(env["ledger"].holds(asset_id=EXPIRING)) == 5
    assert _media(env, UNTOUCHED)["status"] == "active"
    writes = _writes(env)
    assert _run(expiry_day + timedelta(hours=1)).state == "success"
    assert _writes(env) == writes  # a re-run on the same day adds nothing

    # the renewal arrives later: the license is extended in Smint.io
    renewed_until = (expiry_day + timedelta(days=365)).isoformat()
    env["smintio"].admin("POST", f"smintio/lpt/{_lpt(0)}", json={"valid_until": renewed_until})
    restored = _run(expiry_day + timedelta(days=2))
    assert restored.state == "success"
    media = _media(env, EXPIRING)
    assert media["status"] == "active" and media["usage_controls"]["valid_until"][:10] == renewed_until[:10]
    assert _state(env, EXPIRING) == "APPROVED"
    posts = _posts(env, EXPIRING)
    assert len(posts) == 2 and "renewed" in posts[-1]["body"]
    assert len(_replies(env, EXPIRING)) == 2
    assert {t["status"] for t in _terms(env, EXPIRING)} == {"RENEWED"}  # the title's record is renewed
    assert set(_slots(env["ledger"], EXPIRING).values()) == {"delivered"}
    assert env["ledger"].holds(asset_id=EXPIRING) == []
    writes = _writes(env)
    assert _run(expiry_day + timedelta(days=2, hours=1)).state == "success"
    assert _writes(env) == writes  # restored once


def test_the_sweeps_later_takedown_does_not_withdraw_twice(
    airflow_db: Path, env: dict, connect: Callable[..., Any]
) -> None:
    """X-4 with the human answer arriving after the expiry day's withdrawal: the rights expiry
    sweep's takedown finds every copy already withdrawn (ledger state) and changes no partner
    copy again, while the community and the case hear of the decision."""
    workflow = connect("workflow")
    workflow.admin(
        "PUT", "workflow/auto-complete", json={"rights_renewal": {"outcome": "takedown", "after_seconds": 0}}
    )
    _given_everywhere(env, EXPIRING)
    seeded = datetime.fromisoformat(env["smintio"].context.store.get("lpt", _lpt(0))["license_terms"][0]["valid_until"])
    expiry_day = seeded.replace(hour=0, minute=0, second=0, microsecond=0)
    assert _run(expiry_day).state == "success"
    _withdrawn_everywhere(env, EXPIRING)
    copies = {
        "vip": [h for h in env["vip"].context.store.history(kind="media") if h["action"] == "withdraw"],
        "exstream": [h for h in env["exstream"].context.store.history(kind="resource") if h["action"] == "state:DRAFT"],
    }
    assert len(copies["vip"]) == len(copies["exstream"]) == 1

    sweep = load_dag("rights_expiry_sweep").test(logical_date=expiry_day + timedelta(hours=3))
    assert sweep.state == "success"
    # the sweep starts the renewal; workflow_outcomes applies its takedown once it ended
    assert load_dag("workflow_outcomes").test(logical_date=expiry_day + timedelta(hours=3)).state == "success"
    assert env["smintio"].context.store.get("asset", EXPIRING)["approval_status"] == "retired"  # the takedown applied
    assert [h for h in env["vip"].context.store.history(kind="media") if h["action"] == "withdraw"] == copies["vip"]
    assert [
        h for h in env["exstream"].context.store.history(kind="resource") if h["action"] == "state:DRAFT"
    ] == copies["exstream"]
    posts, replies = _posts(env, EXPIRING), _replies(env, EXPIRING)
    assert len(posts) == 2 and "has ended" in posts[-1]["body"]  # told again when the decision came
    assert len(replies) == 2
    # the retired asset is never restored, even when its license is extended afterwards
    env["smintio"].admin(
        "POST", f"smintio/lpt/{_lpt(0)}", json={"valid_until": (expiry_day + timedelta(days=365)).isoformat()}
    )
    assert _run(expiry_day + timedelta(days=1)).state == "success"
    assert _media(env, EXPIRING)["status"] == "withdrawn" and _state(env, EXPIRING) == "DRAFT"
