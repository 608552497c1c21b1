"""The campaign release's steps: plan, collect, approve, gate on rights, deliver once per target.

A campaign (from the UI form, or every campaign whose release date falls in a scheduled run's
window) is released in this order, each step a plain function over hooks and the ledger:

1. :func:`plan_release` — which campaigns, for which targets, regions and release date. The
   plan is written to the run's audit trail; later steps read it from there (XComs stay small).
2. :func:`collect` — the campaign's assets and licensed stock from Smint.io (by campaign and
   by campaign tag). Retired and rejected assets are recorded and left out; assets not yet
   approved are batched for an approval workflow (OWS-1).
3. :func:`start_approvals` — one approval workflow per asset and asset version, started once
   per business key (:func:`~contentops.pipelines.workflows.start_workflow_once`), in the
   approval model of the campaign's agency client when configuration names one (OWS-7); the
   wait is the deferrable sensor's, then :func:`apply_approvals` writes each outcome back to
   Smint.io once. An agency client may also have a usage review model (assets whose license
   carries restrictions the client signs off; keyed by asset and restrictions, the outcome kept in
   the ledger for the gate) and an escalation model, started once per business key by
   :func:`escalate` when the client's approval is still open after its SLA by the run's window.
4. :func:`gate` — every approved asset passes the rights gate (:mod:`contentops.rights`, on the
   license from the ledger's license index, like the sweep) for each target's channel, each
   region and the release date; regulated Exstream domains also need the compliance criteria
   (EXS-5). Every refusal is recorded with its reasons; what passed is batched per target.
   Agencies' final deliverables (VIP-7: tagged assets derived from approved masters) are gated
   by :func:`gate_deliverable` on every master's license as a derivative and become media of
   the same VIP catalog items, available only to the publishers, media partners and franchise
   networks of the regions, with the agency on the media.
5. :func:`deliver` (mapped per target and batch; each makes sure its target's container
   exists first, :func:`ensure_containers`) and :func:`finalize` —
   each asset as media of the VIP catalog items it shows (:class:`VipSettings`), available to
   the retailer-data parties of the regions its rights allow, with usage controls, campaign
   tags, approval status, license summary and the file streamed from Smint.io — the campaign's
   media together are its hand-off to VIP (VIP-5); one launch kit per
   authorized Trading Grid community (the files attached), Exstream image resources with rights
   metadata moved to APPROVED. A newer version of an image Exstream already holds goes through
   the template sync's ``replace_for_review`` instead (EXS-8): the image and the communications
   using it wait in REVIEW for the template review workflow, whose outcome the template sync
   applies. Every write goes through :meth:`PipelineRun.deliver_once`, keyed by (pipeline,
   asset, asset version, target): a retry or re-run sends only what is missing, and a new asset
   version becomes an update of the delivered item.

Ledger targets are ``vip:<catalog item>``, ``trading_grid:<community>`` and ``exstream:<domain>``
(remote ids: the VIP media reference, the launch kit's post reference, the Exstream resource id),
which is what the rights expiry sweep looks for when rights change later. Containers (the launch
kit post) are recorded under the pseudo asset ``campaign:<id>`` and a target kind of their own
(``trading_grid_kit:``), so they are never mistaken for a delivered asset.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contentops import rights
from contentops.hooks.errors import NotFoundError
from contentops.ledger import Action, DeliveryRecord
from contentops.models.domain import ComplianceCriteria, IntendedUse, RightsDecision, UsageRights
from contentops.models.opentext_workflow import WorkflowInstance
from contentops.models.smintio import ApprovalStatus, Asset, Campaign, ComplianceStatus
from contentops.pipelines import exstream_template_sync
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key, start_workflow_once

TARGETS = ("vip", "trading_grid", "exstream")
#: Regions a campaign can be released in: VIP's distribution regions (Trading Grid has a
#: community for most of them) and region keys of the rights catalogue at the same time.
REGIONS = ("emea", "dach", "north_america", "apac", "latam", "uk_and_ireland")
PLANNED = "release_planned"
APPROVAL_NEEDED = "approval_needed"
USAGE_REVIEW_NEEDED = "usage_review_needed"
CLEARED = "cleared"
REFUSED = "refused"


# =========================================================================== settings


class ClientWorkflows(BaseModel):
    """An agency client's own workflows (OWS-7): approval, usage review and escalation.

    ``usage_review`` is the model the client signs off license usage restrictions in (editorial
    use only, restricted usages, a license limited to certain channels) before the agency
    releases such an asset; ``escalation`` the model started when the client's approval is still
    open ``escalate_after_hours`` after it started, measured against the run's window (so a
    backfill decides as the run of that day would have). Both are optional.
    """

    model_config = ConfigDict(extra="forbid")

    approval: str
    usage_review: str | None = None
    escalation: str | None = None
    escalate_after_hours: float = Field(48.0, gt=0)

    def escalation_due(self, started: datetime | None, window_end: datetime) -> bool:
        """Is an approval that started at ``started`` overdue by the end of the run's window?"""
        if self.escalation is None or started is None:
            return False
        return started + timedelta(hours=self.escalate_after_hours) <= window_end


