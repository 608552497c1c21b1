"""OpenTextWorkflowHook against the Workflow Service sandbox over real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.errors import AuthenticationError, NotFoundError, RequestRejectedError
from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
from contentops.ledger import Ledger
from contentops.pipelines.workflows import WorkflowStartInProgress, business_key, start_workflow_once
from contentops_sandbox.connections import opentext_workflow_connection

pytestmark = pytest.mark.contract


@pytest.fixture
def workflow(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, Any]]:
    def start(**config: Any) -> tuple[OpenTextWorkflowHook, Any]:
        running = sandbox("workflow", **config)
        conn = opentext_workflow_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
        monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_WORKFLOW_DEFAULT", json.dumps(conn))
        return OpenTextWorkflowHook(), running

    return start


def test_models_and_a_workflow_that_really_moves(workflow: Callable[..., Any]) -> None:
    hook, _ = workflow()
    assert {m.key for m in hook.list_models()} >= {
        "asset_approval",
        "rights_renewal",
        "compliance_exception",
        "regional_localization_review",
        "creative_request_intake",
    }
    assert [m.key for m in hook.list_models("rights_renewal")] == ["rights_renewal"]
    instance = hook.start_instance(
        "asset_approval", name="Approve asset-1", business_key="asset_approval:a-1:v1", variables={"asset_id": "a-1"}
    )
    assert instance.state == "running" and instance.variables == {"asset_id": "a-1"}
    for expected in ("Legal review", "Brand review", "Marketing sign-off"):
        (task,) = list(hook.iter_tasks(processInstanceId=instance.id))
        assert task.name == expected
        hook.claim_task(task.id, "reviewer")
        hook.complete_task(task.id, "approved", {"reviewed_by": "reviewer"})
    done = hook.get_instance(instance.id)
    assert done.ended and done.completed and done.outcome == "approved"
    assert done.variables["reviewed_by"] == "reviewer"


def test_rejection_ends_early_and_terminate_ends_without_completion(workflow: Callable[..., Any]) -> None:
    hook, _ = workflow()
    rejected = hook.start_instance("asset_approval", name="x")
    (task,) = list(hook.iter_tasks(processInstanceId=rejected.id))
    hook.complete_task(task.id, "rejected")
    assert hook.get_instance(rejected.id).outcome == "rejected"
    killed = hook.start_instance("compliance_review", name="y")
    hook.terminate(killed.id)
    assert hook.get_instance(killed.id).state == "terminated"


def test_suspend_comments_variables(workflow: Callable[..., Any]) -> None:
    hook, _ = workflow()
    instance = hook.start_instance("compliance_exception", name="Missing metadata on a-9")
    assert hook.suspend(instance.id, "waiting for the agency").suspended
    assert not hook.activate(instance.id).suspended
    hook.add_comment(instance.id, "Please add the model release")
    assert [c["message"] for c in hook.comments(instance.id)] == [
        "waiting for the agency",
        "Please add the model release",
    ]
    hook.set_variables(instance.id, {"severity": "high"})
    assert hook.variables(instance.id)["severity"] == "high"


def test_tasks_page_through_hal_next_links(workflow: Callable[..., Any]) -> None:
    hook, running = workflow()
    for n in range(23):
        hook.start_instance("creative_request_intake", name=f"request {n}")
    tasks = list(hook.iter_tasks(page_size=5, processDefinitionKey="creative_request_intake"))
    assert len(tasks) == len({t.id for t in tasks}) == 23
    assert running.context.stats.by_route["GET /workflow/v1/tasks"] == 5


def test_errors_are_typed_and_the_token_is_renewed(workflow: Callable[..., Any]) -> None:
    hook, running = workflow(token_ttl_seconds=60)
    with pytest.raises(RequestRejectedError) as caught:
        hook.start_instance("no_such_model", name="x")
    assert "FlowableObjectNotFoundException" in str(caught.value)
    with pytest.raises(NotFoundError):
        hook.get_instance("pi-404")
    running.context.clock.advance(120)
    assert hook.list_models("asset_approval")
    assert hook.transport.auth.token_fetches == 2  # type: ignore[union-attr]


def test_wrong_credentials(
    workflow: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, running = workflow()
    conn = opentext_workflow_connection(running.url)
    conn["password"] = "not-the-secret"
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_WORKFLOW_DEFAULT", json.dumps(conn))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as caught:
        OpenTextWorkflowHook().list_models()
    assert "not-the-secret" not in str(caught.value) and "not-the-secret" not in caplog.text


def test_start_once_per_business_key(workflow: Callable[..., Any], tmp_path: Path) -> None:
    hook, _ = workflow()
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger.migrate()
    key = business_key("rights_renewal", "asset-7", 3)
    first, started = start_workflow_once(hook, ledger, "rights_renewal", key, name="Renew asset-7", run_id="r1")
    again, started_again = start_workflow_once(hook, ledger, "rights_renewal", key, name="Renew asset-7", run_id="r2")
    assert started and not started_again and first.id == again.id
    assert len(hook.find_instances(business_key=key)) == 1
    # a crash between "claimed" and "recorded": the same run's retry finds the partner's instance
    crash_key = business_key("rights_renewal", "asset-8", 1)
    ledger.claim_process(crash_key, "opentext_workflow", "rights_renewal", run_id="r3")
    orphan = hook.start_instance("rights_renewal", name="Renew asset-8", business_key=crash_key)
    recovered, started = start_workflow_once(hook, ledger, "rights_renewal", crash_key, name="x", run_id="r3")
    assert recovered.id == orphan.id and not started
    # another run's unfinished claim is not overtaken
    ledger.claim_process("rights_renewal:asset-9:v1", "opentext_workflow", "rights_renewal", run_id="r4")
    with pytest.raises(WorkflowStartInProgress):
        start_workflow_once(hook, ledger, "rights_renewal", "rights_renewal:asset-9:v1", name="x", run_id="r5")


def test_auto_complete_rules_finish_instances(workflow: Callable[..., Any]) -> None:
    hook, running = workflow()
    running.admin(
        "PUT",
        "workflow/auto-complete",
        json={"rights_renewal": {"outcome": "renew", "after_seconds": 3600, "variables": {"until": "x"}}},
    )
    instance = hook.start_instance("rights_renewal", name="Renew")
    assert not hook.get_instance(instance.id).ended
    running.context.clock.advance(3601)
    done = hook.get_instance(instance.id)
    assert done.outcome == "renew" and done.variables["until"] == "x"


def test_instances_and_open_tasks_are_listed_by_time_window(workflow: Callable[..., Any]) -> None:
    hook, running = workflow()
    early = hook.start_instance("creative_request_intake", name="before the window", variables={"region": "dach"})
    window_start = running.context.clock.advance(600)
    late = [
        hook.start_instance("creative_request_intake", name=f"request {n}", variables={"region": "emea", "n": n})
        for n in range(3)
    ]
    hook.start_instance("dam_ingest", name="another process in the window")
    window_end = running.context.clock.advance(600)
    hook.start_instance("creative_request_intake", name="after the window")
    in_window = list(
        hook.iter_instances(
            "creative_request_intake", started_after=window_start, started_before=window_end, page_size=2
        )
    )
    assert [i.id for i in in_window] == [i.id for i in late]  # oldest first, across pages (next links keep the times)
    tasks = list(
        hook.iter_new_tasks(
            "creative_request_intake", created_after=window_start, created_before=window_end, page_size=2
        )
    )
    assert [t.process_instance_id for t in tasks] == [i.id for i in late]
    assert [t.variables["n"] for t in tasks] == [0, 1, 2]  # each task carries its request
    (task,) = [t for t in hook.iter_new_tasks("creative_request_intake") if t.process_instance_id == early.id]
    hook.complete_task(task.id, "no_match")
    assert early.id not in {t.process_instance_id for t in hook.iter_new_tasks("creative_request_intake")}


def test_dam_onboarding_moves_through_its_steps_or_ends_on_rejection(workflow: Callable[..., Any]) -> None:
    hook, _ = workflow()
    approved = hook.start_instance("dam_onboarding", name="Onboard bynder:a-1", business_key="dam_onboarding:a-1:v1")
    for expected in ("Enrich metadata", "Validate rights", "Categorize"):
        (task,) = list(hook.iter_tasks(processInstanceId=approved.id))
        assert task.name == expected
        hook.complete_task(task.id, "approved", {"categories": ["product"]} if expected == "Categorize" else None)
    done = hook.get_instance(approved.id)
    assert done.outcome == "approved" and done.variables["categories"] == ["product"]
    rejected = hook.start_instance("dam_onboarding", name="Onboard bynder:a-2")
    (task,) = list(hook.iter_tasks(processInstanceId=rejected.id))
    hook.complete_task(task.id, "rejected", {"reason": "no model release"})
    assert hook.get_instance(rejected.id).outcome == "rejected"
