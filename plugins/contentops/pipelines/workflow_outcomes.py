"""Apply each human answer as soon as its workflow ends, whichever run started it (issue 13 item 2).

The pipelines that start OpenText workflows (``rights_expiry_sweep``, ``campaign_release``,
``workflow_intake``) no longer wait for them: they start each one once and finish. This pipeline
polls every process of ours the ledger holds as started and not yet applied, reads its instance
from the Workflow Service, and per process:

* finds the :class:`~contentops.pipelines.outcome_handlers.OutcomeHandler` of the registry
  (:data:`HANDLERS`, one explicit tuple) whose ``owns(definition)`` is true — a process no
  handler owns is reported (``unowned``), never dropped silently;
* while the instance runs: calls the handler's ``while_open``, and starts the escalation
  workflow configured for its definition once it has been open too long
  (``include/config/workflow_outcomes.yaml``; one escalation per instance, by its business key);
* once the instance has ended: takes the outcome for applying in the ledger
  (:meth:`~contentops.ledger.Ledger.claim_outcome`: one conditional update, so two overlapping
  runs never both apply it), calls the handler's ``apply`` and records the process ``applied``
  with its outcome. A failed apply releases its hold, so the next poll tries again; the partner
  writes inside go through ``deliver_once``, so a retry sends only what is missing.

One slow reviewer therefore holds back nothing: every other outcome is applied on the poll after
its own workflow ended.

Adding a definition: write ``apply(run, record, instance) -> str`` (and, if it must act while
the instance runs, ``while_open``) next to the code that starts the workflow, declare an
``OutcomeHandler`` there, and list it in :data:`HANDLERS`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contentops.hooks.errors import NotFoundError
from contentops.ledger import ProcessRecord
from contentops.models.opentext_workflow import WorkflowInstance
from contentops.pipelines import localization, partner_cases
from contentops.pipelines.asset_approvals import APPROVAL_HANDLER
from contentops.pipelines.exstream_template_sync import TEMPLATE_REVIEW
from contentops.pipelines.outcome_handlers import OutcomeHandler
from contentops.pipelines.rights_sweep import RENEWAL, RENEWAL_OUTCOMES
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.usage_reconciliation import COMPLIANCE_REVIEW
from contentops.pipelines.workflow_intake import ONBOARDING_OUTCOMES
from contentops.pipelines.workflows import start_workflow_once
from contentops.targets import TargetSystem

log = logging.getLogger(__name__)

#: what ``workflow_outcomes`` records in the ledger's ``co_processes.system`` for our workflows
SYSTEM = "opentext_workflow"


class Escalation(BaseModel):
    """An open workflow of one definition escalates after ``after_days`` into ``workflow``."""

    model_config = ConfigDict(extra="forbid")

    after_days: float = Field(3, gt=0, le=365)
    workflow: str = Field(min_length=1, max_length=128)


class OutcomeSettings(BaseModel):
    """``include/config/workflow_outcomes.yaml``: the escalations, by the definition that escalates."""

    model_config = ConfigDict(extra="forbid")

    escalations: dict[str, Escalation] = Field(
        default_factory=lambda: {RENEWAL: Escalation(after_days=3, workflow="rights_renewal_escalation")}
    )

    def escalation_for(self, definition: str) -> Escalation | None:
        return self.escalations.get(definition)

    @property
    def escalation_workflows(self) -> set[str]:
        return {e.workflow for e in self.escalations.values()}


def load_outcome_settings() -> OutcomeSettings:
    from contentops.config import load_settings

    return load_settings("workflow_outcomes", OutcomeSettings)


def _apply_escalation(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> str:
    """An escalation's own end: recorded (what the follow-up led to is the escalated workflow's)."""
    outcome = instance.outcome or instance.state
    subject = str(instance.variables.get("asset_id") or record.business_key)
    run.record(subject, TargetSystem.WORKFLOW.of(record.definition), f"escalation_{outcome}", detail=instance.id)
    return f"escalation {outcome}"


#: The escalation workflows this pipeline starts itself (the configured ones).
ESCALATION_OUTCOMES = OutcomeHandler(
    name="escalations",
    owns=lambda definition: definition in load_outcome_settings().escalation_workflows,
    apply=_apply_escalation,
)

#: The registry: every handler, in the order they are asked. One entry per kind of workflow.
HANDLERS: tuple[OutcomeHandler, ...] = (
    RENEWAL_OUTCOMES,
    APPROVAL_HANDLER,
    ONBOARDING_OUTCOMES,
    ESCALATION_OUTCOMES,
)


#: Workflows whose outcome the pipeline that started them applies itself, on its own runs: the
#: localization's regional review (it waits for it, bounded), the Exstream template review, the
#: usage compliance review, and the partner requests ``partner_case_intake`` routes to triage.
#: Left to them, without a report line on every poll; any other process no handler owns is reported.
APPLIED_BY_THEIR_PIPELINES: frozenset[str] = frozenset(
    {localization.REVIEW, TEMPLATE_REVIEW, COMPLIANCE_REVIEW, partner_cases.INTAKE_WORKFLOW}
)


def handler_for(definition: str, handlers: Iterable[OutcomeHandler] = HANDLERS) -> OutcomeHandler | None:
    """The first handler that owns ``definition``, or ``None``."""
    return next((h for h in handlers if h.owns(definition)), None)


def apply_outcomes(
    run: PipelineRun,
    *,
    handlers: Iterable[OutcomeHandler] = HANDLERS,
    settings: OutcomeSettings | None = None,
    lease: timedelta = timedelta(minutes=30),
) -> dict[str, int]:
    """Poll every unapplied process of ours; apply the ended ones (each once), act on the open
    ones. Returns counts (``applied``, ``open``, ``escalated``, ``unowned``, per handler …); a
    dry run reads and reports, changes nothing."""
    handlers = tuple(handlers)
    settings = settings or load_outcome_settings()
    counts: Counter[str] = Counter()
    failures: list[str] = []
    workflow = run.hook("workflow")
    for record in run.ledger.unapplied_processes(SYSTEM):
        handler = handler_for(record.definition, handlers)
        if handler is None and record.definition in APPLIED_BY_THEIR_PIPELINES:
            counts["left_to_own_pipeline"] += 1
            continue
        if handler is None:
            counts["unowned"] += 1
            run.record(
                record.business_key,
                TargetSystem.WORKFLOW.of(record.definition),
                "outcome_unowned",
                f"no outcome handler owns workflow definition {record.definition!r}: nothing applies it",
                detail=record.instance_id or "",
            )
            continue
        try:
            instance = workflow.get_instance(str(record.instance_id))
        except NotFoundError:
            counts["instance_missing"] += 1
            run.record(
                record.business_key,
                TargetSystem.WORKFLOW.of(record.definition),
                "instance_missing",
                "the Workflow Service knows this instance no more (neither running nor in its history)",
                detail=record.instance_id or "",
            )
            continue
        if not instance.ended:
            counts["open"] += 1
            try:
                if handler.while_open is not None and not run.dry_run:
                    handler.while_open(run, record, instance)
                if escalate(run, record, instance, settings):
                    counts["escalated"] += 1
            except Exception as exc:  # the other processes still get their poll
                failures.append(_failed(run, record, "while_open_failed", exc))
            continue
        if run.dry_run:
            counts["would_apply"] += 1
            continue
        if not run.ledger.claim_outcome(record.business_key, run_id=run.run_id, lease=lease):
            counts["applied_elsewhere"] += 1  # another run holds it, or applied it meanwhile
            continue
        try:
            note = handler.apply(run, record, instance)
        except Exception as exc:  # released for the next poll; the other outcomes are still applied
            run.ledger.release_outcome(record.business_key, run_id=run.run_id, error=f"{type(exc).__name__}: {exc}")
            failures.append(_failed(run, record, "apply_failed", exc))
            counts["apply_failed"] += 1
            continue
        outcome = instance.outcome or instance.state
        run.ledger.update_process(record.business_key, status="applied", outcome=outcome)
        run.record(
            str(instance.variables.get("asset_id") or record.business_key),
            TargetSystem.WORKFLOW.of(record.definition),
            "outcome_applied",
            note,
            detail=instance.id,
            handler=handler.name,
        )
        counts["applied"] += 1
        counts[f"applied_{handler.name}"] += 1
    if failures:
        raise OutcomesFailed(dict(counts), failures)
    return dict(counts)


class OutcomesFailed(RuntimeError):
    """Some outcomes could not be applied (each is retried by the next poll); the others were.
    ``counts`` are the run's, so the caller can still announce what was applied."""

    def __init__(self, counts: dict[str, int], failures: list[str]) -> None:
        super().__init__(f"{len(failures)} workflow outcome(s) failed: " + "; ".join(failures[:5]))
        self.counts = counts


