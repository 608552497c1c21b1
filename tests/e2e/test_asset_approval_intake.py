"""asset_approval_intake end to end (OWS-1): draft assets start their approval workflow as they appear.

dag.test() against the Smint.io and Workflow sandboxes; then the approval handler
(:data:`contentops.pipelines.asset_approvals.APPROVAL_HANDLER`) is called as the workflow-outcomes
pipeline calls it. Effects are asserted where they land: instances and their steps in the
Workflow sandbox, approval status and comments in the Smint.io sandbox, processes, audit rows
and Asset events in the ledger and Airflow's database.

Drafts of the seed: ``asset-spring-09..12`` (campaign ``spring-launch-2027``, default model);
the test adds a draft of ``holiday-2026`` (run for the agency client ``northwind``, its own
model) and a new upload outside any campaign.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e

SEEDED = 24
SPRING_DRAFTS = ("asset-spring-09", "asset-spring-10", "asset-spring-11", "asset-spring-12")
HOLIDAY_DRAFT = "asset-holiday-05"
UPLOAD = "asset-upload-01"


@pytest.fixture
def env(connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    smintio = connect("smintio", options={"seeded_transactions": SEEDED})
    workflow = connect("workflow")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    store = smintio.context.store
    holiday = store.get("asset", HOLIDAY_DRAFT)
    store.put("asset", HOLIDAY_DRAFT, {**holiday, "approval_status": "draft"})  # sent back to draft
    upload = {
        **store.get("asset", "asset-logo-01"),
        "id": UPLOAD,
        "name": "New product shot",
        "approval_status": "draft",
        "campaign": None,
        "tags": [],
        "categories": ["product_shot"],
        "version": 1,
        "binaries": [{"id": f"{UPLOAD}-main", "name": f"{UPLOAD}.png", "content_type": "image/png"}],
    }
    store.put("asset", UPLOAD, upload)  # just uploaded by a creative
    return {"smintio": smintio, "workflow": workflow, "ledger": ledger}


def _run(**conf: Any) -> Any:
    run = load_dag("asset_approval_intake").test(logical_date=datetime.now(UTC), run_conf=conf)
    assert run.state == "success"
    return run


def _approvals(workflow: Any) -> dict[str, dict[str, Any]]:
    """Approval instances by business key."""
    return {
        i["businessKey"]: i
        for i in workflow.context.store.all("instance")
        if i["processDefinitionKey"] in ("asset_approval", "client_approval_northwind")
    }


def _open_steps(workflow: Any, instance_id: str) -> list[str]:
    return [
        t["name"]
        for t in workflow.context.store.all("task")
        if t["processInstanceId"] == instance_id and not t.get("ended")
    ]


def _events(run_id: str) -> list[tuple[str, dict[str, Any]]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, AssetEvent.extra)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_run_id == run_id)
        ).all()
    return [(uri, dict(extra or {})) for uri, extra in rows]


def _outcomes_run(env: dict[str, Any], token_store: Callable[[str], Any], run_id: str) -> Any:
    """A run of the workflow-outcomes pipeline as its handlers see it (its own Smint.io session)."""
    from contentops.hooks.smintio import SmintioHook
    from contentops.pipelines.runtime import PipelineRun
    from contentops.pipelines.window import RunWindow

    now = datetime.now(UTC)
    run = PipelineRun(
        "workflow_outcomes", run_id, RunWindow(now - timedelta(minutes=10), now), {}, ledger=env["ledger"]
    )
    env["smintio"].context.tokens.register_refresh_token(f"{run_id}-token", "contentops", "smintio.full")
    session = token_store("smintio")
    session.save(f"{run_id}-token")
    run._hooks["smintio"] = SmintioHook(refresh_token_store=session)
    return run


def _poll(run: Any) -> dict[str, str]:
    """A poll of the workflow-outcomes pipeline (its registry, as its DAG runs it): while_open on
    the open approvals, apply once on the ended ones; the outcome note of each applied one, by
    business key."""
    from contentops.pipelines.workflow_outcomes import apply_outcomes

    apply_outcomes(run)
    applied: dict[str, str] = {}
    for event in run.ledger.audit_trail(run_id=run.run_id):
        if event.action == "outcome_applied":
            record = run.ledger.process_for_instance(event.details["detail"])
            applied[record.business_key] = event.details["reason"]
    return applied


def test_every_draft_version_starts_its_approval_once_and_the_outcome_reaches_smintio(
    airflow_db: Path, env: dict[str, Any], token_store: Callable[[str], Any]
) -> None:
    from contentops.assets import WORKFLOWS_STARTED
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook

    workflow, smintio, ledger = env["workflow"], env["smintio"], env["ledger"]
    first = _run()

    # OWS-1: each draft gets the approval model of its campaign's client (the default one otherwise)
    approvals = _approvals(workflow)
    expected = {
        *(f"asset_approval:{a}:v1" for a in SPRING_DRAFTS),
        f"asset_approval:{UPLOAD}:v1",
        f"client_approval_northwind:{HOLIDAY_DRAFT}:v{smintio.context.store.get('asset', HOLIDAY_DRAFT)['version']}",
    }
    assert set(approvals) == expected
    upload = approvals[f"asset_approval:{UPLOAD}:v1"]
    assert upload["variables"]["asset_id"] == UPLOAD and upload["variables"]["asset_version"] == 1
    assert _open_steps(workflow, upload["id"]) == ["Legal review"]  # then brand review, marketing sign-off
    for key, instance in approvals.items():
        record = ledger.process(key)
        assert record is not None and record.instance_id == instance["id"]
    started = {e.subject for e in ledger.audit_trail(run_id=first.run_id) if e.action == "approval_started"}
    assert started == {*SPRING_DRAFTS, UPLOAD, HOLIDAY_DRAFT}
    assert _events(first.run_id) == [(WORKFLOWS_STARTED.uri, {"open": 6})]

    # a re-run starts nothing and tells no one
    again = _run()
    assert _approvals(workflow).keys() == expected
    assert _events(again.run_id) == []
    assert not [e for e in ledger.audit_trail(run_id=again.run_id) if e.action == "approval_started"]

    # the creative changes the upload (a new version, still a draft): that version is reviewed anew
    store = smintio.context.store
    store.put("asset", UPLOAD, {**store.get("asset", UPLOAD), "version": 2, "description": "retouched"})
    third = _run()
    assert set(_approvals(workflow)) == {*expected, f"asset_approval:{UPLOAD}:v2"}
    assert _events(third.run_id) == [(WORKFLOWS_STARTED.uri, {"open": 1})]

    # reviewers: the first version of the upload passes every step, but it changed meanwhile:
    # legal rejects the changed version with a reason; the spring drafts pass legal, brand and
    # marketing; the others are still open
    hook = OpenTextWorkflowHook()
    changed = _approvals(workflow)[f"asset_approval:{UPLOAD}:v2"]
    hook.add_comment(changed["id"], "Legal: the model release for this shot is missing.")
    (legal,) = hook.iter_tasks(processInstanceId=changed["id"])
    hook.complete_task(legal.id, "rejected")
    for instance_id in (*(approvals[f"asset_approval:{a}:v1"]["id"] for a in SPRING_DRAFTS), upload["id"]):
        for step in ("Legal review", "Brand review", "Marketing sign-off"):
            (task,) = hook.iter_tasks(processInstanceId=instance_id)
            assert task.name == step
            hook.complete_task(task.id, "approved")

    run = _outcomes_run(env, token_store, "outcomes-1")
    applied = _poll(run)
    assert applied == {
        **{f"asset_approval:{a}:v1": "approved" for a in SPRING_DRAFTS},
        f"asset_approval:{UPLOAD}:v1": "superseded",  # approved, but for content the asset no longer has
        f"asset_approval:{UPLOAD}:v2": "rejected",
    }
    for asset_id in SPRING_DRAFTS:
        assert store.get("asset", asset_id)["approval_status"] == "approved"
    rejected = store.get("asset", UPLOAD)
    assert rejected["approval_status"] == "rejected"
    assert [h["to"] for h in rejected["approval_history"]] == ["rejected"]  # never approved on the way
    reasons = [c["text"] for c in store.all("comment") if c["asset_id"] == UPLOAD]
    assert reasons == ["Legal: the model release for this shot is missing."]  # the reason, on the asset
    for key in applied:  # the ledger keeps the workflow's own outcome; the run report says what was done
        record = ledger.process(key)
        assert record is not None and record.status == "applied"
        assert record.outcome == ("rejected" if key.endswith(":v2") else "approved")
    assert store.get("asset", HOLIDAY_DRAFT)["approval_status"] == "draft"  # its client has not answered

    # the next poll applies nothing again and writes nothing to Smint.io
    writes = len(store.history(kind="asset"))
    comments = len(store.all("comment"))
    assert _poll(_outcomes_run(env, token_store, "outcomes-2")) == {}
    assert len(store.history(kind="asset")) == writes and len(store.all("comment")) == comments
    assert ledger.effects(run_id="outcomes-2") == []


def test_a_dry_run_reports_the_drafts_and_starts_nothing(airflow_db: Path, env: dict[str, Any]) -> None:
    run = _run(dry_run=True)
    assert _approvals(env["workflow"]) == {}
    would = {e.subject for e in env["ledger"].audit_trail(run_id=run.run_id) if e.action == "approval_would_start"}
    assert would == {*SPRING_DRAFTS, UPLOAD, HOLIDAY_DRAFT}
    assert _events(run.run_id) == []
    assert env["ledger"].process(f"asset_approval:{UPLOAD}:v1") is None
