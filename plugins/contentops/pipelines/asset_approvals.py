"""Approval workflows on upload (OWS-1) and the approval review kept in step with Smint.io (OWS-5).

**Intake** (:func:`start_draft_approvals`). Every draft asset version in Smint.io — newly
uploaded, or changed (a change makes a new version) — gets its approval workflow as soon as it
appears, not only when its campaign is released: the approval model of its campaign's agency
client, or the default model (legal, brand and marketing review as the model's steps), exactly
the routing and business key (``<model>:<asset>:v<version>``) campaign release uses, so the two
pipelines never start a second workflow for the same asset version. Selection is by state —
every draft version without an approval process in the ledger — so a skipped or failed run loses
nothing: the next one finds the same drafts.

**Outcome** (:data:`APPROVAL_HANDLER`, an :class:`~contentops.pipelines.outcome_handlers.OutcomeHandler`
the workflow-outcomes pipeline calls for every approval process of ours). While the approval
runs, its comments and status are synced both ways with the asset
(:func:`~contentops.pipelines.review_sync.sync_review_with_asset`, the localization review's
sync); once it has ended, the reviewers' last comments (a rejection's reason) reach the asset
and the outcome is written back to Smint.io by campaign release's own write-back
(:func:`contentops.pipelines.campaign.approval.apply_approvals`): approved or rejected, once. An
approval that ends for an older version of an asset whose changed version has its own approval
writes nothing (superseded): the newer one decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contentops.hooks.errors import NotFoundError, PartnerAPIError
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines.campaign.approval import (
    apply_approval,
    apply_approvals,
    escalate_open_approval,
    owns_campaign_workflow,
)
from contentops.pipelines.campaign.settings import ApprovalRouting, CampaignReleaseSettings, load_release_settings
from contentops.pipelines.outcome_handlers import OutcomeHandler
from contentops.pipelines.review_sync import sync_review_with_asset
from contentops.pipelines.workflows import WorkflowStartInProgress, business_key, start_workflow_once
from contentops.targets import TargetSystem

if TYPE_CHECKING:
    from contentops.ledger import ProcessRecord
    from contentops.models.opentext_workflow import WorkflowInstance
    from contentops.pipelines.runtime import PipelineRun

#: the ledger name of the approval review's comment and status sync (whichever DAG runs it)
REVIEW_SYNC_PIPELINE = "approval_review"


class ApprovalsNotStarted(RuntimeError):
    """Some approval workflows could not be started at the partner; the task fails so Airflow
    retries (what was started is in the ledger and is not started again)."""


@dataclass(frozen=True)
class DraftApproval:
    """One draft asset version that needs its approval workflow."""

    asset_id: str
    version: int
    campaign: str | None
    client: str | None
    definition: str

    @property
    def key(self) -> str:
        return business_key(self.definition, self.asset_id, self.version)


def approvals_due(
    assets: Iterable[Asset],
    clients: Mapping[str, str | None],
    routing: ApprovalRouting,
    started: Callable[[str], bool],
) -> list[DraftApproval]:
    """The draft asset versions whose approval workflow has not been started yet, in order.

    ``clients`` maps a campaign to its agency client (whose approval model applies);
    ``started(key)`` tells whether the ledger already has an instance for a business key. Only
    drafts are selected: an asset in review, approved, rejected or retired is decided elsewhere."""
    due: list[DraftApproval] = []
    seen: set[str] = set()
    for asset in assets:
        if asset.approval_status is not ApprovalStatus.DRAFT:
            continue
        client = clients.get(asset.campaign) if asset.campaign else None
        item = DraftApproval(asset.id, asset.version, asset.campaign, client, routing.workflow_for(client))
        if item.key in seen or started(item.key):
            continue
        seen.add(item.key)
        due.append(item)
    return due


def _started(run: PipelineRun, key: str) -> bool:
    """Has an instance been recorded for ``key``? (A claim without one is started again.)"""
    record = run.ledger.process(key)
    return record is not None and record.instance_id is not None


def _campaign_clients(run: PipelineRun, campaigns: Iterable[str]) -> dict[str, str | None]:
    """The agency client of each campaign (None: the default model applies)."""
    smintio = run.hook("smintio")
    clients: dict[str, str | None] = {}
    for campaign in sorted(set(campaigns)):
        try:
            clients[campaign] = smintio.get_campaign(campaign).client
        except NotFoundError:
            clients[campaign] = None  # a campaign Smint.io no longer has: the default model
    return clients


def start_draft_approvals(run: PipelineRun, settings: CampaignReleaseSettings | None = None) -> dict[str, int]:
    """Start the approval workflow of every draft asset version that has none (once per version).

    Returns counts: ``drafts`` seen, ``started``, ``adopted`` (an instance the partner already
    had under the key), ``start_in_progress`` (another run holds the key's claim); a dry run
    records ``approval_would_start`` and starts nothing. A partner failure on one asset does not
    stop the others; the run fails at the end so Airflow retries."""
    settings = settings or load_release_settings()
    smintio = run.hook("smintio")
    drafts = list(smintio.iter_assets(filters={"approval_status": ApprovalStatus.DRAFT.value}))
    clients = _campaign_clients(run, (a.campaign for a in drafts if a.campaign))
    due = approvals_due(drafts, clients, settings.approval, lambda key: _started(run, key))
    counts: Counter[str] = Counter(drafts=len(drafts))
    failed: list[str] = []
    for item in due:
        target = TargetSystem.WORKFLOW.of(item.definition)
        details = {"campaign": item.campaign, "asset_version": item.version}
        if run.dry_run:
            run.record(item.asset_id, target, "approval_would_start", f"draft v{item.version}", **details)
            counts["would_start"] += 1
            continue
        try:
            instance, started = start_workflow_once(
                run.hook("workflow"),
                run.ledger,
                item.definition,
                item.key,
                name=f"Approval: {item.asset_id} v{item.version}" + (f" ({item.campaign})" if item.campaign else ""),
                variables={
                    "asset_id": item.asset_id,
                    "campaign": item.campaign,
                    "client": item.client,
                    "asset_version": item.version,
                },
                run_id=run.run_id,
            )
        except WorkflowStartInProgress:
            counts["start_in_progress"] += 1
            continue
        except PartnerAPIError as exc:
            run.record(item.asset_id, target, "approval_start_failed", str(exc), **details)
            failed.append(item.key)
            continue
        run.record(
            item.asset_id,
            target,
            "approval_started" if started else "approval_adopted",
            f"draft v{item.version} uploaded or changed",
            detail=instance.id,
            **details,
        )
        counts["started" if started else "adopted"] += 1
    if failed:
        raise ApprovalsNotStarted(f"{len(failed)} approval workflow(s) failed to start and are retried: {failed}")
    return dict(counts)


# ============================================================================== outcome handler


def approval_definitions(settings: CampaignReleaseSettings | None = None) -> frozenset[str]:
    """The approval models: the default one and each agency client's (not their usage reviews
    or escalations, whose outcomes are no approval of the asset)."""
    routing = (settings or load_release_settings()).approval
    return frozenset({routing.default_workflow, *(c.approval for c in routing.clients.values())})


def owns_approval(definition: str) -> bool:
    return definition in approval_definitions()


def _asset_of(record: ProcessRecord, instance: WorkflowInstance) -> str | None:
    """The asset an approval is about: its variable, else the business key's subject."""
    asset_id = instance.variables.get("asset_id")
    if asset_id:
        return str(asset_id)
    key, prefix = record.business_key, f"{record.definition}:"
    if key.startswith(prefix) and ":v" in key:
        return key[len(prefix) : key.rindex(":v")] or None
    return None


