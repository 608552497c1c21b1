"""Recoverable workflow claims: a failed or killed start never wedges a business key.

start_workflow_once against the Workflow Service sandbox over real HTTP, with the sandbox's
faults on the start itself: a 503 before the partner did anything, and a 503 after it created
the instance (the gateway failed, the backend committed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.errors import PartnerServerError
from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
from contentops.ledger import Ledger
from contentops.pipelines.workflows import WorkflowStartInProgress, business_key, start_workflow_once
from contentops_sandbox.connections import opentext_workflow_connection

pytestmark = pytest.mark.contract

MODEL = "rights_renewal"


@pytest.fixture
def env(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[OpenTextWorkflowHook, Any, Ledger]:
    running = sandbox("workflow")
    conn = opentext_workflow_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_WORKFLOW_DEFAULT", json.dumps(conn))
    hook = OpenTextWorkflowHook()
    assert hook.list_models(MODEL)  # the token is fetched: the faults below hit the workflow calls
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    return hook, running, ledger


def _instances(running: Any, key: str) -> list[dict[str, Any]]:
    return [i for i in running.context.store.all("instance") if i.get("businessKey") == key]


def test_a_start_refused_with_503_does_not_wedge_the_key_for_the_next_run(env: Any) -> None:
    hook, running, ledger = env
    key = business_key(MODEL, "asset-1", 1)
    original = hook.start_instance

    def failing_start(*args: Any, **kwargs: Any) -> Any:
        running.set_faults(fail_next=[503])  # on the POST, which the transport rightly does not resend
        return original(*args, **kwargs)

    hook.start_instance = failing_start  # type: ignore[method-assign]
    with pytest.raises(PartnerServerError):
        start_workflow_once(hook, ledger, MODEL, key, name="Renew asset-1", run_id="run-1")
    hook.start_instance = original  # type: ignore[method-assign]
    assert _instances(running, key) == []
    (claim,) = ledger.claims()
    assert claim.business_key == key and claim.run_id == "run-1" and "503" in (claim.last_error or "")

    # the next run (faults off) starts it: no WorkflowStartInProgress, no hand edit of the ledger
    instance, started = start_workflow_once(hook, ledger, MODEL, key, name="Renew asset-1", run_id="run-2")
    assert started and [i["id"] for i in _instances(running, key)] == [instance.id]
    record = ledger.process(key)
    assert record is not None and record.instance_id == instance.id and ledger.claims() == []


def test_a_start_the_partner_executed_despite_its_503_is_adopted_not_repeated(env: Any) -> None:
    hook, running, ledger = env
    key = business_key(MODEL, "asset-2", 1)
    original = hook.start_instance

    def start_then_gateway_error(*args: Any, **kwargs: Any) -> Any:
        running.set_faults(fail_after_next=[503])  # served, then answered 503
        return original(*args, **kwargs)

    hook.start_instance = start_then_gateway_error  # type: ignore[method-assign]
    instance, started = start_workflow_once(hook, ledger, MODEL, key, name="Renew asset-2", run_id="run-1")
    (created,) = _instances(running, key)
    assert instance.id == created["id"] and started
    assert ledger.process(key).instance_id == created["id"]  # type: ignore[union-attr]
    # and the next run finds it through the ledger: still one instance
    again, started_again = start_workflow_once(hook, ledger, MODEL, key, name="Renew asset-2", run_id="run-2")
    assert again.id == created["id"] and not started_again and len(_instances(running, key)) == 1


def test_a_killed_run_s_claim_is_taken_over_when_its_lease_is_over(env: Any) -> None:
    hook, running, ledger = env
    key = business_key(MODEL, "asset-3", 1)
    # run-1 claimed the key and created the instance, then its worker was killed before recording it
    assert ledger.claim_process(key, hook.system, MODEL, run_id="run-1", lease=timedelta(seconds=-1))
    orphan = hook.start_instance(MODEL, name="Renew asset-3", business_key=key)
    instance, started = start_workflow_once(hook, ledger, MODEL, key, name="Renew asset-3", run_id="run-2")
    assert instance.id == orphan.id and not started and len(_instances(running, key)) == 1


def test_a_live_claim_of_another_run_is_not_overtaken(env: Any) -> None:
    hook, running, ledger = env
    key = business_key(MODEL, "asset-4", 1)
    assert ledger.claim_process(key, hook.system, MODEL, run_id="run-1")
    with pytest.raises(WorkflowStartInProgress, match="run-1"):
        start_workflow_once(hook, ledger, MODEL, key, name="Renew asset-4", run_id="run-2")
    assert _instances(running, key) == []
    # released by an operator (ledger_cli release-claim): the next try starts it
    assert ledger.release_claim(key)
    _, started = start_workflow_once(hook, ledger, MODEL, key, name="Renew asset-4", run_id="run-2")
    assert started and len(_instances(running, key)) == 1
