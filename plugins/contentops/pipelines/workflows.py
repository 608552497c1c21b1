"""Start each workflow once per business key, whatever retries and re-runs happen.

A business key names what the workflow is about, e.g. ``rights_renewal:<asset>:v3``. The
ledger claims the key before anything is sent; the partner is asked for an instance with
that key before one is started (a crash between "started" and "recorded" must not start a
second one). Waiting for the instance to end is the deferrable sensor's job
(:class:`contentops.sensors.workflow.WorkflowInstanceSensor`), never a worker's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
from contentops.ledger import Ledger, ProcessRecord
from contentops.models.opentext_workflow import WorkflowInstance

if TYPE_CHECKING:
    from contentops.pipelines.runtime import PipelineRun


class WorkflowStartInProgress(RuntimeError):
    """Another run claimed this business key and has not recorded its instance yet: retry later."""


def business_key(definition_key: str, subject: str, version: str | int) -> str:
    return f"{definition_key}:{subject}:v{version}"


def start_workflow_once(
    hook: OpenTextWorkflowHook,
    ledger: Ledger,
    definition_key: str,
    key: str,
    *,
    name: str,
    variables: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> tuple[WorkflowInstance, bool]:
    """The instance for ``key`` and whether this call started it."""
    record = ledger.process(key)
    if record is not None and record.instance_id:
        return hook.get_instance(record.instance_id), False
    claimed = ledger.claim_process(key, hook.system, definition_key, run_id=run_id)
    if not claimed:
        record = ledger.process(key)
        if record is not None and record.instance_id:
            return hook.get_instance(record.instance_id), False
        if record is not None and record.run_id != run_id:
            raise WorkflowStartInProgress(f"{key} is being started by run {record.run_id}")
    existing = hook.find_instances(business_key=key, definition_key=definition_key)
    started = not existing
    instance = (
        existing[0]
        if existing
        else hook.start_instance(definition_key, name=name, business_key=key, variables=variables)
    )
    ledger.update_process(key, instance_id=instance.id, status=instance.state)
    return instance, started


def apply_ended_processes(
    run: PipelineRun,
    definition_key: str,
    apply: Callable[[PipelineRun, ProcessRecord, WorkflowInstance], Mapping[str, int]],
) -> dict[str, int]:
    """Hand every process of ``definition_key`` that the ledger still has open and whose instance
    has ended to ``apply``; those still running are counted ``reviews_pending`` for a later run.

    ``apply`` writes the outcome back and marks the process ``applied`` in the ledger, which is what
    keeps a later run from applying it again. A process without an instance is still being started
    by another run and is left alone. A dry run applies nothing.
    """
    counts: Counter[str] = Counter()
    if run.dry_run:
        return dict(counts)
    workflow = run.hook("workflow")
    for record in run.ledger.open_processes(definition_key):
        if not record.instance_id:
            continue  # still being started by another run
        instance = workflow.get_instance(record.instance_id)
        if not instance.ended:
            counts["reviews_pending"] += 1
            continue
        counts.update(apply(run, record, instance))
    return dict(counts)