def sync_approval_review(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> None:
    """OWS-5, on each poll of an open approval: reviewer comments -> the Smint.io asset; Smint.io
    comments and the asset's status -> the workflow — each once, never echoed."""
    asset_id = _asset_of(record, instance)
    if asset_id is None:
        return
    counts = sync_review_with_asset(run, instance, asset_id, pipeline=REVIEW_SYNC_PIPELINE, reviewer="approver")
    if counts:
        run.record(asset_id, TargetSystem.WORKFLOW.of(instance.id), "approval_review_synced", detail=dict(counts))


def _superseded(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance, asset_id: str) -> str | None:
    """The business key of the approval of a newer version of the asset, if one was started.

    The asset changed while its approval ran and the changed version has its own approval: that
    one decides, not a decision on content that is no longer the asset's."""
    version = instance.variables.get("asset_version")
    if version is None and ":v" in record.business_key:
        version = record.business_key.rsplit(":v", 1)[1]
    current = run.hook("smintio").get_asset(asset_id)
    if version is None or str(current.version) == str(version):
        return None
    newer = business_key(record.definition, asset_id, current.version)
    found = run.ledger.process(newer)
    return newer if found is not None and found.instance_id else None


def apply_approval_outcome(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> str:
    """Once the approval has ended: the reviewers' last comments reach the asset (a rejection's
    reason), then campaign release's write-back sets the asset approved or rejected, once — unless
    a newer version of the asset has an approval of its own, which then decides."""
    sync_approval_review(run, record, instance)
    asset_id = _asset_of(record, instance)
    newer = _superseded(run, record, instance, asset_id) if asset_id and record.status != "applied" else None
    if newer is not None:
        outcome = instance.outcome or "terminated"
        run.ledger.update_process(record.business_key, status="applied", outcome="superseded")
        run.record(
            asset_id or record.business_key,
            TargetSystem.WORKFLOW.of(record.definition),
            "approval_superseded",
            f"ended {outcome} for an older version; {newer} decides",
            detail=instance.id,
        )
        return "superseded"
    result = {
        "instance_id": instance.id,
        "outcome": instance.outcome,
        "variables": {"asset_id": asset_id, **instance.variables},
        "completed": instance.completed,
    }
    counts = apply_approvals(run, [result])
    return "already_applied" if counts.get("already_applied") else (instance.outcome or "terminated")


def apply_campaign_workflow(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> str:
    """An ended approval (whichever pipeline started it) as :func:`apply_approval_outcome`; a
    client's usage review or escalation as campaign release records it."""
    if owns_approval(record.definition):
        return apply_approval_outcome(run, record, instance)
    return apply_approval(run, record, instance)


def while_campaign_workflow_open(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> None:
    """While an approval runs: its comments and status synced both ways (OWS-5), and a client's
    escalation once it is past the client's SLA (OWS-7)."""
    escalate_open_approval(run, record, instance)
    if owns_approval(record.definition):
        sync_approval_review(run, record, instance)


#: The handler of every approval workflow and of the agency clients' usage reviews and
#: escalations (OWS-1, OWS-5, OWS-7), whichever pipeline started them (``asset_approval_intake``
#: on upload, ``campaign_release`` at release): one handler, so one poll never applies an
#: approval twice. Its name makes ``workflow_outcomes`` emit the campaign-approvals Asset.
APPROVAL_HANDLER = OutcomeHandler(
    name="campaign_approvals",
    owns=owns_campaign_workflow,
    apply=apply_campaign_workflow,
    while_open=while_campaign_workflow_open,
)
