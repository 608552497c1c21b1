"""WorkflowInstanceTrigger against the Workflow Service sandbox over real HTTP.

A wait lasts up to 14 days: the trigger must keep one token across its polls, read an ended
instance from the history API (the runtime API answers 404 once it has ended) and ride out
errors a later poll can heal, ending the wait as an error only when none can.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
from contentops.sensors.workflow import WorkflowInstanceSensor
from contentops.triggers.workflow import WorkflowInstanceTrigger
from contentops_sandbox.connections import opentext_workflow_connection

pytestmark = pytest.mark.contract

TOKEN_ROUTE = "POST /tenants/demo/oauth2/token"


@pytest.fixture
def workflow(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, Any]]:
    def start(**config: Any) -> tuple[OpenTextWorkflowHook, Any]:
        running = sandbox("workflow", **config)
        conn = opentext_workflow_connection(running.url, backoff_initial=0.01, backoff_max=0.02, max_attempts=2)
        monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_WORKFLOW_DEFAULT", json.dumps(conn))
        return OpenTextWorkflowHook(), running

    return start


def wait_for(trigger: WorkflowInstanceTrigger, *, during: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run the trigger to its event; ``during(n)`` runs in a thread before the n-th poll's sleep ends
    (it sees how many polls the trigger has made so far)."""
    polls = 0
    original = trigger._read

    def counted() -> dict[str, Any]:
        nonlocal polls
        polls += 1
        if during is not None:
            during(polls)
        return original()

    trigger._read = counted  # type: ignore[method-assign]

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first_event(), timeout=60))


def complete_all(hook: OpenTextWorkflowHook, instance_id: str, outcome: str) -> None:
    for task in list(hook.iter_tasks(processInstanceId=instance_id)):
        hook.complete_task(task.id, outcome, {"disposition": outcome})


def test_one_token_for_all_polls_and_the_ended_instance_comes_from_history(
    workflow: Callable[..., Any],
) -> None:
    """Issue 16: the trigger fetched a new OAuth token on every poll; issue 12 (2): the ended
    instance is 404 on the runtime API and read from the history API."""
    hook, running = workflow()
    instance = hook.start_instance("rights_renewal", name="Renew asset-1")
    running.context.stats.reset()
    setter = OpenTextWorkflowHook()

    def end_after_five(polls: int) -> None:
        if polls == 5:
            complete_all(setter, instance.id, "renew")

    event = wait_for(WorkflowInstanceTrigger(instance.id, poll_interval=0.01), during=end_after_five)
    assert event["status"] == "ended"
    assert event["instance"]["outcome"] == "renew" and event["instance"]["completed"]
    routes = running.context.stats.by_route
    assert routes[f"GET /workflow/v1/process-instances/{instance.id}"] == 5  # 4 while it ran, then the 404
    assert routes[f"GET /workflow-history/v1/historic-process-instances/{instance.id}"] == 1
    assert routes[TOKEN_ROUTE] == 2  # the trigger's one token, and the one of the hook that ended it


def test_an_expired_token_is_renewed_once_not_per_poll(workflow: Callable[..., Any]) -> None:
    hook, running = workflow(token_ttl_seconds=60)
    instance = hook.start_instance("rights_renewal", name="Renew asset-2")
    running.context.stats.reset()

    def expire_then_end(polls: int) -> None:
        if polls == 3:
            running.context.clock.advance(120)  # the token the trigger holds has expired
        if polls == 8:
            complete_all(OpenTextWorkflowHook(), instance.id, "replace")

    trigger = WorkflowInstanceTrigger(instance.id, poll_interval=0.01)
    event = wait_for(trigger, during=expire_then_end)
    assert event["status"] == "ended" and event["instance"]["outcome"] == "replace"
    assert trigger.hook.transport.auth.token_fetches == 2  # type: ignore[union-attr]


def test_transient_errors_keep_the_wait_going(workflow: Callable[..., Any]) -> None:
    hook, running = workflow()
    instance = hook.start_instance("rights_renewal", name="Renew asset-3")
    running.admin("PUT", "faults", json={"fail_next": [503, 503, 503, 503, 429, 429]})
    lock = threading.Lock()

    def end_later(polls: int) -> None:
        with lock:
            if polls == 6:
                running.admin("PUT", "faults", json={})
                complete_all(OpenTextWorkflowHook(), instance.id, "takedown")

    event = wait_for(WorkflowInstanceTrigger(instance.id, poll_interval=0.01), during=end_later)
    assert event["status"] == "ended" and event["instance"]["outcome"] == "takedown"


def test_an_instance_nobody_knows_ends_the_wait_as_an_error(workflow: Callable[..., Any]) -> None:
    workflow()
    event = wait_for(WorkflowInstanceTrigger("pi-never-started", poll_interval=0.01))
    assert event["status"] == "error" and "NotFoundError" in event["message"]


def test_a_poking_sensor_reuses_its_token(workflow: Callable[..., Any]) -> None:
    hook, running = workflow()
    instance = hook.start_instance("rights_renewal", name="Renew asset-4")
    running.context.stats.reset()
    sensor = WorkflowInstanceSensor(task_id="wait", instance_id=instance.id, deferrable=False)
    assert [sensor.poke({}) for _ in range(4)] == [False] * 4
    complete_all(hook, instance.id, "renew")
    assert sensor.poke({}) is True
    assert running.context.stats.by_route[TOKEN_ROUTE] == 1