class ApprovalRouting(BaseModel):
    """Which approval workflow an asset goes through (OWS-1, OWS-7).

    ``clients`` maps an agency client (a campaign's ``client`` in Smint.io) to that client's
    workflows: the name of its approval model alone, or :class:`ClientWorkflows` with its
    usage review and escalation models. Every other campaign uses ``default_workflow`` and
    has neither usage review nor escalation.
    """

    model_config = ConfigDict(extra="forbid")

    default_workflow: str = "asset_approval"
    clients: dict[str, ClientWorkflows] = Field(default_factory=dict)

    @field_validator("clients", mode="before")
    @classmethod
    def _approval_model_alone(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"approval": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    def client(self, client: str | None) -> ClientWorkflows | None:
        return self.clients.get(client or "")

    def workflow_for(self, client: str | None) -> str:
        own = self.client(client)
        return own.approval if own is not None else self.default_workflow

    def usage_review_for(self, client: str | None) -> str | None:
        own = self.client(client)
        return own.usage_review if own is not None else None


class VipSettings(BaseModel):
    """Where VIP distributes an asset (VIP-1/3/5): as media of the catalog items it shows.

    VIP's item catalog holds the products a supplier sells through its distributors; an asset
    shows some of them. The item codes are in the asset's metadata key ``item_key`` (one or a
    list); an asset naming none shows its campaign's items (``campaign_items``). The media is
    available to the retailer-data parties of the ``audience`` kinds in the regions the
    asset's rights allow.
    """

    model_config = ConfigDict(extra="forbid")

    item_key: str = "vip_items"
    campaign_items: dict[str, list[str]] = Field(default_factory=dict)
    audience: tuple[str, ...] = ("distributor", "retailer", "regional_team", "agency", "publishing_partner")

    def items_of(self, asset: Asset, campaign: str) -> list[str]:
        """The catalog items the asset shows (its own metadata first, else its campaign's)."""
        named = asset.metadata.get(self.item_key)
        if named:
            return list(dict.fromkeys(str(i) for i in (named if isinstance(named, list) else [named]) if i))
        return list(dict.fromkeys(self.campaign_items.get(campaign, [])))


class DeliverableSettings(BaseModel):
    """Agencies' final deliverables (VIP-7): how they are recognised and who VIP makes them available to.

    A final deliverable is a Smint.io asset an agency derived from approved masters: it names
    its master (``master_asset_id``, further ones in the metadata key ``master_asset_ids``),
    carries ``tag`` and the agency in the metadata key ``agency_key``. It becomes media of the
    catalog items it shows (as any asset, :class:`VipSettings`), available only to the parties
    of ``recipient_kinds`` in the regions its masters' licenses allow for a derivative, on ``channel``.
    """

    model_config = ConfigDict(extra="forbid")

    tag: str = "deliverable:final"
    agency_key: str = "agency"
    recipient_kinds: tuple[str, ...] = ("publishing_partner", "media_partner", "franchise_network")
    channel: str = "online"

    def is_deliverable(self, asset: Asset) -> bool:
        return self.tag in asset.tags

    def masters_of(self, asset: Asset) -> list[str]:
        """The masters a deliverable was derived from (its own ``master_asset_id`` first)."""
        extra = asset.metadata.get("master_asset_ids") or []
        named = [asset.master_asset_id, *(extra if isinstance(extra, list) else [extra])]
        return list(dict.fromkeys(str(m) for m in named if m))

    def agency_of(self, asset: Asset) -> str | None:
        agency = asset.metadata.get(self.agency_key)
        return str(agency) if agency else None


def _default_regulated() -> dict[str, ComplianceCriteria]:
    return {
        "insurance": ComplianceCriteria(
            eligible_categories=frozenset({"icon", "logo", "disclosure_graphic", "legal_artwork"}),
            required_compliance_status=ComplianceStatus.COMPLIANT,
        )
    }


class CampaignReleaseSettings(BaseModel):
    """``include/config/campaign_release.yaml``: channels per target, approval routing, regulated domains.

    ``channels`` are Smint.io distribution keys the rights gate checks each target against
    (VIP and Trading Grid hand content on for online use; Exstream prints it into customer
    correspondence). ``regulated_domains`` are Exstream domains where only assets meeting the
    compliance criteria may be published (EXS-5).
    """

    model_config = ConfigDict(extra="forbid")

    channels: dict[str, str] = Field(
        default_factory=lambda: {"vip": "online", "trading_grid": "online", "exstream": "direct_mail"}
    )
    approval: ApprovalRouting = Field(default_factory=ApprovalRouting)
    vip: VipSettings = Field(default_factory=lambda: VipSettings())
    deliverables: DeliverableSettings = Field(default_factory=lambda: DeliverableSettings())
    regulated_domains: dict[str, ComplianceCriteria] = Field(default_factory=_default_regulated)
    kit_ref: str = "kit-{campaign}"


def load_release_settings() -> CampaignReleaseSettings:
    from contentops.config import load_settings

    return load_settings("campaign_release", CampaignReleaseSettings)


# =========================================================================== the plan


class ReleasePlan(BaseModel):
    """One campaign's release as this run does it (kept in the audit trail, read by every step)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    campaign: str
    release_date: datetime
    on_date: datetime
    targets: tuple[str, ...]
    regions: tuple[str, ...]
    exstream_domains: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    client: str | None = None
    name: str | None = None

    def details(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def plan_release(
    run: PipelineRun,
    *,
    campaign: str | None,
    targets: list[str],
    regions: list[str],
    release_date: str | None,
    exstream_domains: list[str],
    scheduled: bool,
) -> dict[str, Any]:
    """Decide which campaigns this run releases and how; returns their ids and counts.

    A manual run releases the campaign of the form; a scheduled run (or a manual one without a
    campaign) every campaign whose release date falls in the run's window. Regions and release
    date default to the campaign's own; the rights are decided for the release date, or for the
    window's end when the release is late (the use starts when the content arrives).
    """
    smintio = run.hook("smintio")
    chosen: list[Campaign] = []
    if campaign and not scheduled:
        try:
            chosen.append(smintio.get_campaign(campaign))
        except NotFoundError as missing:  # a typo must not release an empty kit to real partners
            raise NotFoundError(f"campaign {campaign!r} is not in Smint.io", system="smintio", status=404) from missing
    else:
        chosen.extend(smintio.iter_campaigns(release_from=run.window.start, release_to=run.window.end))
    plans: list[str] = []
    for item in chosen:
        when = _parse_date(release_date) if release_date and not scheduled else None
        when = when or item.release_date or run.window.end
        wanted = [r for r in (regions or item.regions or ["emea"]) if r in REGIONS]
        plan = ReleasePlan(
            campaign=item.id,
            name=item.name,
            release_date=when,
            on_date=max(when, run.window.end),
            targets=tuple(t for t in TARGETS if t in (targets or TARGETS)),
            regions=tuple(dict.fromkeys(wanted)),
            exstream_domains=tuple(dict.fromkeys(exstream_domains or ["retail"])),
            segments=tuple(item.segments),
            client=item.client,
        )
        run.record(f"campaign:{item.id}", "campaign", PLANNED, _describe_plan(plan), plan=plan.details())
        plans.append(item.id)
    return {"campaigns": plans, "count": len(plans)}


def by_release_date(run_type: Any) -> bool:
    """Scheduled runs and backfills release the campaigns due in their interval, whatever the form says."""
    return str(getattr(run_type, "value", run_type)) in ("scheduled", "backfill")


def _parse_date(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _describe_plan(plan: ReleasePlan) -> str:
    return (
        f"release {plan.release_date.date().isoformat()} to {', '.join(plan.targets)} "
        f"in {', '.join(plan.regions) or 'no region'}" + (f" for client {plan.client}" if plan.client else "")
    )


def plans_of(run: PipelineRun, campaigns: Iterable[str] | None = None) -> dict[str, ReleasePlan]:
    """The campaign plans this run made (the latest one per campaign, should a task have retried).

    Mapped tasks name their campaigns, so they read only those plans (by subject, indexed)
    instead of the run's whole audit trail, which grows with the campaign.
    """
    if campaigns is None:
        entries = run.ledger.audit_trail(run_id=run.run_id, pipeline=run.dag_id)
    else:
        entries = [
            entry
            for campaign in dict.fromkeys(campaigns)
            for entry in run.ledger.audit_trail(subject=f"campaign:{campaign}", run_id=run.run_id)
        ]
    plans: dict[str, ReleasePlan] = {}
    for entry in entries:
        if entry.action == PLANNED and entry.details and entry.details.get("plan"):
            plan = ReleasePlan.model_validate(entry.details["plan"])
            plans[plan.campaign] = plan
    return plans


def _decisions(run: PipelineRun, batch: list[list[str]], action: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """This run's ``action`` entries about the assets of a batch: (campaign, asset) -> their details."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for asset_id in dict.fromkeys(asset for _, asset in batch):
        for entry in run.ledger.audit_trail(subject=asset_id, run_id=run.run_id):
            if entry.action == action and entry.pipeline == run.dag_id:
                details = entry.details or {}
                found.setdefault((str(details.get("campaign")), asset_id), []).append(details)
    return found


def report_notes(run: PipelineRun) -> list[str]:
    """What the run report says above its table: which campaigns, where, for which date."""
    plans = plans_of(run)
    if not plans:
        return [f"No campaign releases in {run.window.describe()}."]
    return [f"{plan.campaign}: {_describe_plan(plan)}" for plan in plans.values()]


# =========================================================================== collect


def campaign_assets(run: PipelineRun, campaign: str) -> Iterator[Asset]:
    """The campaign's own assets and the licensed stock tagged for it, each once."""
    smintio = run.hook("smintio")
    on_invalid = run.quarantine_callback("smintio", "asset")
    seen: set[str] = set()
    for filters in ({"campaign": campaign}, {"tag": f"campaign:{campaign}"}):
        for asset in smintio.iter_assets(filters=filters, on_invalid=on_invalid):
            if asset.id not in seen:
                seen.add(asset.id)
                yield asset


def batches_of(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def collect(
    run: PipelineRun, *, batch_size: int = 50, settings: CampaignReleaseSettings | None = None
) -> dict[str, Any]:
    """Sort the campaigns' assets: approved ones go to the gate, unapproved ones to approval.

    For an agency client with a usage review model (OWS-7), every asset of its campaigns whose
    license carries restrictions the client signs off (:func:`contentops.rights.sign_off_restrictions`)
    also goes into the workflow batches, for that review.
    """
    settings = settings or CampaignReleaseSettings()
    counts: Counter[str] = Counter()
    to_approve: list[list[str]] = []
    for campaign, plan in plans_of(run).items():
        review_model = settings.approval.usage_review_for(plan.client)
        for asset in campaign_assets(run, campaign):
            counts["assets"] += 1
            status = asset.approval_status
            if review_model and status in (ApprovalStatus.APPROVED, ApprovalStatus.DRAFT, ApprovalStatus.IN_REVIEW):
                restrictions = _sign_off_needed(run, asset, settings)
                if restrictions:
                    counts["usage_review_needed"] += 1
                    run.record(
                        asset.id,
                        "usage_review",
                        USAGE_REVIEW_NEEDED,
                        "; ".join(restrictions),
                        campaign=campaign,
                        asset_version=asset.version,
                        review_key=usage_review_key(review_model, asset.id, restrictions),
                    )
                    to_approve.append([campaign, asset.id])
            if status is ApprovalStatus.APPROVED:
                counts["approved"] += 1
            elif status in (ApprovalStatus.DRAFT, ApprovalStatus.IN_REVIEW):
                counts["approval_needed"] += 1
                run.record(
                    asset.id,
                    "approval",
                    APPROVAL_NEEDED,
                    f"{status.value}: goes through approval before release",
                    campaign=campaign,
                    asset_version=asset.version,
                )
                if [campaign, asset.id] not in to_approve[-1:]:
                    to_approve.append([campaign, asset.id])
            else:
                counts[f"not_released_{status.value}"] += 1
    return {"counts": dict(counts), "approval_batches": batches_of(to_approve, batch_size)}


def usage_review_key(model: str, asset_id: str, restrictions: Iterable[str]) -> str:
    """The business key of a client's usage review: the asset and the restrictions signed off.

    Not the asset version: writing an approval back makes a new version, and the license's
    restrictions are what the client signs off; a license whose restrictions change is reviewed anew.
    """
    return business_key(model, asset_id, _digest(sorted(restrictions))[:12])


def _sign_off_needed(run: PipelineRun, asset: Asset, settings: CampaignReleaseSettings) -> tuple[str, ...]:
    """The license restrictions of an asset (of its masters, for a deliverable) a client signs off."""
    if settings.deliverables.is_deliverable(asset):
        smintio = run.hook("smintio")
        found: list[str] = []
        for master in settings.deliverables.masters_of(asset):
            try:
                usage = usage_rights(run, smintio.get_asset(master))
            except NotFoundError:
                continue  # the gate refuses it with the reason
            if usage is not None:
                found.extend(f"master {master}: {r}" for r in rights.sign_off_restrictions(usage))
        return tuple(found)
    usage = usage_rights(run, asset)
    return rights.sign_off_restrictions(usage) if usage is not None else ()


# =========================================================================== approval (OWS-1, OWS-7)


def start_approvals(run: PipelineRun, batch: list[list[str]], settings: CampaignReleaseSettings) -> list[str]:
    """Start (once per asset version) the approval workflow of each asset; the instance ids to wait for."""
    if run.dry_run:
        return []
    plans = plans_of(run, (campaign for campaign, _ in batch))
    needed = _decisions(run, batch, APPROVAL_NEEDED)
    reviews = _decisions(run, batch, USAGE_REVIEW_NEEDED)
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
                    f"workflow:{review_model}",
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
            f"workflow:{definition}",
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
    client = settings.approval.client(plan.client)
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
        name=f"Escalation: approval of {asset_id} ({plan.campaign}) open for {client.escalate_after_hours:g} h",
        variables={
            "asset_id": asset_id,
            "campaign": plan.campaign,
            "client": plan.client,
            "asset_version": version,
            "approval_instance": approval.id,
            "approval_started": approval.start_time.isoformat() if approval.start_time else None,
        },
        run_id=run.run_id,
    )
    if started:
        run.record(
            asset_id,
            f"workflow:{client.escalation}",
            "escalation_started",
            f"approval {approval.id} still open {client.escalate_after_hours:g} h after it started",
            detail=instance.id,
            campaign=plan.campaign,
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
            f"workflow:{process.definition}",
            f"{kind}_{outcome}",
            f"{kind.replace('_', ' ')} workflow ended: {outcome}",
            detail=result["instance_id"],
            campaign=variables.get("campaign"),
        )
        counts[outcome] += 1
    return dict(counts)


# =========================================================================== the rights gate


@dataclass(frozen=True)
class Clearance:
    """What the gate decided for one asset on one target (a VIP catalog item, a community, a domain)."""

    system: str
    target: str  # ledger target: vip:<item>, trading_grid:<community>, exstream:<domain>
    regions: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)  # region (or "compliance") -> reasons

    @property
    def allowed(self) -> bool:
        return bool(self.regions) and "compliance" not in self.refused


