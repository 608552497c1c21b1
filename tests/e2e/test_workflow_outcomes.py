"""workflow_outcomes end to end (issue 13 item 2, scenario X-2): no window is lost, and no wait
holds back the rest. dag.test() against the sandboxes.

A reviewer who answers only after three intervals is the Workflow sandbox's auto-complete rule
with a delay of its own for one renewal (``by_variable`` → ``after_seconds``), the intervals
passing on the sandbox clock. Effects are asserted where they land (the Smint.io asset, the VIP
media, the Workflow instances) and in the ledger (process status and outcome, deliveries).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.given import vip_media_released
from e2e.project_dags import load_dag

from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e

SEEDED = 36
EXPIRED_ASSET = "asset-spring-04"  # license 3: expired 10 days ago -> its renewal answers "takedown" at once
EXPIRING_ASSET = "asset-spring-01"  # license 0: expires in 7 days -> its reviewer answers after 3.5 days
VIP_ITEM = "ITM-1001"
RENEWED_UNTIL = "2027-06-30T00:00:00+00:00"
DAY = 86_400
SLOW = 3.5 * DAY  # longer than three daily intervals (and than the escalation's 3 days)


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
                "by_variable": {
                    "asset_id": {
                        EXPIRED_ASSET: "takedown",
                        EXPIRING_ASSET: {"outcome": "renew", "after_seconds": SLOW},
                    }
                },
            },
            "compliance_exception": {"outcome": "cleared", "after_seconds": 0},
            # creative requests and escalations wait for people the test does not play
        },
    )
    vip = connect("vip")
    for name in ("trading_grid", "exstream", "consonance"):
        connect(name)
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for asset_id in (EXPIRED_ASSET, EXPIRING_ASSET):  # an earlier campaign release left them in VIP
        vip_media_released(vip, asset_id, VIP_ITEM, ledger=ledger)
    return {"smintio": smintio, "workflow": workflow, "vip": vip, "ledger": ledger}


def _run(dag_id: str, logical_date: datetime, **conf: Any) -> Any:
    run = load_dag(dag_id).test(logical_date=logical_date, run_conf=conf or None)
    assert run.state == "success", f"{dag_id} {logical_date}: {run.state}"
    return run


def _renewals(workflow: Any) -> dict[str, dict[str, Any]]:
    return {
        i["variables"]["asset_id"]: i
        for i in workflow.context.store.all("instance")
        if i["processDefinitionKey"] == "rights_renewal"
    }


def _escalations(workflow: Any) -> list[dict[str, Any]]:
    return [
        i for i in workflow.context.store.all("instance") if i["processDefinitionKey"] == "rights_renewal_escalation"
    ]


def _asset(env: dict[str, Any], asset_id: str) -> dict[str, Any]:
    return env["smintio"].context.store.get("asset", asset_id)


def _media(env: dict[str, Any], asset_id: str) -> dict[str, Any]:
    return env["vip"].context.store.get("media", f"{VIP_ITEM}/{asset_id}")


def test_a_slow_renewal_holds_back_no_takedown_and_is_applied_once_when_it_ends(airflow_db: Path, env: dict) -> None:
    workflow, ledger = env["workflow"], env["ledger"]
    sweep_day = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    # a poll's window ends at its logical date: the first poll's ends after the workflows started
    poll = datetime.now(UTC).replace(second=0, microsecond=0)
    poll += timedelta(minutes=20 - poll.minute % 10)

    # day 0: the sweep starts both renewals and finishes: it waits for neither
    _run("rights_expiry_sweep", sweep_day)
    renewals = _renewals(workflow)
    assert {EXPIRED_ASSET, EXPIRING_ASSET} <= set(renewals)
    assert "rights_disposition" not in _asset(env, EXPIRED_ASSET)["metadata"]  # the sweep applied nothing itself
    takedown_key = renewals[EXPIRED_ASSET]["businessKey"]
    slow_key = renewals[EXPIRING_ASSET]["businessKey"]

    # the next poll applies the takedown at once; the slow renewal stays open, nothing of it applied
    first = _run("workflow_outcomes", poll)
    assert _asset(env, EXPIRED_ASSET)["approval_status"] == "retired"
    assert _media(env, EXPIRED_ASSET)["status"] == "withdrawn"
    taken_down = ledger.process(takedown_key)
    assert taken_down is not None and (taken_down.status, taken_down.outcome) == ("applied", "takedown")
    slow = ledger.process(slow_key)
    assert slow is not None and slow.status != "applied"
    assert "rights_disposition" not in _asset(env, EXPIRING_ASSET)["metadata"]
    assert (
        _media(env, EXPIRING_ASSET)["status"] == "active"
        and _media(env, EXPIRING_ASSET)["approval_status"] == "approved"
    )
    assert {e.subject for e in ledger.audit_trail(run_id=first.run_id) if e.action == "outcome_applied"} >= {
        EXPIRED_ASSET
    }
    # a second poll (or an overlapping run) applies nothing twice
    again = _run("workflow_outcomes", poll)
    assert ledger.effects(run_id=again.run_id) == []
    assert not [e for e in ledger.audit_trail(run_id=again.run_id) if e.action == "outcome_applied"]

    # three daily intervals pass while the reviewer has not answered; each day's sweep and polls run
    for day in (1, 2, 3):
        workflow.context.clock.advance(DAY)
        _run("rights_expiry_sweep", sweep_day + timedelta(days=day))
        _run("workflow_outcomes", poll + timedelta(days=day))
        _run("workflow_outcomes", poll + timedelta(days=day))  # a second poll the same day
        slow = ledger.process(slow_key)
        assert slow is not None and slow.status != "applied", f"day {day}"
        assert "rights_disposition" not in _asset(env, EXPIRING_ASSET)["metadata"]
        # open 3 days: escalated once (by its own business key), however many polls see it
        assert len(_escalations(workflow)) == (1 if day >= 3 else 0), f"day {day}"
    (escalation,) = _escalations(workflow)
    assert escalation["variables"]["escalated_instance"] == renewals[EXPIRING_ASSET]["id"]
    assert ledger.process(escalation["businessKey"]) is not None

    # the reviewer answers (3.5 days): the next poll applies the renewal, once
    workflow.context.clock.advance(DAY)
    applied = _run("workflow_outcomes", poll + timedelta(days=4))
    slow = ledger.process(slow_key)
    assert slow is not None and (slow.status, slow.outcome) == ("applied", "renew")
    assert _asset(env, EXPIRING_ASSET)["metadata"]["rights_disposition"] == "renew"
    assert _media(env, EXPIRING_ASSET)["usage_controls"]["valid_until"].startswith(RENEWED_UNTIL[:10])
    assert {e.subject for e in ledger.audit_trail(run_id=applied.run_id) if e.action == "disposition_renew"} == {
        EXPIRING_ASSET
    }
    _run("workflow_outcomes", poll + timedelta(days=4, minutes=10))
    vip_writes = [h for h in env["vip"].context.store.history(kind="media") if h["action"] in ("withdraw", "restrict")]
    assert len(vip_writes) == 2  # one withdrawal (day 0), one re-restriction (day 4), nothing repeated
    assert len(_escalations(workflow)) == 1
    # the renewal's outcome was claimed by one run and recorded applied: no hold is left on it
    assert ledger.process(slow_key).status == "applied"  # type: ignore[union-attr]


def test_creative_requests_filed_in_skipped_intervals_are_answered_by_the_next_run(airflow_db: Path, env: dict) -> None:
    """workflow_intake selects open requests by state: a request filed in an interval whose run
    never happened (held up, or skipped by the scheduler) is answered by the next run."""
    workflow, ledger = env["workflow"], env["ledger"]
    hook = OpenTextWorkflowHook()
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    filed = datetime.now(UTC)
    requests = {
        name: hook.start_instance(
            "creative_request_intake",
            name=f"Request {name}",
            variables={"campaign_type": "product_launch", "region": "gb", "format": "banner", "deadline": deadline},
        )
        for name in ("first interval", "second interval")
    }
    # the next run that happens is three hourly intervals later
    as_of = filed.replace(minute=40, second=0, microsecond=0) + timedelta(hours=4)
    run = _run("workflow_intake", as_of, as_of=as_of.isoformat())
    for name, instance in requests.items():
        answered = workflow.context.store.get("instance", instance.id)
        assert answered["ended"] and answered["outcome"] in ("matched", "no_match"), name
        assert "match_outcome" in answered["variables"], name
    answered_tasks = [d for d in ledger.effects(run_id=run.run_id) if d["target"].startswith("workflow_task:")]
    assert len(answered_tasks) == len(requests)
    # the run after answers none of them again
    later = _run("workflow_intake", as_of + timedelta(hours=1), as_of=(as_of + timedelta(hours=1)).isoformat())
    assert ledger.effects(run_id=later.run_id) == []


def test_a_slow_approval_holds_back_no_delivery_and_its_asset_follows_once_approved(
    airflow_db: Path, sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """campaign_release does not wait for its approvals: what is approved goes out at once, an
    asset whose reviewer answers three days later is delivered by the run after its approval was
    applied (the campaign stays due meanwhile), once."""
    from e2e.test_campaign_release import _env, _now, _vip_items

    env = _env(sandbox, monkeypatch, tmp_path)
    workflow, ledger = env["workflow"], env["ledger"]
    slow_asset = "asset-spring-12"
    workflow.admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "asset_approval": {
                "outcome": "approved",
                "after_seconds": 0,
                "by_variable": {"asset_id": {slow_asset: {"outcome": "approved", "after_seconds": SLOW}}},
            }
        },
    )
    conf = {"targets": ["vip"]}
    now = _now()
    first = _run("campaign_release", now, **conf)
    delivered = set(_vip_items(env))
    assert {"asset-spring-01", "asset-spring-03", "asset-spring-08"} <= delivered  # approved: out at once
    assert slow_asset not in delivered and "asset-spring-10" not in delivered  # drafts: approvals started
    assert "wait_for_approval" not in {ti.task_id for ti in first.get_task_instances()}

    _run("workflow_outcomes", now)  # the prompt approvals are applied, the slow one stays open
    assets = {a["id"]: a for a in env["smintio"].context.store.all("asset")}
    assert assets["asset-spring-10"]["approval_status"] == "approved"
    assert assets[slow_asset]["approval_status"] != "approved"
    _run("campaign_release", now, **conf)  # started by the approvals' Asset in production
    assert "asset-spring-10" in _vip_items(env) and slow_asset not in _vip_items(env)

    workflow.context.clock.advance(4 * DAY)  # the slow reviewer answers
    applied = _run("workflow_outcomes", now + timedelta(days=4))
    assert {e.subject for e in ledger.audit_trail(run_id=applied.run_id) if e.action == "approval_approved"} == {
        slow_asset
    }
    _run("campaign_release", now + timedelta(days=4), **conf)
    _run("campaign_release", now + timedelta(days=4), **conf)  # and once only
    assert slow_asset in _vip_items(env)
    creates = [h for h in env["vip"].context.store.history(kind="media") if h["action"] == "create"]
    assert len(creates) == len(_vip_items(env))
    approvals = [i for i in workflow.context.store.all("instance") if i["variables"].get("asset_id") == slow_asset]
    assert len(approvals) == 1
