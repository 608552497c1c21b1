"""localization_return_loop end to end (VIP-6, OTG-4, EXS-6, OWS-5) with dag.test() against the
Smint.io, VIP, Trading Grid, Workflow and Exstream sandboxes.

Regional teams and partners send good and hostile returns; the effects are asserted where they
land: return statuses and replies at the partners, variants and comments in Smint.io, review
instances in the Workflow sandbox, image resources in Exstream, quarantine rows in the ledger.
A second server on another local port stands for everything a hostile link could point at: it
must never see a request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e.project_dags import load_dag
from fastapi import FastAPI, Request
from fastapi.responses import Response

from contentops.ledger import Ledger
from contentops_sandbox.core import SandboxServer
from contentops_sandbox.smintio import images, seed

pytestmark = pytest.mark.e2e

SEEDED = 36
#: campaign assets are linked to the syncable licenses in order: asset-spring-0N <-> license N-1
ITEM = "ITM-1001"  # the catalog item the spring visuals show (where regional teams attach their versions)
GOOD_MASTER = "asset-spring-03"  # license 2: worldwide, any channel, 90 more days
EDITORIAL_MASTER = "asset-spring-11"  # license 10: editorial use only -> no derivatives
GERMAN_ONLY_MASTER = "asset-spring-10"  # license 9, narrowed below to German
NO_GB_MASTER = "asset-spring-05"  # license 4: europe, restricted gb
NO_DERIVATIVES_MASTER = "asset-spring-08"  # license 7, restricted below: no derivatives
PNG = images.png("localized-de")
HTML = b"<!DOCTYPE html><html><body><script>fetch('/steal')</script></body></html>"
ZIP = b"PK\x03\x04" + b"\x00" * 64


@pytest.fixture
def elsewhere() -> Iterator[dict[str, Any]]:
    """A real server on another local port: what hostile links point at. It counts what it sees."""
    app = FastAPI()
    seen: list[str] = []

    @app.get("/{path:path}")
    def anything(path: str, request: Request) -> Response:
        seen.append(f"{path} auth={request.headers.get('authorization')}")
        return Response(PNG, media_type="image/png")

    with SandboxServer(app) as server:
        yield {"url": server.url, "seen": seen}


@pytest.fixture
def env(
    connect: Callable[..., Any],
    ledger_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    elsewhere: dict[str, Any],
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": SEEDED})
    smintio.admin("POST", f"smintio/lpt/{seed.stable_uuid('lpt', 9)}", json={"allowed_languages": ["language_german"]})
    smintio.admin("POST", f"smintio/lpt/{seed.stable_uuid('lpt', 7)}", json={"restricted_usages": ["no_derivatives"]})
    vip = connect("vip")
    grid = connect("trading_grid")
    workflow = connect("workflow")
    exstream = connect("exstream")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    return {
        "smintio": smintio,
        "vip": vip,
        "grid": grid,
        "workflow": workflow,
        "exstream": exstream,
        "ledger": ledger,
        "elsewhere": elsewhere,
    }


def vip_return(
    env: dict[str, Any], content: bytes | None = None, *, redirect_to: str | None = None, **fields: Any
) -> str:
    """A regional team attaches a file to the catalog item the master shows, in VIP (the
    sandbox's operator side); returns VIP's media id."""
    body = {
        "item_id": ITEM,
        "source_media_ref": GOOD_MASTER,
        "attached_by": "rtl-008",  # the regional team DACH of the retailer data
        "file_name": "spring-03-de.png",
        "content_type": "image/png",
        "language": "de",
        "region": "dach",
        **fields,
    }
    created = env["vip"].admin("POST", "vip/returns", json=body)
    if content is not None:
        params = {"redirect_to": redirect_to} if redirect_to else None
        requests.put(
            f"{env['vip'].url}/_sandbox/vip/returns/{created['id']}/content",
            data=content,
            params=params,
            headers={"Content-Type": "image/png"},
            timeout=10,
        ).raise_for_status()
    return str(created["id"])


def grid_submission(env: dict[str, Any], content: bytes | None = None, **fields: Any) -> str:
    """A trading partner submits a file in Trading Grid; returns its id."""
    file = fields.pop("file", {"name": "spring-03-fr.png", "contentType": "image/png"})
    body = {
        "partnerCompanyId": "GC00000002PT",
        "community": "community-emea",
        "kind": "translation",
        "masterAssetId": GOOD_MASTER,
        "language": "fr",
        "region": "emea",
        "comment": "French version for our shops",
        "file": file,
        **fields,
    }
    created = env["grid"].admin("POST", "trading_grid/submissions", json=body)
    if content is not None:
        requests.put(
            f"{env['grid'].url}/_sandbox/trading_grid/submissions/{created['id']}/file",
            data=content,
            headers={"Content-Type": "image/png"},
            timeout=10,
        ).raise_for_status()
    return str(created["id"])


def _dag() -> Any:
    return load_dag("localization_return_loop")


def _run(logical_date: datetime, **conf: Any) -> Any:
    run = _dag().test(logical_date=logical_date, run_conf={"poll_interval": 1, **conf})
    assert run.state == "success"
    return run


def _returns(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in env["vip"].context.store.all("return")}


def _submissions(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in env["grid"].context.store.all("submission")}


def _quarantine_reasons(ledger: Ledger) -> dict[str, str]:
    return {str(q.ref): q.reason for q in ledger.quarantined()}


def _partner_writes(env: dict[str, Any]) -> dict[str, int]:
    """How many writes each partner sandbox has recorded (history rows of the kinds we write)."""
    counts = {
        "vip_returns": len([h for h in env["vip"].context.store.history(kind="return") if h["action"] == "status"]),
        "vip_media": len(env["vip"].context.store.history(kind="media")),
        "grid": len(env["grid"].context.store.history(kind="submission")),
        "smintio_assets": len(env["smintio"].context.store.history(kind="asset")),
        "smintio_comments": len(env["smintio"].context.store.history(kind="comment")),
        "workflow": len(env["workflow"].context.store.history(kind="instance")),
        "exstream": len(env["exstream"].context.store.history(kind="resource")),
    }
    return counts


def _next_slot() -> datetime:
    """The start of a 15-minute slot whose window ends after the returns made now."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now.replace(minute=now.minute - now.minute % 15) + timedelta(minutes=15)


def test_returns_are_validated_reviewed_and_delivered_once(airflow_db: Path, env: dict[str, Any]) -> None:
    env["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "regional_localization_review": {
                "outcome": "approved",
                "after_seconds": 0,
                "by_variable": {"file_name": {"spring-03-it.png": "rejected"}},
            }
        },
    )
    other = env["elsewhere"]["url"]
    good = vip_return(env, PNG)
    rejected_by_reviewer = vip_return(env, PNG, file_name="spring-03-it.png", language="it", region="emea")
    hostile = {
        "traversal": vip_return(env, PNG, file_name="../../etc/passwd"),
        "absolute": vip_return(env, PNG, file_name="/etc/passwd"),
        "backslashes": vip_return(env, PNG, file_name="..\\..\\windows\\win.ini"),
        "nul": vip_return(env, PNG, file_name="banner.png\x00.html"),
        "declared_oversized": vip_return(env, PNG, size=10 * 1024 * 1024 * 1024),
        "streamed_oversized": vip_return(env, images.png("huge", 400, 400), size=1000),
        "html_as_png": vip_return(env, HTML),
        "zip_as_png": vip_return(env, ZIP),
        "other_port": vip_return(env, download_url=f"{other}/spring-03-de.png", size=len(PNG)),
        "metadata_ip": vip_return(env, download_url="http://169.254.169.254/latest/meta-data/", size=len(PNG)),
        "redirect_away": vip_return(env, b"", redirect_to=f"{other}/stolen.png", size=len(PNG)),
        "editorial": vip_return(env, PNG, source_media_ref=EDITORIAL_MASTER),
        "language": vip_return(env, PNG, source_media_ref=GERMAN_ONLY_MASTER, language="fr", region="emea"),
        "region": vip_return(env, PNG, source_media_ref=NO_GB_MASTER, language="en", region="uk_and_ireland"),
        "no_derivatives": vip_return(env, PNG, source_media_ref=NO_DERIVATIVES_MASTER),
        "no_master": vip_return(env, PNG, source_media_ref="asset-does-not-exist"),
        "malformed": vip_return(env, PNG, source_media_ref=None),
    }
    partner_good = grid_submission(env, PNG)
    partner_zip = grid_submission(env, ZIP, file={"name": "fr.png", "contentType": "image/png"})
    partner_hostile = grid_submission(
        env,
        file={"name": "fr.png", "contentType": "image/png", "size": 100, "downloadUrl": f"{other}/fr.png"},
    )

    slot = _next_slot()
    run = _run(slot, max_file_mb=0.1)
    ledger: Ledger = env["ledger"]
    statuses = _returns(env)
    reasons = _quarantine_reasons(ledger)

    # every hostile return is quarantined with its reason, and its team is told why
    expected_code = {
        "traversal": "unsafe_file_name",
        "absolute": "unsafe_file_name",
        "backslashes": "unsafe_file_name",
        "nul": "unsafe_file_name",
        "declared_oversized": "file_too_large",
        "streamed_oversized": "file_too_large",
        "html_as_png": "content_mismatch",
        "zip_as_png": "content_mismatch",
        "other_port": "foreign_host",
        "metadata_ip": "forbidden_address",
        "redirect_away": "foreign_host",
        "editorial": "derivative_not_allowed",
        "language": "derivative_not_allowed",
        "region": "derivative_not_allowed",
        "no_derivatives": "derivative_not_allowed",
        "no_master": "master_not_found",
        "malformed": "invalid VIP return",
    }
    for case, return_id in hostile.items():
        assert reasons[f"vip:{return_id}"].startswith(expected_code[case]), case
        unsafe = expected_code[case] not in ("derivative_not_allowed", "master_not_found")  # unsafe: quarantined
        assert statuses[return_id]["review_status"] == ("quarantined" if unsafe else "rejected"), case
        assert statuses[return_id]["review_note"], case
    assert "editorial" in reasons[f"vip:{hostile['editorial']}"]
    assert "language" in reasons[f"vip:{hostile['language']}"]
    assert "gb" in reasons[f"vip:{hostile['region']}"]
    assert "forbid altering" in reasons[f"vip:{hostile['no_derivatives']}"]
    assert env["elsewhere"]["seen"] == []  # no request ever left for the other port or a redirect target

    # the partner submission pointing elsewhere is quarantined and answered
    submissions = _submissions(env)
    assert reasons[f"trading_grid:{partner_hostile}"].startswith("foreign_host")
    assert submissions[partner_hostile]["status"] == "quarantined"
    assert "partner's own host" in submissions[partner_hostile]["replies"][-1]["message"]
    assert reasons[f"trading_grid:{partner_zip}"].startswith("content_mismatch")
    assert submissions[partner_zip]["status"] == "quarantined"
    assert "application/zip" in submissions[partner_zip]["replies"][-1]["message"]

    # the good ones became variants of their master and went through one review each
    variants = {
        a["metadata"]["localization_return"]: a
        for a in env["smintio"].context.store.all("asset")
        if a.get("master_asset_id") and "localization_return" in a.get("metadata", {})
    }
    assert set(variants) == {f"vip:{good}", f"vip:{rejected_by_reviewer}", f"trading_grid:{partner_good}"}
    de, it, fr = (
        variants[f"vip:{good}"],
        variants[f"vip:{rejected_by_reviewer}"],
        variants[f"trading_grid:{partner_good}"],
    )
    assert (de["master_asset_id"], de["language"], de["region"]) == (GOOD_MASTER, "de", "dach")
    assert de["binaries"][0]["size_bytes"] == len(PNG)
    instances = env["workflow"].context.store.all("instance")
    assert sorted(i["variables"]["asset_id"] for i in instances) == sorted([de["id"], it["id"], fr["id"]])
    assert {i["processDefinitionKey"] for i in instances} == {"regional_localization_review"}

    # decisions landed: approved ones approved, the rejected one rejected and its team told
    assert de["approval_status"] == "approved" and fr["approval_status"] == "approved"
    assert it["approval_status"] == "rejected"
    assert statuses[good]["review_status"] == "accepted"
    assert statuses[rejected_by_reviewer]["review_status"] == "rejected"

    # EXS-6: approved images are APPROVED Exstream resources carrying region and language
    resources = {
        r["metadata"].get("source_asset"): r
        for r in env["exstream"].context.store.all("resource")
        if r["type"] == "image"
    }
    assert set(resources) == {de["id"], fr["id"]}
    assert resources[de["id"]]["state"] == "APPROVED"
    assert (resources[de["id"]]["metadata"]["region"], resources[de["id"]]["metadata"]["language"]) == ("dach", "de")
    assert (resources[fr["id"]]["metadata"]["region"], resources[fr["id"]]["metadata"]["language"]) == ("emea", "fr")
    partner_sha = hashlib.sha256(PNG).hexdigest()  # the bytes the team and the partner sent, not a stand-in
    assert resources[de["id"]]["content"]["sha256"] == resources[fr["id"]]["content"]["sha256"] == partner_sha

    # VIP-6: delivered back as media of the catalog item the team attached its return to, for the
    # region's regional teams
    media = {m["ref"]: m for m in env["vip"].context.store.all("media")}
    assert set(media) == {de["id"]}
    back = media[de["id"]]
    assert back["item_id"] == ITEM and back["usage_controls"]["regions"] == ["dach"] and back["content"]["size"] > 0
    assert back["content"]["sha256"] == hashlib.sha256(PNG).hexdigest()  # the team's own file went back to it
    parties = {p["id"]: p for p in env["vip"].context.store.all("party")}
    assert back["available_to"] and all(
        parties[p]["region"] == "dach" and parties[p]["kind"] == "regional_team" for p in back["available_to"]
    )
    assert [d.target for d in ledger.where_did_it_go(de["id"])].count(f"vip:{ITEM}") == 1
    # OTG-4: the partner is answered with the approved version
    decision = submissions[partner_good]["replies"][-1]
    assert submissions[partner_good]["status"] == "accepted"
    assert decision["assetId"] == fr["id"] and decision["version"] >= 1

    summary = ledger.run_summary("localization_return_loop", run.run_id)
    assert summary and Path(summary["report_path"]).is_file()

    # a re-run of the same slot and the next slot change nothing anywhere
    before = _partner_writes(env)
    quarantined = len(ledger.quarantined())
    _run(slot, max_file_mb=0.1)
    _run(slot + timedelta(minutes=15), max_file_mb=0.1)
    assert _partner_writes(env) == before
    assert len(ledger.quarantined()) == quarantined
    assert env["elsewhere"]["seen"] == []