@dataclass
class TargetMap:
    """Where each target system's deliveries go for one campaign (VIP's depend on the asset:
    :meth:`VipSettings.items_of`)."""

    kit: str
    communities: dict[str, str]  # region -> community id (only communities that exist)
    partners: dict[str, list[str]]  # community -> authorized partners


def usage_rights(run: PipelineRun, asset: Asset) -> UsageRights | None:
    """The asset's rights from the ledger's license index (kept current by the license sync)."""
    if not asset.license_purchase_transaction_uuid:
        return None
    row = run.ledger.license(asset.license_purchase_transaction_uuid)
    return UsageRights.model_validate(row.rights) if row is not None else None


def decide(
    asset: Asset,
    usage: UsageRights | None,
    plan: ReleasePlan,
    targets: TargetMap,
    settings: CampaignReleaseSettings,
) -> list[Clearance]:
    """The rights gate for one asset on every target of the plan (pure: the same inputs, the same answer).

    Each target is checked for its channel in every region of the plan on the plan's date, with
    one download planned (the file leaves Smint.io once per delivery). A target gets the asset
    when at least one region is allowed; the regions refused are kept with their reasons.
    """
    clearances: list[Clearance] = []
    for system in plan.targets:
        channel = settings.channels.get(system)
        per_region: dict[str, RightsDecision | str] = {}
        for region in plan.regions:
            if usage is None:
                per_region[region] = "no license is known for this asset (license index)"
                continue
            use = IntendedUse(on_date=plan.on_date, channel=channel, region=region, planned_downloads=1)
            per_region[region] = rights.evaluate(usage, use)
        allowed = tuple(r for r, d in per_region.items() if isinstance(d, RightsDecision) and d.allowed)
        refused = {
            r: (d if isinstance(d, str) else d.summary())
            for r, d in per_region.items()
            if not (isinstance(d, RightsDecision) and d.allowed)
        }
        if system == "vip":
            items = settings.vip.items_of(asset, plan.campaign)
            clearances.extend(Clearance(system, f"vip:{item}", allowed, refused) for item in items)
            if not items:
                clearances.append(Clearance(system, "vip", (), {"item": no_item(settings)}))
        elif system == "trading_grid":
            for region in plan.regions:
                community = targets.communities.get(region)
                if community is None:
                    continue
                ok = (region,) if region in allowed else ()
                clearances.append(
                    Clearance(
                        system, f"trading_grid:{community}", ok, {k: v for k, v in refused.items() if k == region}
                    )
                )
        elif system == "exstream":
            for domain in plan.exstream_domains:
                domain_refused = dict(refused)
                criteria = settings.regulated_domains.get(domain)
                if criteria is not None:
                    verdict = rights.meets_compliance(asset, usage, criteria, plan.on_date)
                    if not verdict.allowed:
                        domain_refused["compliance"] = verdict.summary()
                clearances.append(Clearance(system, f"exstream:{domain}", allowed, domain_refused))
    return clearances


