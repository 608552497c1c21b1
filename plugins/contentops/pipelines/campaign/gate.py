"""The rights gate: every approved asset, for each target's channel, each region and the release date.

:func:`decide` and :func:`decide_deliverable` are pure (the same inputs, the same answer);
:func:`gate` and :func:`gate_deliverable` record every clearance and every refusal with its
reasons and hand the deliver tasks their work, batched per target system. Regulated Exstream
domains also need the compliance criteria (EXS-5); agencies' final deliverables (VIP-7) are
decided on every master's license as a derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contentops import rights
from contentops.hooks.errors import NotFoundError
from contentops.ledger import Action
from contentops.models.domain import IntendedUse, RightsDecision, UsageRights
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines.campaign.collect import campaign_assets
from contentops.pipelines.campaign.kits import TargetMap, target_map
from contentops.pipelines.campaign.plan import (
    CLEARED,
    REFUSED,
    TARGETS,
    USAGE_REVIEW_NEEDED,
    ReleasePlan,
    campaign_subject,
    plans_of,
    usage_rights,
)
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key
from contentops.targets import Target, TargetSystem


@dataclass(frozen=True)
class Clearance:
    """What the gate decided for one asset on one target (a VIP catalog item, a community, a domain)."""

    target: Target  # vip:<item>, trading_grid:<community>, exstream:<domain>
    regions: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)  # region (or "compliance") -> reasons

    @property
    def system(self) -> str:
        return self.target.system

    @property
    def allowed(self) -> bool:
        return bool(self.regions) and "compliance" not in self.refused


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
        per_target = _PER_TARGET.get(system)
        if per_target is not None:
            clearances.extend(per_target(asset, usage, plan, targets, settings, allowed, refused))
    return clearances


def _catalog_items(
    asset: Asset,
    usage: UsageRights | None,
    plan: ReleasePlan,
    targets: TargetMap,
    settings: CampaignReleaseSettings,
    allowed: tuple[str, ...],
    refused: dict[str, str],
) -> list[Clearance]:
    """VIP: each catalog item the asset shows, for every allowed region (none known: a bare ``vip`` refusal)."""
    items = settings.vip.items_of(asset, plan.campaign)
    if not items:
        return [Clearance(Target(TargetSystem.VIP), (), {"item": no_item(settings)})]
    return [Clearance(TargetSystem.VIP.of(item), allowed, refused) for item in items]


def _communities(
    asset: Asset,
    usage: UsageRights | None,
    plan: ReleasePlan,
    targets: TargetMap,
    settings: CampaignReleaseSettings,
    allowed: tuple[str, ...],
    refused: dict[str, str],
) -> list[Clearance]:
    """Trading Grid: the community of each region that has one, for that region alone."""
    clearances: list[Clearance] = []
    for region in plan.regions:
        community = targets.communities.get(region)
        if community is None:
            continue
        ok = (region,) if region in allowed else ()
        only_here = {k: v for k, v in refused.items() if k == region}
        clearances.append(Clearance(TargetSystem.TRADING_GRID.of(community), ok, only_here))
    return clearances


def _domains(
    asset: Asset,
    usage: UsageRights | None,
    plan: ReleasePlan,
    targets: TargetMap,
    settings: CampaignReleaseSettings,
    allowed: tuple[str, ...],
    refused: dict[str, str],
) -> list[Clearance]:
    """Exstream: each domain of the plan; a regulated one also needs the compliance criteria (EXS-5)."""
    clearances: list[Clearance] = []
    for domain in plan.exstream_domains:
        domain_refused = dict(refused)
        criteria = settings.regulated_domains.get(domain)
        if criteria is not None:
            verdict = rights.meets_compliance(asset, usage, criteria, plan.on_date)
            if not verdict.allowed:
                domain_refused["compliance"] = verdict.summary()
        clearances.append(Clearance(TargetSystem.EXSTREAM.of(domain), allowed, domain_refused))
    return clearances


#: where an asset cleared for a target system goes within it
_PER_TARGET: dict[str, Callable[..., list[Clearance]]] = {
    TargetSystem.VIP: _catalog_items,
    TargetSystem.TRADING_GRID: _communities,
    TargetSystem.EXSTREAM: _domains,
}


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
    return Clearance(TargetSystem.VIP.of(item), tuple(allowed), refused)


def gate_deliverable(run: PipelineRun, plan: ReleasePlan, asset: Asset, settings: CampaignReleaseSettings) -> bool:
    """Decide one final deliverable of an agency on each catalog item it shows; record why it goes
    or not. True = cleared (for at least one region)."""
    deliverables = settings.deliverables
    agency = deliverables.agency_of(asset)
    items = settings.vip.items_of(asset, plan.campaign)
    target = TargetSystem.VIP.of(items[0]) if len(items) == 1 else Target(TargetSystem.VIP)
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


def gate(run: PipelineRun, settings: CampaignReleaseSettings, *, batch_size: int = 50) -> list[dict[str, Any]]:
    """Decide every approved asset for every target; record clearances and refusals with reasons.

    Returns the delivery work: one item per target system and batch of ``[campaign, asset]``.
    The decisions are written a thousand at a time (:meth:`PipelineRun.batched_records`).
    """
    with run.batched_records():
        return _gate(run, settings, batch_size=batch_size)


def _gate(run: PipelineRun, settings: CampaignReleaseSettings, *, batch_size: int) -> list[dict[str, Any]]:
    work: dict[str, list[list[str]]] = {system: [] for system in TARGETS}
    load: dict[str, int] = dict.fromkeys(TARGETS, 0)  # targets to deliver to, per system
    for campaign, plan in plans_of(run).items():
        targets = target_map(run, plan, settings)
        if TargetSystem.TRADING_GRID in plan.targets:
            for region in (r for r in plan.regions if r not in targets.communities):
                run.record(
                    campaign_subject(campaign),
                    TargetSystem.TRADING_GRID,
                    "no_community",
                    f"no Trading Grid community with authorized partners for {region}: no launch kit there",
                )
        for asset in campaign_assets(run, campaign):
            if asset.approval_status is not ApprovalStatus.APPROVED:
                status = asset.approval_status.value
                run.record(
                    asset.id,
                    TargetSystem.APPROVAL,
                    REFUSED,
                    f"not approved ({status}): not released",
                    campaign=campaign,
                )
                continue
            refusal = _usage_review_refusal(run, plan, asset, settings)
            if refusal:
                run.record(asset.id, TargetSystem.USAGE_REVIEW, REFUSED, refusal, campaign=campaign)
                continue
            if settings.deliverables.is_deliverable(asset):
                if TargetSystem.VIP in plan.targets and gate_deliverable(run, plan, asset, settings):
                    work[TargetSystem.VIP].append([campaign, asset.id])
                    load[TargetSystem.VIP] += 1
                continue
            usage = usage_rights(run, asset)
            license_ref = asset.license_purchase_transaction_uuid or ""
            expires = rights.usable_until(usage) if usage is not None else None
            systems: dict[str, list[str]] = {}  # system -> the targets cleared there
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
                    systems.setdefault(clearance.system, []).append(str(clearance.target))
            for system, cleared_targets in systems.items():
                if not held(run, asset, cleared_targets):
                    work[system].append([campaign, asset.id])
                    load[system] += len(cleared_targets)
    return _interleaved(work, load, batch_size)


def held(run: PipelineRun, asset: Asset, targets: list[str]) -> bool:
    """Does every target the asset was just cleared for hold this version already? Then no deliver
    task is mapped for it (a re-run maps only what is left to send; the ledger still decides each
    write in the deliver task)."""
    return all(run.ledger.plan(run.dag_id, asset.id, asset.version, target).action is Action.SKIP for target in targets)


def _interleaved(work: dict[str, list[list[str]]], load: dict[str, int], batch_size: int) -> list[dict[str, Any]]:
    """The mapped deliveries, sized and ordered so the tasks the scheduler runs side by side load
    each partner alike (each partner bound by its own ceiling, none idle while another is the
    bottleneck) and read the same assets' staged files, each fetched from Smint.io once.

    ``batch_size`` assets go to the system whose deliveries cost the fewest partner requests per
    asset (targets per asset x requests per target); a costlier system's batches are smaller in
    proportion (Exstream's four requests against VIP's two: half the assets, twice the tasks).
    The batches are listed by where they start in their system's work, so every stretch of the
    list holds each system's share of the same assets."""
    from contentops.pipelines.campaign.deliver import DELIVERIES

    cost = {
        system: DELIVERIES[system].requests_per_target * max(load[system], 1) / len(work[system])
        for system in TARGETS
        if work[system]
    }
    cheapest = min(cost.values(), default=1.0)
    listed: list[tuple[float, int, dict[str, Any]]] = []
    for order, system in enumerate(TARGETS):
        if not work[system]:
            continue
        size = max(1, round(batch_size * cheapest / cost[system]))
        for start in range(0, len(work[system]), size):
            batch = work[system][start : start + size]
            listed.append((start / len(work[system]), order, {"system": system, "batch": batch}))
    return [item for *_, item in sorted(listed, key=lambda entry: entry[:2])]