def test_review_comments_and_status_stay_in_sync_both_ways(
    airflow_db: Path, env: dict[str, Any], token_store: Callable[[str], Any]
) -> None:
    """OWS-5: a review that outlives a run; comments from both sides cross once, the decision lands."""
    env["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={"regional_localization_review": {"outcome": "approved", "after_seconds": 3600}},
    )
    return_id = vip_return(env, PNG)
    slot = _next_slot()
    _run(slot, wait_for_reviews=False)
    (instance,) = env["workflow"].context.store.all("instance")
    variant_id = instance["variables"]["asset_id"]
    assert instance["ended"] is False
    assert instance["variables"]["smintio_status"] == "in_review"  # Smint.io status reached the workflow
    assert _returns(env)[return_id]["review_status"] == "in_review"

    # a brand manager comments in Smint.io, a regional reviewer in the workflow, then decides
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
    from contentops.hooks.smintio import SmintioHook

    env["smintio"].context.tokens.register_refresh_token("brand-manager-token", "brand.manager", "smintio.full")
    brand_manager = token_store("smintio")
    brand_manager.save("brand-manager-token")  # another user's own session in Smint.io
    SmintioHook(refresh_token_store=brand_manager).add_comment(variant_id, "Logo must stay top-left in DACH")
    OpenTextWorkflowHook().add_comment(instance["id"], "Umlauts fixed; fine for DACH")
    env["workflow"].admin("POST", "clock", json={"advance_seconds": 3601})

    _run(slot + timedelta(minutes=15))
    comments = env["smintio"].context.store.all("comment")
    mirrored = [c for c in comments if c["external_ref"]]
    assert [c["text"] for c in mirrored] == ["Umlauts fixed; fine for DACH"]  # reviewer -> Smint.io, once
    workflow_comments = env["workflow"].context.store.get("instance", instance["id"])["comments"]
    assert [c["message"] for c in workflow_comments] == [
        "Umlauts fixed; fine for DACH",
        "[Smint.io] brand.manager: Logo must stay top-left in DACH",
    ]  # Smint.io -> workflow, once, and the mirror never came back
    variant = env["smintio"].context.store.get("asset", variant_id)
    assert variant["approval_status"] == "approved"
    assert "Umlauts fixed" in variant["approval_history"][-1]["comment"]
    assert _returns(env)[return_id]["review_status"] == "accepted"
    (image,) = [r for r in env["exstream"].context.store.all("resource") if r["type"] == "image"]
    assert image["state"] == "APPROVED" and image["metadata"]["source_asset"] == variant_id

    before = _partner_writes(env)
    _run(slot + timedelta(minutes=30))
    assert _partner_writes(env) == before