def no_item(settings: CampaignReleaseSettings) -> str:
    """Why an asset cannot go to VIP: it shows no item of VIP's item catalog that we know of."""
    key = settings.vip.item_key
    return f"shows no VIP catalog item (none in its metadata {key!r}, none configured for its campaign)"


def decide_deliverable(masters: dict[str, UsageRights | None], plan: ReleasePlan, item: str, channel: str) -> Clearance:
    """The rights gate for an agency's final deliverable (VIP-7; pure).

    A deliverable inherits the rights of every master it was made from: a region is allowed
    only when each master's license allows a derivative of it there, on ``channel``, on the
    plan's date (:func:`contentops.rights.evaluate_derivative`).
    """
    refused: dict[str, str] = {}
    allowed: list[str] = []
    for region in plan.regions:
        reasons: list[str] = []
        for master, usage in masters.items():
            if usage is None:
                reasons.append(f"master {master}: no license is known for it (license index)")
                continue
            use = IntendedUse(on_date=plan.on_date, channel=channel, region=region, planned_downloads=1)
            decision = rights.evaluate_derivative(usage, use)
            if not decision.allowed:
                reasons.append(f"master {master}: {decision.summary()}")
        if reasons or not masters:
            refused[region] = "; ".join(reasons) or "names no master asset"
        else:
            allowed.append(region)
    return Clearance("vip", f"vip:{item}", tuple(allowed), refused)


