"""The rights expiry sweep's steps: assess licenses as of the run's end, start one workflow per
affected asset and license version, and write each disposition back to Smint.io — and to every
partner that holds the asset (VIP, Trading Grid communities — also those that got it in a
co-marketing kit — and the partner cases it was handed out in, Exstream, the Consonance titles
that use it).

Which workflow: an asset whose license is expired, about to expire or at a usage limit gets a
**rights renewal** workflow (renew / replace / takedown, OWS-2); an asset whose license data
is missing or unusable gets a **compliance exception** workflow (OWS-4). A workflow is started
once per business key ``<workflow>:<asset>:v<license version>``, so re-runs and backfills never
start a second one, and a changed license starts a new one.

Which licenses are looked at does not depend on which run wrote them: besides those ending
within the horizon, every license written to the index since the sweep last *finished* its
review (its workflows started and their dispositions applied) is assessed — a run that synced a
license and then failed before its workflows started leaves that license to the next run, not
unreviewed for good. And what a workflow is told of its license is the license's own dates
("term 1 ended on …"), never the day a sweep looked, so whichever run starts it, its input is
the same.

What a disposition does in each partner lives in :mod:`contentops.pipelines.withdrawals`, shared
with ``delivery_compliance`` (which takes copies back on the expiry day itself): a copy that
pipeline already withdrew is not current, so a takedown here does not withdraw it twice, while
its community and case still hear of the decision.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from contentops.ledger import ProcessRecord
from contentops.models.domain import SweepStatus, UsageRights
from contentops.models.opentext_workflow import WorkflowInstance
from contentops.models.smintio import ApprovalStatus
from contentops.pipelines.collector import quiet_collector
from contentops.pipelines.outcome_handlers import OutcomeHandler
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.sweep_exceptions import REASONS as EXCEPTION_REASONS
from contentops.pipelines.sweep_exceptions import asset_exceptions, load_exception_settings
from contentops.pipelines.sweep_findings import assessment_key, sweep_finding
from contentops.pipelines.withdrawals import (
    GUIDANCE,
    LICENSE_STATUS_FOR,
    apply_to_exstream,
    apply_to_vip,
    guidance_text,
    permitted_usage,
    post_usage_guidance,
    record_consonance_terms,
    reply_on_cases,
)
from contentops.pipelines.workflows import business_key, start_workflow_once
from contentops.targets import TargetSystem

log = logging.getLogger(__name__)

#: the partner effects of a disposition live in :mod:`contentops.pipelines.withdrawals`, shared
#: with ``delivery_compliance``; named here too for the callers that know them from the sweep
__all__ = [
    "GUIDANCE",
    "LICENSE_STATUS_FOR",
    "RENEWAL_OUTCOMES",
    "apply_disposition",
    "apply_to_exstream",
    "apply_to_vip",
    "assess",
    "guidance_text",
    "permitted_usage",
    "post_usage_guidance",
    "record_consonance_terms",
    "reply_on_cases",
    "start_workflows",
]

RENEWAL = "rights_renewal"
EXCEPTION = "compliance_exception"
#: What each finding leads to.
WORKFLOW_FOR: dict[SweepStatus, str] = {
    SweepStatus.EXPIRED: RENEWAL,
    SweepStatus.EXPIRING: RENEWAL,
    SweepStatus.LIMIT_REACHED: RENEWAL,
    SweepStatus.METADATA_MISSING: EXCEPTION,
}
BATCH_SIZE = 50


#: lpt uuid -> (finding, reasons, license version, expiry date)
Findings = dict[str, tuple[SweepStatus, str, int, str]]

#: ledger cursor: when the sweep last finished a review (an ISO time); every license written to
#: the index after it is reviewed again, whichever run or DAG wrote it
REVIEWED_CURSOR = "rights_sweep:licenses_reviewed_until"
#: a review's mark is set this much before the review read the index: the workers' clocks differ
#: a little and a write's time is taken before its commit, so a few licenses are reviewed twice
#: (harmless: a workflow starts once per business key) rather than one missed
CLOCK_MARGIN = timedelta(minutes=15)
_EVER = datetime(1970, 1, 1, tzinfo=UTC)


def _pending_mark(run_id: str) -> str:
    return f"{REVIEWED_CURSOR}:pending:{run_id}"


def reviewed_until(run: PipelineRun) -> datetime:
    """When the sweep last finished a review (the beginning of time if it never did)."""
    value = run.ledger.get_cursor(REVIEWED_CURSOR)
    return datetime.fromisoformat(value) if value else _EVER


def finish_review(run: PipelineRun) -> bool:
    """Move the review mark to this run's (set by its assessment), once the run has started every
    workflow its review asked for and applied their dispositions; True if it moved.

    Only a run that got that far moves it, so a license a failed run synced or assessed is
    assessed again by the next one. The mark never moves back (a later run may have finished
    first); two runs finishing at once can at worst leave the earlier mark, which only reviews
    a few licenses twice."""
    name = _pending_mark(run.run_id)
    pending = run.ledger.get_cursor(name)
    if not pending:
        return False
    moved = datetime.fromisoformat(pending) > reviewed_until(run)
    if moved:
        run.ledger.set_cursor(REVIEWED_CURSOR, pending)
    run.ledger.set_cursor(name, None)
    return moved


def assess_licenses(
    run: PipelineRun, *, horizon_days: int, providers: list[str] | None = None
) -> tuple[Findings, Counter[str]]:
    """Assess, as of the window's end, every license in the index that may need action.

    Those are the licenses ending before the horizon, plus every license written to the index
    since the sweep last finished a review (:func:`finish_review`) — one without an end date can
    still be unusable or at a limit. A full review (no provider filter, not a dry run) notes its
    mark for :func:`finish_review`.

    A license whose rights the sync already assessed as of the same moment and horizon (the
    sweep's sync does, page by page while the feed is paged) keeps that finding: it is the same
    :func:`sweep_finding` of the same rights, so only licenses written otherwise are assessed here."""
    as_of = run.window.end
    mark = datetime.now(UTC) - CLOCK_MARGIN
    key = assessment_key(as_of, horizon_days)
    affected: Findings = {}
    counts: Counter[str] = Counter()
    scope: dict[str, Any] = {
        "expiring_before": as_of + timedelta(days=horizon_days),
        "changed_in_run": run.run_id,
        "changed_since": reviewed_until(run),
        "providers": providers or None,
    }
    # Counted in the database, and read only where there is something to do: of the licenses the
    # sync assessed as of the same moment only the findings (most need no action: not read at
    # all); the rest are assessed here from their rights.
    reviewed, not_assessed = run.ledger.count_licenses_to_review(**scope, assessed_for=key)
    if reviewed:  # no key when none, as when they were counted one by one
        counts["licenses_reviewed"] = reviewed
    with quiet_collector():  # tens of thousands of rows: no full collector pass over Airflow's objects
        for uuid, version, finding in run.ledger.iter_findings(**scope, assessed_for=key):
            affected[uuid] = _affected(finding, version)
        if not_assessed:
            for row in run.ledger.iter_licenses_to_review(**scope, not_assessed_for=key):
                finding = sweep_finding(UsageRights.model_validate(row.rights), as_of, horizon_days)
                if finding is not None:
                    affected[row.lpt_uuid] = _affected(finding, row.version)
    if not providers and not run.dry_run:
        run.ledger.set_cursor(_pending_mark(run.run_id), mark.isoformat())
    return affected, counts


def _affected(finding: dict[str, str], version: int | None) -> tuple[SweepStatus, str, int, str]:
    """One license's entry in :data:`Findings`."""
    return SweepStatus(finding["status"]), finding["reasons"], version or 1, finding["expiry"]


def assess(run: PipelineRun, *, horizon_days: int, providers: list[str] | None = None) -> dict[str, Any]:
    """Find the assets whose license needs action as of the window's end.

    Returns counts and batches of asset ids (small, for XCom and task mapping); the findings
    themselves go to the run's audit trail (and so to its report).
    """
    affected, counts = assess_licenses(run, horizon_days=horizon_days, providers=providers)
    asset_ids: list[str] = []
    smintio = run.hook("smintio")
    on_invalid = run.quarantine_callback("smintio", "asset")
    settings = load_exception_settings()
    for asset in smintio.iter_assets(on_invalid=on_invalid):
        if not providers:  # a provider filter narrows the licenses looked at; assets have no provider
            for reason, why in asset_exceptions(asset, settings, run.window.end).items():
                counts[f"assets_{reason}"] += 1
                run.record(asset.id, TargetSystem.SMINTIO.of(asset.id), reason, why, exception=reason)
                asset_ids.append(asset.id)
        finding = affected.get(asset.license_purchase_transaction_uuid or "")
        if finding is None or asset.approval_status is ApprovalStatus.RETIRED:
            continue
        status, reasons, version, expiry = finding
        counts[f"assets_{status.value}"] += 1
        run.record(
            asset.id,
            TargetSystem.SMINTIO.of(asset.license_purchase_transaction_uuid),
            status.value,
            reasons,
            license=asset.license_purchase_transaction_uuid,
            expires=expiry,
            license_version=version,
        )
        asset_ids.append(asset.id)
    asset_ids = list(dict.fromkeys(asset_ids))
    batches = [asset_ids[i : i + BATCH_SIZE] for i in range(0, len(asset_ids), BATCH_SIZE)]
    return {"counts": dict(counts), "batches": batches}


def start_workflows(run: PipelineRun, asset_ids: list[str]) -> list[str]:
    """Start (once) the workflow each assessed asset needs; returns the instance ids to wait for."""
    if run.dry_run:
        return []
    findings: dict[str, list[Any]] = {}
    for entry in run.ledger.audit_trail(run_id=run.run_id, pipeline=run.dag_id):
        if entry.action in {s.value for s in WORKFLOW_FOR} or entry.action in EXCEPTION_REASONS:
            findings.setdefault(entry.subject, []).append(entry)
    workflow = run.hook("workflow")
    instance_ids: list[str] = []
    for asset_id in asset_ids:
        for entry in findings.get(asset_id, []):
            started_id = _start_one(run, workflow, asset_id, entry)
            if started_id is not None:
                instance_ids.append(started_id)
    return instance_ids


def _start_one(run: PipelineRun, workflow: Any, asset_id: str, entry: Any) -> str | None:
    """Start (once) the workflow one finding needs; its instance id, or None when its disposition
    was already written back. A license finding is keyed by the license version (a changed
    license is a new case); an asset exception by its reason (each is one case, whichever run
    finds it)."""
    details = entry.details or {}
    if entry.action in EXCEPTION_REASONS:
        definition = EXCEPTION
        key = f"{EXCEPTION}:{asset_id}:{entry.action}"
    else:
        definition = WORKFLOW_FOR[SweepStatus(entry.action)]
        key = business_key(definition, asset_id, details.get("license_version", 1))
    instance, started = start_workflow_once(
        workflow,
        run.ledger,
        definition,
        key,
        name=f"{definition.replace('_', ' ').title()}: {asset_id}",
        variables={
            "asset_id": asset_id,
            "finding": entry.action,
            "license": details.get("license"),
            "expires": details.get("expires"),
            "reasons": details.get("reason"),
            **({"reason": entry.action} if entry.action in EXCEPTION_REASONS else {}),
        },
        run_id=run.run_id,
    )
    record = run.ledger.process(key)
    if record is not None and record.status == "applied":
        return None  # the disposition of this case was already written back
    run.record(
        asset_id,
        TargetSystem.WORKFLOW.of(definition),
        "workflow_started" if started else "workflow_running",
        detail=instance.id,
    )
    return instance.id


#: disposition -> (approval status to set or None, tags to add, retire?)
DISPOSITIONS: dict[str, tuple[ApprovalStatus | None, list[str], bool]] = {
    "renew": (None, ["rights:renewed"], False),
    "replace": (ApprovalStatus.IN_REVIEW, ["rights:replacement-needed"], False),
    "takedown": (None, ["rights:taken-down"], True),
    "cleared": (None, ["compliance:cleared"], False),
    "removed": (None, ["compliance:removed"], True),
}


def write_disposition(
    run: PipelineRun, asset_id: str, outcome: str, variables: dict[str, Any], instance_id: str
) -> Counter[str]:
    """What one disposition does: onto the Smint.io asset, then in every partner that holds it
    (VIP media, Trading Grid guidance and case replies, Exstream resources, Consonance terms)."""
    counts: Counter[str] = Counter()
    smintio = run.hook("smintio")
    approval, tags, retire = DISPOSITIONS.get(outcome, (None, [f"rights:{outcome}"], False))
    smintio.update_metadata(asset_id, {"rights_disposition": outcome, "rights_workflow": instance_id}, tags_add=tags)
    if approval is not None:
        smintio.set_approval(asset_id, approval, f"Rights workflow {instance_id}: {outcome}")
    if retire:
        smintio.retire_asset(asset_id, f"Rights workflow {instance_id}: {outcome}")
    counts.update(apply_to_vip(run, asset_id, outcome, variables, withdraw=retire))
    counts.update(post_usage_guidance(run, asset_id, outcome, variables, instance_id))
    counts.update(reply_on_cases(run, asset_id, outcome, variables, instance_id))
    counts.update(apply_to_exstream(run, asset_id, outcome, variables, block=retire))
    counts.update(record_consonance_terms(run, asset_id, outcome, variables, instance_id))
    run.record(asset_id, "smintio", f"disposition_{outcome}", detail=instance_id)
    counts[outcome] += 1
    return counts


def apply_disposition(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> str:
    """The applier of a rights renewal or compliance exception that has ended (``workflow_outcomes``
    calls it once per business key and records the process applied)."""
    variables = dict(instance.variables)
    asset_id = variables.get("asset_id")
    outcome = instance.outcome or "terminated"
    if not asset_id:
        return f"{outcome}: the workflow names no asset, nothing to write back"
    counts = write_disposition(run, str(asset_id), outcome, variables, instance.id)
    run.ledger.update_process(record.business_key, variables=variables)
    effects = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != outcome)
    return outcome + (f" ({effects})" if effects else "")


#: The sweep's workflows, for the ``workflow_outcomes`` registry: each renewal's renew / replace /
#: takedown and each compliance exception's cleared / removed is applied as soon as it ends.
RENEWAL_OUTCOMES = OutcomeHandler(
    name="rights_sweep",
    owns=lambda definition: definition in (RENEWAL, EXCEPTION),
    apply=apply_disposition,
)


def finish_started(run: PipelineRun, started: list[list[str]] | None) -> dict[str, int]:
    """After every workflow start of the run succeeded: the run's review is finished (its licenses
    are not assessed again), and the count of instances handed to ``workflow_outcomes``."""
    instances = [i for batch in started or [] for i in batch or []]
    if finish_review(run):
        log.info("Review finished: licenses written from now on are assessed by the next run")
    return {"workflows_open": len(instances)}