def test_a_dry_run_validates_and_reports_without_changing_anything(airflow_db: Path, env: dict[str, Any]) -> None:
    good = vip_return(env, PNG)
    traversal = vip_return(env, PNG, file_name="../../etc/passwd")
    editorial = vip_return(env, PNG, source_media_ref=EDITORIAL_MASTER)
    run = _run(_next_slot(), dry_run=True)
    ledger: Ledger = env["ledger"]
    trail = [(e.subject, e.action) for e in ledger.audit_trail(run_id=run.run_id) if e.subject.startswith("vip:")]
    assert (f"vip:{good}", "accepted_for_review") in trail
    assert (f"vip:{traversal}", "would_quarantine") in trail
    assert (f"vip:{traversal}", "would_tell_partner_quarantined") in trail
    assert (f"vip:{editorial}", "would_tell_partner_rejected") in trail
    assert {r["review_status"] for r in _returns(env).values()} == {"received"}
    assert ledger.quarantined() == []
    assert not [a for a in env["smintio"].context.store.all("asset") if a.get("master_asset_id")]
    assert env["workflow"].context.store.all("instance") == []


def test_a_return_a_listing_served_malformed_is_read_again_not_rejected(airflow_db: Path, env: dict[str, Any]) -> None:
    """VIP and Trading Grid serve the first return of every listing page malformed. Each is read
    again by its id, found valid and taken in like the rest; none is refused at its partner."""
    env["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={"regional_localization_review": {"outcome": "approved", "after_seconds": 0}},
    )
    vip_ids = [vip_return(env, PNG), vip_return(env, PNG, file_name="spring-03-de-2.png")]
    grid_id = grid_submission(env, PNG)
    env["vip"].set_faults(malformed_rate=1.0)
    env["grid"].set_faults(malformed_rate=1.0)

    _run(_next_slot())

    statuses = _returns(env)
    assert {statuses[i]["review_status"] for i in vip_ids} == {"accepted"}
    assert _submissions(env)[grid_id]["status"] == "accepted"
    assert env["ledger"].quarantined() == []


def test_a_return_whose_master_license_the_feed_served_malformed_is_held_not_rejected(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    """The license feed serves every record malformed (all quarantined), so no license is known
    for the master: the return is held undecided, its team not told anything. Once the feed
    serves the license again, the next run takes it in."""
    approve_at_once = {"regional_localization_review": {"outcome": "approved", "after_seconds": 0}}
    env["workflow"].admin("PUT", "workflow/auto-complete", json=approve_at_once)
    good = vip_return(env, PNG)
    env["smintio"].set_faults(malformed_rate=1.0)
    slot = _next_slot()

    _run(slot)

    assert _returns(env)[good]["review_status"] not in ("rejected", "quarantined")
    assert env["ledger"].quarantined(source="smintio")
    trail = {(e.subject, e.action) for e in env["ledger"].audit_trail(pipeline="localization_return_loop")}
    assert (f"vip:{good}", "held") in trail

    env["smintio"].set_faults()
    _run(slot + timedelta(minutes=15))
    assert _returns(env)[good]["review_status"] == "accepted"