def gate_deliverable(run: PipelineRun, plan: ReleasePlan, asset: Asset, settings: CampaignReleaseSettings) -> bool:
    """Decide one final deliverable of an agency on each catalog item it shows; record why it goes
    or not. True = cleared (for at least one region)."""
    deliverables = settings.deliverables
    agency = deliverables.agency_of(asset)
    items = settings.vip.items_of(asset, plan.campaign)
    target = f"vip:{items[0]}" if len(items) == 1 else "vip"
    common = {"campaign": plan.campaign, "asset_version": asset.version, "agency": agency or ""}
    if not items:
        run.record(asset.id, target, REFUSED, no_item(settings), **common)
        return False
    if agency is None:
        reason = f"final deliverable without an agency (metadata {deliverables.agency_key!r}): not released"
        run.record(asset.id, target, REFUSED, reason, **common)
        return False
    smintio = run.hook("smintio")
    masters: dict[str, UsageRights | None] = {}
    for master_id in deliverables.masters_of(asset):
        try:
            master = smintio.get_asset(master_id)
        except NotFoundError:
            run.record(asset.id, target, REFUSED, f"master {master_id} is not in Smint.io", **common)
            return False
        if master.approval_status is not ApprovalStatus.APPROVED:
            state = master.approval_status.value
            run.record(asset.id, target, REFUSED, f"master {master_id} is not approved ({state})", **common)
            return False
        masters[master_id] = usage_rights(run, master)
    licenses = sorted(u.license_purchase_transaction_uuid or "" for u in masters.values() if u is not None)
    ends = [e for u in masters.values() if u is not None and (e := rights.usable_until(u)) is not None]
    common.update(license=", ".join(licenses), expires=min(ends).date().isoformat() if ends else "")
    common["masters"] = list(masters)
    allowed = False
    for item in items:
        clearance = decide_deliverable(masters, plan, item, deliverables.channel)
        for region, reason in clearance.refused.items():
            run.record(asset.id, clearance.target, REFUSED, f"{region}: {reason}", region=region, **common)
        if clearance.allowed:
            regions = ", ".join(clearance.regions)
            run.record(
                asset.id, clearance.target, CLEARED, f"cleared for {regions}", regions=list(clearance.regions), **common
            )
            allowed = True
    return allowed


def _usage_review_refusal(
    run: PipelineRun, plan: ReleasePlan, asset: Asset, settings: CampaignReleaseSettings
) -> str | None:
    """Why an asset whose restrictions needed the client's sign-off is not released (None: it may be)."""
    model = settings.approval.usage_review_for(plan.client)
    if model is None:
        return None
    needed = [
        e
        for e in run.ledger.audit_trail(subject=asset.id, run_id=run.run_id)
        if e.action == USAGE_REVIEW_NEEDED and (e.details or {}).get("campaign") == plan.campaign
    ]
    if not needed:
        return None
    details = needed[-1].details or {}
    record = run.ledger.process(str(details.get("review_key") or business_key(model, asset.id, asset.version)))
    if record is not None and record.outcome == "approved":
        return None
    outcome = record.outcome if record is not None and record.outcome else "not signed off"
    return f"client usage review ({model}): {outcome}; not released"


def target_map(run: PipelineRun, plan: ReleasePlan, settings: CampaignReleaseSettings) -> TargetMap:
    """The kit reference, and the Trading Grid communities (with their authorized partners)."""
    communities: dict[str, str] = {}
    partners: dict[str, list[str]] = {}
    if "trading_grid" in plan.targets:
        grid = run.hook("trading_grid")
        entitled = {e.get("community"): list(e.get("partners") or []) for e in grid.entitlements()}
        by_region = {c.region: c.id for c in grid.communities() if c.region and entitled.get(c.id)}
        # a launch kit goes only to a community whose entitlement authorizes partners (OTG-5)
        communities = {r: by_region[r] for r in plan.regions if r in by_region}
        partners = {c: entitled[c] for c in communities.values()}
    return TargetMap(
        kit=settings.kit_ref.format(campaign=plan.campaign),
        communities=communities,
        partners=partners,
    )


