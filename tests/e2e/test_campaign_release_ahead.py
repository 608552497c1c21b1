"""campaign_release ahead of the launch (issue 13 item 1, scenario X-1), end to end.

A run selecting by date (no campaign of its own, as every scheduled run) releases what is due
within ``lead_days`` after its window ahead of the date, under embargo in every partner, and
catches up an overdue campaign never released, once; after the date a later run moves the
embargoed Exstream images to APPROVED, once. Effects are asserted where they land: each
sandbox's state, the answers its partners' side gets, and the ledger.

Seeded campaigns (``contentops_sandbox.smintio.seed``): ``spring-launch-2027`` releases three
days after the seed at 09:00, ``holiday-2026`` ten days after, ``summer-refresh`` 45 days after;
this module moves ``summer-refresh`` into the past to make it overdue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e.project_dags import load_dag

from contentops.ledger import Ledger
from contentops_sandbox.connections import (
    exstream_connection,
    opentext_workflow_connection,
    smintio_connection,
    trading_grid_connection,
    vip_connection,
)

pytestmark = pytest.mark.e2e

DUE = "spring-launch-2027"
OVERDUE = "summer-refresh"
LATER = "holiday-2026"
DUE_ITEM, OVERDUE_ITEM = "ITM-1001", "ITM-2001"  # their VIP catalog items (include/config/campaign_release.yaml)
DOMAIN = "retail"  # the release's default Exstream domain


@pytest.fixture
def env(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Every sandbox the release talks to, its connections, approvers that answer at once, a fresh ledger."""
    systems = {
        "smintio": sandbox("smintio", options={"seeded_transactions": 24}),
        "workflow": sandbox("workflow"),
        "vip": sandbox("vip"),
        "grid": sandbox("trading_grid"),
        "exstream": sandbox("exstream"),
    }
    systems["workflow"].admin(
        "PUT", "workflow/auto-complete", json={"asset_approval": {"outcome": "approved", "after_seconds": 0}}
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


def _release_date(env: dict[str, Any], campaign: str) -> datetime:
    return datetime.fromisoformat(env["smintio"].context.store.get("campaign", campaign)["release_date"])


def _by_date(env: dict[str, Any], window_end: datetime, later: timedelta = timedelta(0)) -> Any:
    """A daily run whose data interval ends at ``window_end`` (04:00), selecting by date as a
    scheduled one (``later``: another run of the same interval; dag.test() replaces a run of the
    same logical date)."""
    run = load_dag("campaign_release").test(
        logical_date=window_end + timedelta(hours=1) + later, run_conf={"campaign": None}
    )
    assert run.state == "success"
    return run


def _entries(env: dict[str, Any], run_id: str, action: str) -> dict[str, dict[str, Any]]:
    return {e.subject: e.details or {} for e in env["ledger"].audit_trail(run_id=run_id) if e.action == action}


def _media(env: dict[str, Any], item: str) -> dict[str, dict[str, Any]]:
    return {m["asset_id"]: m for m in env["vip"].context.store.all("media") if m["item_id"] == item}


def _kits(env: dict[str, Any], campaign: str) -> dict[str, dict[str, Any]]:
    return {p["community"]: p for p in env["grid"].context.store.all("post") if p["ref"] == f"kit-{campaign}"}


def _images(env: dict[str, Any], campaign: str) -> dict[str, dict[str, Any]]:
    return {
        r["id"]: r
        for r in env["exstream"].context.store.all("resource")
        if r["domain"] == DOMAIN and (r.get("metadata") or {}).get("campaign") == campaign
    }


def _changes(env: dict[str, Any]) -> dict[str, int]:
    """How many writes each partner sandbox has recorded (a run that adds nothing adds none)."""
    return {
        "vip": len(env["vip"].context.store.history(kind="media")),
        "grid": len(env["grid"].context.store.history(kind="post")),
        "exstream": len(env["exstream"].context.store.history(kind="resource")),
    }


def _as_partner(running: Any, path: str) -> requests.Response:
    """GET ``path`` on a sandbox as a partner's client would (a token of its own, on the sandbox clock)."""
    token = running.context.tokens.issue("partner").access_token
    return requests.get(f"{running.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_campaign_due_in_two_days_goes_out_under_embargo_and_an_overdue_one_is_caught_up_once(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    due_on = _release_date(env, DUE)
    window_end = (due_on - timedelta(days=2)).replace(hour=4, minute=0)  # the launch is 2 days (and 5 h) away
    store = env["smintio"].context.store
    overdue = store.get("campaign", OVERDUE)
    overdue_on = window_end - timedelta(days=4)  # its date passed four days ago; it was never released
    store.put("campaign", OVERDUE, {**overdue, "release_date": overdue_on.isoformat()})
    assert _release_date(env, LATER) - window_end > timedelta(days=3)  # beyond lead_days: not yet

    run = _by_date(env, window_end)
    planned = _entries(env, run.run_id, "release_planned")
    assert set(planned) == {f"campaign:{DUE}", f"campaign:{OVERDUE}"}
    ahead, late = planned[f"campaign:{DUE}"]["plan"], planned[f"campaign:{OVERDUE}"]["plan"]
    assert datetime.fromisoformat(ahead["embargo_until"]) == due_on and ahead["late"] is False
    assert late["embargo_until"] is None and late["late"] is True
    assert "late" in planned[f"campaign:{OVERDUE}"]["reason"]  # the run report's line for it
    # rights decided for the release date (the late one: for the window's end, when it arrives)
    assert datetime.fromisoformat(ahead["on_date"]) == due_on
    assert datetime.fromisoformat(late["on_date"]) == window_end

    # VIP: the due campaign's media held with its availability date; not served to a retailer yet
    media = _media(env, DUE_ITEM)
    assert media and all(datetime.fromisoformat(m["available_from"]) == due_on for m in media.values())
    some = sorted(media)[0]
    early = _as_partner(env["vip"], f"/api/v1/items/{DUE_ITEM}/media/{some}/content")
    assert early.status_code == 403 and early.json()["error"]["code"] == "not_yet_available"
    caught_up = _media(env, OVERDUE_ITEM)
    assert caught_up and not any(m.get("available_from") for m in caught_up.values())
    served = _as_partner(env["vip"], f"/api/v1/items/{OVERDUE_ITEM}/media/{sorted(caught_up)[0]}/content")
    assert served.status_code == 200

    # Trading Grid: the due campaign's launch kits are embargoed until the date; their files withheld
    kits = _kits(env, DUE)
    assert kits and all(datetime.fromisoformat(k["embargoed_until"]) == due_on for k in kits.values())
    community, kit = sorted(kits.items())[0]
    attachment = sorted(kit["attachments"])[0]
    path = f"/communities/v1/communities/{community}/posts/{kit['ref']}/attachments/{attachment}"
    assert _as_partner(env["grid"], path).status_code == 403
    assert all(not k.get("embargoed_until") for k in _kits(env, OVERDUE).values())

    # Exstream: the due campaign's images wait in REVIEW, valid from the date; the late ones are APPROVED
    images = _images(env, DUE)
    assert images and {r["state"] for r in images.values()} == {"REVIEW"}
    for image in images.values():
        assert datetime.fromisoformat(image["metadata"]["valid_from"]) == due_on
        assert image["metadata"]["rights_status"] == "embargoed"
    assert {r["state"] for r in _images(env, OVERDUE).values()} == {"APPROVED"}
    # the sandbox refuses to approve an embargoed image before its date (as we model Exstream)
    some_image = sorted(images)[0]
    token = env["exstream"].context.tokens.issue("someone").access_token
    refused = requests.put(
        f"{env['exstream'].url}/design/api/v1/resources/{DOMAIN}/{some_image}/state",
        json={"state": "APPROVED", "auditedComment": "too early", "locked": False},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert refused.status_code == 409

    # the drafts' approvals were started, not waited for: workflow_outcomes applies them and the
    # run their Asset starts delivers them, which completes the release
    outcomes = load_dag("workflow_outcomes").test(logical_date=window_end + timedelta(hours=1))
    assert outcomes.state == "success"
    completing = _by_date(env, window_end, later=timedelta(seconds=1))
    images = _images(env, DUE)  # the approved drafts' images too, embargoed like the rest
    assert {r["state"] for r in images.values()} == {"REVIEW"}
    # both releases are recorded as complete; a second run (the next day's) adds nothing anywhere
    released = {**_entries(env, run.run_id, "released"), **_entries(env, completing.run_id, "released")}
    assert set(released) == {f"campaign:{DUE}", f"campaign:{OVERDUE}"}
    before = _changes(env)
    again = _by_date(env, window_end + timedelta(days=1))
    assert _entries(env, again.run_id, "release_planned") == {}
    assert _changes(env) == before

    # the date passes: the partners' clocks move past it and the run after the launch lifts the
    # Exstream embargo by state — every image APPROVED, once; VIP and Trading Grid serve the files
    after = due_on.replace(hour=4) + timedelta(days=1)
    for name in ("vip", "grid", "exstream"):
        env[name].context.clock.advance((after - datetime.now(UTC)).total_seconds() + 3600)
    lifted = _by_date(env, after)
    assert _entries(env, lifted.run_id, "release_planned") == {}
    assert {r["state"] for r in _images(env, DUE).values()} == {"APPROVED"}
    assert {r["metadata"]["rights_status"] for r in _images(env, DUE).values()} == {"cleared"}
    lifts = [e for e in env["ledger"].audit_trail(run_id=lifted.run_id) if e.action == "embargo_lifted"]
    assert sorted(str(e.details["detail"]) for e in lifts) == sorted(images)
    assert _as_partner(env["vip"], f"/api/v1/items/{DUE_ITEM}/media/{some}/content").status_code == 200
    assert _as_partner(env["grid"], path).status_code == 200

    once = _by_date(env, after + timedelta(days=1))
    assert not [e for e in env["ledger"].audit_trail(run_id=once.run_id) if e.action == "embargo_lifted"]
    approvals = [h for h in env["exstream"].context.store.history(kind="resource") if h["action"] == "state:APPROVED"]
    for image in images:
        assert sum(1 for h in approvals if h.get("id") == image) == 1
