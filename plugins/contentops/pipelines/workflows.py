"""Start each workflow once per business key, whatever retries and re-runs happen.

A business key names what the workflow is about, e.g. ``rights_renewal:<asset>:v3``. The
ledger claims the key before anything is sent; the partner is asked for an instance with
that key before one is started (a crash between "started" and "recorded" must not start a
second one). Waiting for the instance to end is the deferrable sensor's job
(:class:`contentops.sensors.workflow.WorkflowInstanceSensor`), never a worker's.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from contentops.hooks.errors import MalformedResponseError, PartnerServerError, PartnerUnavailableError
from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
from contentops.ledger import DEFAULT_CLAIM_LEASE, Ledger, ProcessRecord
from contentops.models.opentext_workflow import WorkflowInstance

if TYPE_CHECKING:
    from contentops.pipelines.runtime import PipelineRun

log = logging.getLogger(__name__)


class WorkflowStartInProgress(RuntimeError):
    """Another run holds the claim on this business key (its lease runs) and has not recorded
    its instance yet: retry later. A claim left by a failed or killed run is not this: it is
    taken over (released at once on a failed start, at the end of its lease on a killed one)."""


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
    lease: timedelta = DEFAULT_CLAIM_LEASE,
) -> tuple[WorkflowInstance, bool]:
    """The instance for ``key`` and whether this call started it.

    The key is claimed in the ledger first (for ``lease``); then the partner is asked for an
    instance with that business key — one a failed run's start created despite its error, or
    one started before a crash — and that instance is adopted; only if there is none is one
    started. A start that fails is looked up once more (a 5xx, a timeout or a dropped
    connection on the POST may come after the partner created the instance); if the partner
    has none, the claim is released with the error so the next try starts again at once.
    """
    record = ledger.process(key)
    if record is not None and record.instance_id:
        return hook.get_instance(record.instance_id), False
    if not ledger.claim_process(key, hook.system, definition_key, run_id=run_id, lease=lease):
        record = ledger.process(key)
        if record is not None and record.instance_id:
            return hook.get_instance(record.instance_id), False
        holder = record.run_id if record is not None else None
        until = f" until {record.lease_until:%Y-%m-%d %H:%M:%S} UTC" if record and record.lease_until else ""
        raise WorkflowStartInProgress(
            f"{key} is being started by run {holder} (its claim holds{until}; "
            f"python -m contentops.ledger_cli claims lists it, 'release-claim' frees it)"
        )
    try:
        existing = hook.find_instances(business_key=key, definition_key=definition_key)
        if existing:
            instance, started = existing[0], False
        else:
            instance, started = _start_or_adopt(hook, definition_key, key, name=name, variables=variables), True
    except Exception as exc:
        ledger.release_claim(key, run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    ledger.update_process(key, instance_id=instance.id, status=instance.state)
    return instance, started


def _start_or_adopt(
    hook: OpenTextWorkflowHook,
    definition_key: str,
    key: str,
    *,
    name: str,
    variables: dict[str, Any] | None,
) -> WorkflowInstance:
    """Start the instance; if the POST failed in a way the partner may still have executed it,
    the instance it created under ``key`` (found by the business key) instead of the error."""
    try:
        return hook.start_instance(definition_key, name=name, business_key=key, variables=variables)
    except (PartnerServerError, PartnerUnavailableError, MalformedResponseError) as exc:
        if isinstance(exc, PartnerUnavailableError) and not exc.request_sent:
            raise  # it never reached the partner
        found = hook.find_instances(business_key=key, definition_key=definition_key)
        if not found:
            raise
        log.warning("Starting %s failed (%s) but the partner created %s: adopted", key, exc, found[0].id)
        return found[0]


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