def gate(run: PipelineRun, settings: CampaignReleaseSettings, *, batch_size: int = 50) -> list[dict[str, Any]]:
    """Decide every approved asset for every target; record clearances and refusals with reasons.

    Returns the delivery work: one item per target system and batch of ``[campaign, asset]``.
    """
    work: dict[str, list[list[str]]] = {system: [] for system in TARGETS}
    for campaign, plan in plans_of(run).items():
        targets = target_map(run, plan, settings)
        if "trading_grid" in plan.targets:
            for region in (r for r in plan.regions if r not in targets.communities):
                run.record(
                    f"campaign:{campaign}",
                    "trading_grid",
                    "no_community",
                    f"no Trading Grid community with authorized partners for {region}: no launch kit there",
                )
        for asset in campaign_assets(run, campaign):
            if asset.approval_status is not ApprovalStatus.APPROVED:
                status = asset.approval_status.value
                run.record(asset.id, "approval", REFUSED, f"not approved ({status}): not released", campaign=campaign)
                continue
            refusal = _usage_review_refusal(run, plan, asset, settings)
            if refusal:
                run.record(asset.id, "usage_review", REFUSED, refusal, campaign=campaign)
                continue
            if settings.deliverables.is_deliverable(asset):
                if "vip" in plan.targets and gate_deliverable(run, plan, asset, settings):
                    work["vip"].append([campaign, asset.id])
                continue
            usage = usage_rights(run, asset)
            license_ref = asset.license_purchase_transaction_uuid or ""
            expires = rights.usable_until(usage) if usage is not None else None
            systems: set[str] = set()
            for clearance in decide(asset, usage, plan, targets, settings):
                common = {
                    "campaign": campaign,
                    "license": license_ref,
                    "expires": expires.date().isoformat() if expires else "",
                    "asset_version": asset.version,
                }
                for region, reason in clearance.refused.items():
                    run.record(asset.id, clearance.target, REFUSED, f"{region}: {reason}", region=region, **common)
                if clearance.allowed:
                    run.record(
                        asset.id,
                        clearance.target,
                        CLEARED,
                        f"cleared for {', '.join(clearance.regions)}",
                        regions=list(clearance.regions),
                        **common,
                    )
                    systems.add(clearance.system)
            for system in systems:
                work[system].append([campaign, asset.id])
    return [{"system": system, "batch": batch} for system in TARGETS for batch in batches_of(work[system], batch_size)]


# =========================================================================== containers


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def ensure_containers(
    run: PipelineRun, system: str, plans: dict[str, ReleasePlan], settings: CampaignReleaseSettings
) -> Counter[str]:
    """The container a target's items go into exists: the launch kit of each Trading Grid
    community (VIP's catalog items are VIP's own master data: nothing to create there). The
    deliver tasks of that target do it themselves (once, through the ledger; parallel batches
    send the same PUT), so a target that is down fails only its own deliveries, not the others'."""
    counts: Counter[str] = Counter()
    for plan in plans.values():
        if system not in plan.targets:
            continue
        if system == "trading_grid":
            targets = target_map(run, plan, settings)
            missing = [c for c in targets.communities.values() if not _kit_published(run, plan, c)]
            counts.update(_put_kits(run, plan, targets, missing))
    return counts


def _kit_published(run: PipelineRun, plan: ReleasePlan, community: str) -> bool:
    target = f"trading_grid_kit:{community}"
    return any(
        d.target == target and d.status == "delivered"
        for d in run.ledger.deliveries(pipeline=run.dag_id, asset_id=f"campaign:{plan.campaign}", target_prefix=target)
    )


def _kit_body(run: PipelineRun, plan: ReleasePlan, community: str, kit: str) -> tuple[str, str, list[str]]:
    """The launch kit's text and the assets delivered into it so far (from the ledger)."""
    target = f"trading_grid:{community}"
    delivered = sorted(
        d.asset_id
        for d in run.ledger.deliveries(pipeline=run.dag_id, target_prefix=target)
        if d.target == target and d.status == "delivered" and d.remote_id == kit
    )
    title = f"Launch kit: {plan.name or plan.campaign}"
    body = (
        f"Campaign {plan.campaign} launches on {plan.release_date.date().isoformat()}. "
        f"The kit holds {len(delivered)} approved, rights-cleared asset(s) for your region; "
        "use them only as their usage notes say."
    )
    return title, body, delivered


def _put_kits(
    run: PipelineRun, plan: ReleasePlan, targets: TargetMap, communities: list[str] | None = None
) -> Counter[str]:
    grid = run.hook("trading_grid")
    counts: Counter[str] = Counter()
    for community in targets.communities.values() if communities is None else communities:
        title, body, delivered = _kit_body(run, plan, community, targets.kit)
        partners = targets.partners.get(community, [])
        payload = {"title": title, "body": body, "asset_ids": delivered, "partners": partners}

        def send(_plan: Any, community: str = community, payload: dict[str, Any] = payload) -> str:
            return grid.put_post(community, targets.kit, kind="launch_kit", **payload).ref

        done = run.deliver_once(f"campaign:{plan.campaign}", _digest(payload), f"trading_grid_kit:{community}", send)
        counts[f"kit_{done.action.value}"] += 1
    return counts


def finalize(run: PipelineRun, settings: CampaignReleaseSettings) -> dict[str, int]:
    """Bring each launch kit's list of assets up to what was delivered (once per change).

    Only kits that a delivery opened are touched: a community that received nothing — the
    run failed before delivering, or nothing of the campaign cleared the gate for its region —
    gets no post at all, never an empty kit."""
    counts: Counter[str] = Counter()
    for plan in plans_of(run).values():
        if "trading_grid" in plan.targets:
            targets = target_map(run, plan, settings)
            opened = [c for c in targets.communities.values() if _kit_published(run, plan, c)]
            counts["kit_not_opened"] += len(targets.communities) - len(opened)
            counts.update(_put_kits(run, plan, targets, opened))
    return dict(counts)


# =========================================================================== deliveries