def _failed(run: PipelineRun, record: ProcessRecord, action: str, exc: Exception) -> str:
    why = f"{type(exc).__name__}: {exc}"
    log.warning("%s of %s failed: %s", action, record.business_key, why)
    run.record(record.business_key, TargetSystem.WORKFLOW.of(record.definition), action, why[:500])
    return f"{record.business_key}: {why}"[:300]


def escalation_key(escalation: Escalation, instance: WorkflowInstance) -> str:
    """One escalation per escalated instance, whichever run sees it first."""
    return f"{escalation.workflow}:{instance.id}"


def escalation_due(escalation: Escalation, instance: WorkflowInstance, now: Any) -> bool:
    """Has ``instance`` been open ``after_days`` by ``now`` (the run's window end)?"""
    if instance.ended or instance.start_time is None:
        return False
    return bool(instance.start_time + timedelta(days=escalation.after_days) <= now)


def escalate(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance, settings: OutcomeSettings) -> bool:
    """Start the configured escalation of an instance still open after its days, once (by the
    ledger's business key). True when this call started it."""
    escalation = settings.escalation_for(record.definition)
    if escalation is None or run.dry_run or not escalation_due(escalation, instance, run.window.end):
        return False
    subject = str(instance.variables.get("asset_id") or record.business_key)
    key = escalation_key(escalation, instance)
    variables: Mapping[str, Any] = {
        "escalated_instance": instance.id,
        "escalated_business_key": record.business_key,
        "escalated_definition": record.definition,
        "asset_id": instance.variables.get("asset_id"),
        "open_since": instance.start_time.isoformat() if instance.start_time else None,
        "after_days": escalation.after_days,
    }
    escalated, started = start_workflow_once(
        run.hook("workflow"),
        run.ledger,
        escalation.workflow,
        key,
        name=f"Escalation: {record.definition.replace('_', ' ')} of {subject} open {escalation.after_days:g} days",
        variables=dict(variables),
        run_id=run.run_id,
    )
    if started:
        run.record(
            subject,
            TargetSystem.WORKFLOW.of(escalation.workflow),
            "escalation_started",
            f"{record.definition} {instance.id} still open {escalation.after_days:g} days after it started",
            detail=escalated.id,
        )
    return started


def report_notes(counts: Mapping[str, int]) -> list[str]:
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing open"
    return [f"Workflow outcomes: {shown}"]
