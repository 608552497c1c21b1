"""Approval (OWS-1, OWS-7): one workflow per asset version, its outcome written back once.

Each asset goes through the approval model of its campaign's agency client (or the default
one), started once per business key; the wait is the deferrable sensor's. A client may also
have a usage review model (its sign-off of license restrictions, kept in the ledger for the
gate) and an escalation model, started when the client's approval is still open after its SLA.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from contentops.ledger import ProcessRecord
from contentops.models.opentext_workflow import WorkflowInstance
from contentops.models.smintio import ApprovalStatus
from contentops.pipelines.campaign.plan import (
    APPROVAL_NEEDED,
    USAGE_REVIEW_NEEDED,
    ReleasePlan,
    plans_of,
    run_decisions,
)
from contentops.pipelines.campaign.settings import CampaignReleaseSettings, load_release_settings
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key, start_workflow_once
from contentops.targets import TargetSystem


def start_approvals(run: PipelineRun, batch: list[list[str]], settings: CampaignReleaseSettings) -> list[str]:
    """Start (once per asset version) the approval workflow of each asset; the instance ids to wait for."""
    if run.dry_run:
        return []
    plans = plans_of(run, (campaign for campaign, _ in batch))
    needed = run_decisions(run, batch, APPROVAL_NEEDED)
    reviews = run_decisions(run, batch, USAGE_REVIEW_NEEDED)
    workflow = run.hook("workflow")
    instance_ids: list[str] = []
    for campaign, asset_id in dict.fromkeys((c, a) for c, a in batch):
        plan = plans.get(campaign)
        if plan is None:
            continue
        variables = {"asset_id": asset_id, "campaign": campaign, "client": plan.client}
        review_model = settings.approval.usage_review_for(plan.client)
        if reviews.get((campaign, asset_id)) and review_model:
            entry = reviews[(campaign, asset_id)][-1]
            version = entry.get("asset_version", 1)
            key = str(entry.get("review_key") or business_key(review_model, asset_id, version))
            instance, started = start_workflow_once(
                workflow,
                run.ledger,
                review_model,
                key,
                name=f"Usage review: {asset_id} ({campaign})",
                variables={**variables, "asset_version": version, "restrictions": entry.get("reason", "")},
                run_id=run.run_id,
            )
            if _awaited(run, key):
                run.record(
                    asset_id,
                    TargetSystem.WORKFLOW.of(review_model),
                    "usage_review_started" if started else "usage_review_running",
                    detail=instance.id,
                    campaign=campaign,
                )
                instance_ids.append(instance.id)
        entries = needed.get((campaign, asset_id))
        if not entries:
            continue
        version = entries[-1].get("asset_version", 1)
        definition = settings.approval.workflow_for(plan.client)
        key = business_key(definition, asset_id, version)
        instance, started = start_workflow_once(
            workflow,
            run.ledger,
            definition,
            key,
            name=f"Approval: {asset_id} ({campaign})",
            variables={**variables, "asset_version": version},
            run_id=run.run_id,
        )
        if not _awaited(run, key):
            continue  # this version's outcome is already in Smint.io
        run.record(
            asset_id,
            TargetSystem.WORKFLOW.of(definition),
            "approval_started" if started else "approval_running",
            detail=instance.id,
            campaign=campaign,
        )
        instance_ids.append(instance.id)
        escalate(run, plan, asset_id, version, instance, settings)
    return instance_ids


def _awaited(run: PipelineRun, key: str) -> bool:
    """Is the workflow of ``key`` still to be waited for (its outcome not applied yet)?"""
    record = run.ledger.process(key)
    return record is None or record.status != "applied"


def escalate(
    run: PipelineRun,
    plan: ReleasePlan,
    asset_id: str,
    version: int | str,
    approval: WorkflowInstance,
    settings: CampaignReleaseSettings,
) -> bool:
    """Start the client's escalation workflow (once per business key) for an approval still open
    after the client's SLA, measured against the end of the run's window (OWS-7)."""
    return _escalate(run, plan.client, plan.campaign, asset_id, version, approval, settings)


def _escalate(
    run: PipelineRun,
    client_name: str | None,
    campaign: str,
    asset_id: str,
    version: int | str,
    approval: WorkflowInstance,
    settings: CampaignReleaseSettings,
) -> bool:
    client = settings.approval.client(client_name)
    if client is None or client.escalation is None or approval.ended:
        return False
    if not client.escalation_due(approval.start_time, run.window.end):
        return False
    key = business_key(client.escalation, asset_id, version)
    instance, started = start_workflow_once(
        run.hook("workflow"),
        run.ledger,
        client.escalation,
        key,
        name=f"Escalation: approval of {asset_id} ({campaign}) open for {client.escalate_after_hours:g} h",
        variables={
            "asset_id": asset_id,
            "campaign": campaign,
            "client": client_name,
            "asset_version": version,
            "approval_instance": approval.id,
            "approval_started": approval.start_time.isoformat() if approval.start_time else None,
        },
        run_id=run.run_id,
    )
    if started:
        run.record(
            asset_id,
            TargetSystem.WORKFLOW.of(client.escalation),
            "escalation_started",
            f"approval {approval.id} still open {client.escalate_after_hours:g} h after it started",
            detail=instance.id,
            campaign=campaign,
        )
    return started


#: workflow outcome -> approval status written to Smint.io
APPROVAL_OUTCOMES: dict[str, ApprovalStatus] = {
    "approved": ApprovalStatus.APPROVED,
    "rejected": ApprovalStatus.REJECTED,
}


def apply_approvals(
    run: PipelineRun, results: Iterable[dict[str, Any] | None], settings: CampaignReleaseSettings | None = None
) -> dict[str, int]:
    """Write each approval outcome back to Smint.io, once per business key; a usage review's
    outcome stays in the ledger (the gate reads it; the asset's approval is not its business)."""
    settings = settings or CampaignReleaseSettings()
    usage_models = {c.usage_review for c in settings.approval.clients.values() if c.usage_review}
    counts: Counter[str] = Counter()
    smintio = run.hook("smintio")
    for result in results:
        if not result:
            continue
        process = run.ledger.process_for_instance(result["instance_id"])
        variables = result.get("variables") or {}
        asset_id = variables.get("asset_id")
        if process is None or asset_id is None:
            continue
        if process.status == "applied":
            counts["already_applied"] += 1
            continue
        outcome = result.get("outcome") or "terminated"
        review = process.definition in usage_models
        status = None if review else APPROVAL_OUTCOMES.get(outcome)
        if status is not None:
            smintio.set_approval(asset_id, status, f"Approval workflow {result['instance_id']} ({process.definition})")
        run.ledger.update_process(process.business_key, status="applied", outcome=outcome)
        kind = "usage_review" if review else "approval"
        run.record(
            asset_id,
            TargetSystem.WORKFLOW.of(process.definition),
            f"{kind}_{outcome}",
            f"{kind.replace('_', ' ')} workflow ended: {outcome}",
            detail=result["instance_id"],
            campaign=variables.get("campaign"),
        )
        counts[outcome] += 1
    return dict(counts)


def apply_approval(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> str:
    """The applier of an ended campaign workflow (``workflow_outcomes`` calls it once per business
    key and records the process applied): an approval's outcome goes to Smint.io (the next
    ``campaign_release`` run delivers what it approved, scheduled on the Asset the outcomes
    pipeline emits); a usage review's outcome stays in the ledger for the gate; a client's
    escalation is recorded."""
    settings = load_release_settings()
    result = {"instance_id": instance.id, "outcome": instance.outcome, "variables": dict(instance.variables)}
    if record.definition in _escalation_models(settings):
        outcome = instance.outcome or instance.state
        run.record(
            str(instance.variables.get("asset_id") or record.business_key),
            TargetSystem.WORKFLOW.of(record.definition),
            f"escalation_{outcome}",
            detail=instance.id,
            campaign=instance.variables.get("campaign"),
        )
        return f"escalation {outcome}"
    counts = apply_approvals(run, [result], settings)
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to write back"


def escalate_open_approval(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> None:
    """While a client's approval is open: its escalation, once it is past the client's SLA by the
    polling run's window (OWS-7) — not only when a ``campaign_release`` run happens to look."""
    settings = load_release_settings()
    variables = instance.variables
    if record.definition not in _approval_models(settings) or not variables.get("asset_id"):
        return
    _escalate(
        run,
        variables.get("client"),
        str(variables.get("campaign") or ""),
        str(variables["asset_id"]),
        variables.get("asset_version", 1),
        instance,
        settings,
    )


def _approval_models(settings: CampaignReleaseSettings) -> set[str]:
    routing = settings.approval
    return {routing.default_workflow, *(c.approval for c in routing.clients.values())}


def _usage_review_models(settings: CampaignReleaseSettings) -> set[str]:
    return {c.usage_review for c in settings.approval.clients.values() if c.usage_review}


def _escalation_models(settings: CampaignReleaseSettings) -> set[str]:
    return {c.escalation for c in settings.approval.clients.values() if c.escalation}


def owns_campaign_workflow(definition: str) -> bool:
    """Approval, usage review and escalation models of the campaign release (default and clients')."""
    settings = load_release_settings()
    return definition in (_approval_models(settings) | _usage_review_models(settings) | _escalation_models(settings))