def _cleared(run: PipelineRun, system: str, batch: list[list[str]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """This run's clearances of a batch on one target system: (campaign, asset) -> [{target, regions, …}]."""
    cleared: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, entries in _decisions(run, batch, CLEARED).items():
        by_target = {str(d.get("target", "")): d for d in entries if str(d.get("target", "")).startswith(f"{system}:")}
        if by_target:
            cleared[key] = list(by_target.values())
    return cleared


def deliver(run: PipelineRun, system: str, batch: list[list[str]], settings: CampaignReleaseSettings) -> dict[str, int]:
    """Deliver one batch of cleared assets to one target system, each effect exactly once."""
    counts: Counter[str] = Counter()
    cleared = _cleared(run, system, batch)
    plans = plans_of(run, (campaign for campaign, _ in batch))
    smintio = run.hook("smintio")
    if not run.dry_run and any(cleared.values()):
        counts.update(ensure_containers(run, system, plans, settings))
    parties = _Parties(run)
    with tempfile.TemporaryDirectory(prefix="contentops-release-") as scratch:
        for campaign, asset_id in batch:
            plan = plans.get(campaign)
            clearances = cleared.get((campaign, asset_id), [])
            if plan is None or not clearances:
                continue
            if _all_delivered(run, asset_id, clearances):
                counts[f"{system}_skip"] += len(clearances)  # a re-run: nothing to fetch or send
                continue
            asset = smintio.get_asset(asset_id)
            if asset.approval_status is not ApprovalStatus.APPROVED:
                run.record(asset_id, system, REFUSED, f"asset became {asset.approval_status.value} before delivery")
                continue
            usage = usage_rights(run, asset)
            fetched = _Fetched(run, asset, Path(scratch))
            for clearance in clearances:
                target = str(clearance["target"])
                regions = list(clearance.get("regions") or [])
                if system == "vip" and settings.deliverables.is_deliverable(asset):
                    audience = parties.of(regions, settings.deliverables.recipient_kinds)
                    send = _deliverable_sender(run, plan, asset, regions, target, fetched, settings, audience)
                elif system == "vip":
                    audience = parties.of(regions, settings.vip.audience)
                    send = _vip_sender(run, plan, asset, usage, regions, target, fetched, settings, audience)
                elif system == "trading_grid":
                    send = _kit_sender(run, plan, asset, target, fetched, settings)
                else:
                    earlier = _older_exstream_image(run, asset, target)
                    if earlier is not None:
                        metadata = _exstream_metadata(plan, asset, usage, regions, settings)
                        reviewed = exstream_template_sync.replace_for_review(run, asset, earlier, metadata=metadata)
                        counts.update({f"exstream_{key}": n for key, n in reviewed.items()})
                        continue
                    send = _exstream_sender(run, plan, asset, usage, regions, target, fetched, settings)
                try:
                    done = run.deliver_once(
                        asset.id, asset.version, target, send, license_ref=asset.license_purchase_transaction_uuid
                    )
                except NotFoundError as exc:
                    if system != "vip":
                        raise
                    # VIP's item catalog has no such item (the settings name one VIP does not sell)
                    run.record(asset.id, target, REFUSED, f"not in VIP's item catalog: {exc}", campaign=campaign)
                    counts["vip_no_item"] += 1
                    continue
                counts[f"{system}_{done.action.value}"] += 1
                if done.action.value != "skip" and not run.dry_run:
                    run.record(
                        asset.id,
                        target,
                        "delivered" if done.action.value == "create" else "updated",
                        f"version {asset.version}",
                        detail=done.remote_id or "",
                        license=asset.license_purchase_transaction_uuid or "",
                        campaign=campaign,
                    )
            fetched.discard()
    return dict(counts)


def _all_delivered(run: PipelineRun, asset_id: str, clearances: list[dict[str, Any]]) -> bool:
    """Does every target already hold the version the gate saw? (Then the asset is not even fetched.)"""
    version = clearances[0].get("asset_version")
    return version is not None and all(
        run.ledger.plan(run.dag_id, asset_id, version, str(c["target"])).action is Action.SKIP for c in clearances
    )


class _Fetched:
    """The asset's file, streamed from Smint.io to a scratch file once per task, on first use."""

    def __init__(self, run: PipelineRun, asset: Asset, scratch: Path) -> None:
        self.run = run
        self.asset = asset
        self.path = scratch / f"{hashlib.sha256(asset.id.encode()).hexdigest()[:16]}-v{asset.version}"
        self.binary = asset.binaries[0] if asset.binaries else None

    @property
    def content_type(self) -> str:
        return (self.binary.content_type if self.binary else None) or self.asset.content_type or "image/png"

    @property
    def file_name(self) -> str:
        return (self.binary.name if self.binary else None) or f"{self.asset.id}.png"

    def get(self) -> Path:
        if self.binary is None:
            raise ValueError(f"asset {self.asset.id} has no file to deliver")
        if not self.path.exists():
            self.run.hook("smintio").download_asset_binary(self.asset.id, self.binary.id, self.path)
        return self.path

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def license_summary(usage: UsageRights | None, channel: str | None, regions: list[str]) -> str:
    """One line a VIP user reads next to the media: provider, license, where, how, until when."""
    if usage is None:
        return "no license on record"
    until = rights.usable_until(usage)
    return (
        f"{usage.provider or 'licensed'} license {usage.license_purchase_transaction_uuid}: "
        f"{channel or 'any channel'} in {', '.join(regions)}; "
        + (f"valid until {until.date().isoformat()}" if until else "no end date")
    )


class _Parties:
    """VIP's retailer data, read once per task and region: who media is available to."""

    def __init__(self, run: PipelineRun) -> None:
        self.run = run
        self.by_region: dict[str, list[Any]] = {}

    def of(self, regions: Iterable[str], kinds: Iterable[str]) -> list[str]:
        """The active parties of ``kinds`` in ``regions`` (ids, sorted)."""
        wanted = set(kinds)
        found: set[str] = set()
        for region in regions:
            if region not in self.by_region:
                self.by_region[region] = list(self.run.hook("vip").iter_parties(region=region))
            found.update(p.id for p in self.by_region[region] if p.active and p.kind in wanted)
        return sorted(found)


def _deliverable_sender(
    run: PipelineRun,
    plan: ReleasePlan,
    asset: Asset,
    regions: list[str],
    target: str,
    fetched: _Fetched,
    settings: CampaignReleaseSettings,
    audience: list[str],
) -> Any:
    """An agency's final deliverable as VIP media: its masters' rights, the agency named on it."""
    smintio = run.hook("smintio")
    masters = settings.deliverables.masters_of(asset)
    usages = [u for m in masters if (u := usage_rights(run, smintio.get_asset(m))) is not None]
    ends = [e for u in usages if (e := rights.usable_until(u)) is not None]
    return _vip_sender(
        run,
        plan,
        asset,
        usages[0] if usages else None,
        regions,
        target,
        fetched,
        settings,
        audience,
        channel=settings.deliverables.channel,
        until=min(ends) if ends else None,
        agency=settings.deliverables.agency_of(asset),
        derived_from=masters,
    )


def _vip_sender(
    run: PipelineRun,
    plan: ReleasePlan,
    asset: Asset,
    usage: UsageRights | None,
    regions: list[str],
    target: str,
    fetched: _Fetched,
    settings: CampaignReleaseSettings,
    audience: list[str],
    *,
    channel: str | None = None,
    until: datetime | None = None,
    agency: str | None = None,
    derived_from: list[str] | None = None,
) -> Any:
    from contentops.models.vip import UsageControls

    vip = run.hook("vip")
    item = target.removeprefix("vip:")
    channel = channel or settings.channels.get("vip")
    if until is None:
        until = rights.usable_until(usage) if usage is not None else None
    extra: dict[str, Any] = {"agency": agency, "derived_from": derived_from} if agency else {}
    tags = sorted({f"campaign:{plan.campaign}", *(t for t in asset.tags if t.startswith("campaign:"))})

    def send(_plan: Any) -> str:
        vip.put_media(
            item,
            asset.id,
            asset_id=asset.id,
            version=asset.version,
            file_name=fetched.file_name,
            content_type=fetched.content_type,
            usage_controls=UsageControls(regions=regions, channels=[channel or "any"], valid_until=until),
            available_to=audience,
            approval_status="approved" if set(regions) >= set(plan.regions) else "restricted",
            campaign_tags=tags,
            license_summary=license_summary(usage, channel, regions),
            **extra,
        )
        vip.upload_media_content(item, asset.id, fetched.get(), fetched.content_type)
        return asset.id

    return send


def _kit_sender(
    run: PipelineRun, plan: ReleasePlan, asset: Asset, target: str, fetched: _Fetched, settings: CampaignReleaseSettings
) -> Any:
    grid = run.hook("trading_grid")
    community = target.removeprefix("trading_grid:")
    kit = settings.kit_ref.format(campaign=plan.campaign)

    def send(_plan: Any) -> str:
        grid.put_attachment(
            community, kit, asset.id, fetched.get(), name=fetched.file_name, content_type=fetched.content_type
        )
        return kit

    return send


def _older_exstream_image(run: PipelineRun, asset: Asset, target: str) -> DeliveryRecord | None:
    """The ledger's slot when Exstream holds an older version of the asset (else None)."""
    if run.dry_run:
        return None
    for slot in run.ledger.deliveries(asset_id=asset.id, pipeline=run.dag_id, target_prefix=target):
        if slot.target == target and slot.remote_id and exstream_template_sync.is_outdated(slot, asset):
            return slot
    return None


def _exstream_metadata(
    plan: ReleasePlan,
    asset: Asset,
    usage: UsageRights | None,
    regions: list[str],
    settings: CampaignReleaseSettings,
) -> dict[str, Any]:
    """The rights metadata on an Exstream image: what templates select by, and until when."""
    until = rights.usable_until(usage) if usage is not None else None
    return {
        "source_asset": asset.id,
        "asset_version": asset.version,
        "campaign": plan.campaign,
        "segments": list(plan.segments),
        "regions": regions,
        "valid_until": until.isoformat() if until else None,
        "license": asset.license_purchase_transaction_uuid,
        "channel": settings.channels.get("exstream"),
        "categories": list(asset.categories),
        "compliance_status": asset.compliance_status.value if asset.compliance_status else None,
        "rights_status": "cleared",
    }


def _exstream_sender(
    run: PipelineRun,
    plan: ReleasePlan,
    asset: Asset,
    usage: UsageRights | None,
    regions: list[str],
    target: str,
    fetched: _Fetched,
    settings: CampaignReleaseSettings,
) -> Any:
    exstream = run.hook("exstream")
    domain = target.removeprefix("exstream:")
    metadata = _exstream_metadata(plan, asset, usage, regions, settings)

    def send(delivery: Any) -> str:
        comment = f"Campaign {plan.campaign}: {asset.id} v{asset.version}, rights cleared"
        if delivery.remote_id:
            resource = exstream.replace_content(
                domain, delivery.remote_id, fetched.get(), name=fetched.file_name, content_type=fetched.content_type
            )
        else:
            resource = exstream.upload_image(
                domain,
                fetched.get(),
                name=f"{asset.id}.png",  # the upload's identity: a retry finds it by this name
                content_type=fetched.content_type,
                idempotency_key=delivery.key,
                resume=delivery.resumed,
            )
        exstream.put_rights_metadata(domain, resource.id, metadata)
        if resource.state == "DRAFT":
            resource = exstream.set_state(domain, resource.id, "REVIEW", comment)
        if resource.state == "REVIEW":
            exstream.set_state(domain, resource.id, "APPROVED", comment)
        return resource.id

    return send
