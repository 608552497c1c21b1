"""usage_reconciliation end to end (EXS-7, OWS-8): dag.test() against the Smint.io, Exstream and
Workflow sandboxes.

Usage is produced the way production produces it (batches run in the Exstream sandbox), and
asserted where it lands: volumes on the assets in the Smint.io sandbox, usage rows and findings in
the ledger's audit trail, compliance reviews in the Workflow sandbox, bad records in quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.hooks.exstream import ExstreamHook
from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
from contentops.ledger import Ledger
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.e2e

#: campaign assets are linked to the syncable licenses in order: asset-spring-0N <-> license N-1
GB_RESTRICTED = "asset-spring-05"  # license 4: europe, but not gb
EXPIRED = "asset-spring-04"  # license 3: ended 10 days ago
HEAVY = "asset-spring-03"  # license 2: worldwide, valid for 90 more days
CLEAN = "asset-spring-10"  # license 9: worldwide, perpetual
WELCOME, STATEMENT = "comm-retail-welcome", "comm-retail-statement"  # sent to de / gb
THRESHOLD = 5000


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": 36})
    exstream = connect("exstream")
    workflow = connect("workflow")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    hook = ExstreamHook()
    resources: dict[str, str] = {}
    for asset_id in (GB_RESTRICTED, EXPIRED, HEAVY, CLEAN, "not-ours"):
        source = tmp_path / f"{asset_id}.png"
        source.write_bytes(images.png(asset_id))
        resource = hook.upload_image("retail", source, name=f"{asset_id}.png", content_type="image/png")
        hook.set_state("retail", resource.id, "REVIEW", "release")
        hook.set_state("retail", resource.id, "APPROVED", "release")
        resources[asset_id] = resource.id
        if asset_id != "not-ours":  # what campaign release left in the ledger
            plan = ledger.plan("campaign_release", asset_id, 1, "exstream:retail")
            ledger.begin(plan)
            ledger.complete(plan.key, resource.id)
    links = {
        WELCOME: [GB_RESTRICTED, CLEAN, EXPIRED, "not-ours"],
        STATEMENT: [GB_RESTRICTED, HEAVY],
    }
    for communication, assets in links.items():
        exstream.admin(
            "PUT",
            "exstream/links",
            json={"domain": "retail", "subjectId": communication, "objectIds": [resources[a] for a in assets]},
        )
    return {"smintio": smintio, "exstream": exstream, "workflow": workflow, "ledger": ledger, "resources": resources}


def _dag() -> Any:
    return load_dag("usage_reconciliation")


def _produce(exstream: Any, communication: str, records: int, at: datetime) -> None:
    """A production batch run at ``at`` (every APPROVED image of the communication is used)."""
    exstream.admin(
        "POST",
        "exstream/production-batch",
        json={"domain": "retail", "communicationId": communication, "records": records, "at": at.isoformat()},
    )


def _usage(smintio: Any, asset_id: str) -> dict[str, Any]:
    return smintio.context.store.get("asset", asset_id)["metadata"].get("exstream_usage", {})


def test_usage_returns_to_smintio_and_suspicious_usage_starts_one_review(airflow_db: Path, env: dict) -> None:
    exstream, smintio, ledger = env["exstream"], env["smintio"], env["ledger"]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    _produce(exstream, WELCOME, 40, yesterday + timedelta(hours=9))
    _produce(exstream, STATEMENT, 30, yesterday + timedelta(hours=10))
    _produce(exstream, STATEMENT, 6000, yesterday + timedelta(hours=14))
    _produce(exstream, WELCOME, 999, yesterday - timedelta(days=2))  # another day: not this run's
    exstream.context.store.put(
        "usage",
        "usage-bad",
        {
            "id": "usage-bad",
            "domain": "retail",
            "resourceId": env["resources"][CLEAN],
            "communicationId": WELCOME,
            "stream": "welcome-letters",
            "volume": -1,
            "recordedAt": (yesterday + timedelta(hours=12)).isoformat(),
        },
    )

    run = _dag().test(logical_date=today, run_conf={"volume_threshold": THRESHOLD})
    assert run.state == "success"
    day = yesterday.date().isoformat()
    # EXS-7: volumes per day and stream on the assets in Smint.io, and in the ledger's audit trail
    assert _usage(smintio, CLEAN) == {day: {"welcome-letters": 40}}
    assert _usage(smintio, GB_RESTRICTED) == {day: {"welcome-letters": 40, "statements": 6030}}
    assert _usage(smintio, HEAVY) == {day: {"statements": 6030}}
    trail = ledger.audit_trail(run_id=run.run_id)
    usage_rows = {
        (e.subject, e.details["stream"], e.details["region"]): e.details["volume"] for e in trail if e.action == "usage"
    }
    assert usage_rows[(GB_RESTRICTED, "statements", "gb")] == 6030
    assert usage_rows[(EXPIRED, "welcome-letters", "de")] == 40
    assert sum(usage_rows.values()) == 40 * 3 + 6030 * 2  # the day before yesterday is not counted
    assert [e.subject for e in trail if e.action == "usage_unmatched"] == [env["resources"]["not-ours"]]
    assert [q.ref for q in ledger.quarantined(run_id=run.run_id)] == ["usage-bad"]
    # OWS-8: one compliance review per asset whose usage is over the threshold or looks wrong
    reviews = {i["variables"]["asset_id"]: i for i in env["workflow"].context.store.all("instance")}
    assert set(reviews) == {GB_RESTRICTED, EXPIRED, HEAVY}
    assert "usage_outside_region" in reviews[GB_RESTRICTED]["variables"]["findings"]
    assert reviews[EXPIRED]["variables"]["findings"] == ["usage_after_expiry"]
    assert reviews[HEAVY]["variables"]["findings"] == ["usage_over_threshold"]
    assert all(i["processDefinitionKey"] == "compliance_review" for i in reviews.values())
    assert reviews[HEAVY]["businessKey"] == f"compliance_review:{HEAVY}:v{yesterday:%Y-%m}"
    assert "usage:compliance-review" in smintio.context.store.get("asset", HEAVY)["tags"]
    assert "usage:compliance-review" not in smintio.context.store.get("asset", CLEAN)["tags"]

    # a re-run of the day writes nothing anywhere
    asset_writes = len(smintio.context.store.history(kind="asset"))
    again = _dag().test(logical_date=today, run_conf={"volume_threshold": THRESHOLD})
    assert again.state == "success"
    assert len(smintio.context.store.history(kind="asset")) == asset_writes
    assert len(env["workflow"].context.store.all("instance")) == 3

    # the next day adds its own figures; a review already open for the month is not started twice
    _produce(exstream, STATEMENT, 10, today + timedelta(hours=8))
    later = _dag().test(logical_date=today + timedelta(days=1), run_conf={"volume_threshold": THRESHOLD})
    assert later.state == "success"
    assert _usage(smintio, HEAVY) == {day: {"statements": 6030}, today.date().isoformat(): {"statements": 10}}
    if today.month == yesterday.month:
        assert len(env["workflow"].context.store.all("instance")) == 3

    # OWS-8: the reviewers decide, each with a comment; the next run writes every outcome back to
    # Smint.io, once per review, with the reviewer's words
    decisions = {
        HEAVY: ("cleared", "Volume agreed with the provider for the statement run"),
        GB_RESTRICTED: ("restrict", "Not for gb statements; keep it to the continent"),
        EXPIRED: ("removed", "The license ended before the mailing"),
    }
    cleared_status = smintio.context.store.get("asset", HEAVY)["approval_status"]
    workflow = OpenTextWorkflowHook()
    for asset_id, (outcome, comment) in decisions.items():
        instance_id = reviews[asset_id]["id"]
        workflow.add_comment(instance_id, comment)
        (review_task,) = workflow.iter_tasks(processInstanceId=instance_id)
        workflow.complete_task(review_task.id, outcome)
    decided = _dag().test(logical_date=today + timedelta(days=2), run_conf={"volume_threshold": THRESHOLD})
    assert decided.state == "success"
    assets = {a: smintio.context.store.get("asset", a) for a in decisions}
    assert "compliance:cleared" in assets[HEAVY]["tags"] and "usage:compliance-review" not in assets[HEAVY]["tags"]
    assert assets[HEAVY]["approval_status"] == cleared_status  # cleared: its approval stands
    assert assets[GB_RESTRICTED]["approval_status"] == "in_review"
    assert "compliance:restricted" in assets[GB_RESTRICTED]["tags"]
    assert decisions[GB_RESTRICTED][1] in assets[GB_RESTRICTED]["approval_history"][-1]["comment"]
    assert assets[EXPIRED]["approval_status"] == "retired"
    assert decisions[EXPIRED][1] in assets[EXPIRED]["approval_history"][-1]["comment"]
    for asset_id, (outcome, comment) in decisions.items():
        noted = assets[asset_id]["metadata"]["compliance_review"]
        assert (noted["instance"], noted["outcome"]) == (reviews[asset_id]["id"], outcome) and comment in noted[
            "comment"
        ]
        assert ledger.process(reviews[asset_id]["businessKey"]).status == "applied"
    # applied once: neither a re-run of that day nor the next day writes any of it again
    asset_writes = len(smintio.context.store.history(kind="asset"))
    for later_day in (2, 3):
        rerun = _dag().test(logical_date=today + timedelta(days=later_day), run_conf={"volume_threshold": THRESHOLD})
        assert rerun.state == "success"
    assert len(smintio.context.store.history(kind="asset")) == asset_writes
    actions = [h["action"] for h in smintio.context.store.history(kind="asset", doc_id=EXPIRED)]
    assert actions.count("retire") == 1


def test_dry_run_reads_and_decides_without_writing(airflow_db: Path, env: dict) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    _produce(env["exstream"], STATEMENT, 30, today - timedelta(hours=5))
    asset_writes = len(env["smintio"].context.store.history(kind="asset"))
    run = _dag().test(logical_date=today, run_conf={"dry_run": True})
    assert run.state == "success"
    assert len(env["smintio"].context.store.history(kind="asset")) == asset_writes
    assert env["workflow"].context.store.all("instance") == []
    actions = [e.action for e in env["ledger"].audit_trail(run_id=run.run_id, subject=GB_RESTRICTED)]
    assert "usage" in actions and "usage_outside_region" in actions
