"""Deliver: one batch of cleared assets to one target system, each effect exactly once.

The deliver task is mapped per target system and batch (the gate's work). Which system does
what is its :class:`~contentops.pipelines.campaign.delivery.TargetDelivery` class; this module
reads the gate's clearances, fetches each asset once and hands it to that class per target; the
asset's file comes from the run's staging area (:mod:`~contentops.pipelines.campaign.staging`),
read from Smint.io once per asset version for every system's tasks together.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from contentops.ledger import Action
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines.campaign.delivery import Release, TargetDelivery
from contentops.pipelines.campaign.exstream import ExstreamDelivery
from contentops.pipelines.campaign.plan import CLEARED, REFUSED, ReleasePlan, plans_of, run_decisions, usage_rights
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.campaign.staging import StagedFile, asset_snapshot
from contentops.pipelines.campaign.trading_grid import TradingGridDelivery
from contentops.pipelines.campaign.vip import VipDelivery
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target, TargetSystem

#: the delivery class of each target system a campaign is released to
DELIVERIES: dict[str, type[TargetDelivery]] = {
    cls.system.value: cls for cls in (VipDelivery, TradingGridDelivery, ExstreamDelivery)
}


def delivery_for(system: str, run: PipelineRun, settings: CampaignReleaseSettings) -> TargetDelivery:
    """The delivery of ``system`` for this task (a system nobody delivers to is a programming error)."""
    try:
        return DELIVERIES[system](run, settings)
    except KeyError:
        raise ValueError(f"no campaign delivery to {system!r}; known: {', '.join(DELIVERIES)}") from None


def ensure_containers(
    run: PipelineRun, system: str, plans: dict[str, ReleasePlan], settings: CampaignReleaseSettings
) -> Counter[str]:
    """The containers a target's items go into exist: the launch kit of each Trading Grid
    community (VIP's catalog items are VIP's own master data: nothing to create there). The
    deliver tasks of that target do it themselves, so a target that is down fails only its own
    deliveries, not the others'."""
    return delivery_for(system, run, settings).ensure_containers(plans)


def _cleared(
    system: str, decided: dict[tuple[str, str], list[dict[str, Any]]]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """This run's clearances of a batch on one target system: (campaign, asset) -> [{target, regions, …}]."""
    prefix = TargetSystem(system).prefix
    cleared: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, entries in decided.items():
        by_target = {str(d.get("target", "")): d for d in entries if str(d.get("target", "")).startswith(prefix)}
        if by_target:
            cleared[key] = list(by_target.values())
    return cleared


def _all_delivered(run: PipelineRun, asset_id: str, clearances: list[dict[str, Any]]) -> bool:
    """Does every target already hold the version the gate saw? (Then the asset is not even fetched.)"""
    version = clearances[0].get("asset_version") if clearances else None
    return version is not None and all(
        run.ledger.plan(run.dag_id, asset_id, version, str(c["target"])).action is Action.SKIP for c in clearances
    )


def _held_everywhere(run: PipelineRun, asset: Asset, clearances: list[dict[str, Any]]) -> bool:
    """Does every target the gate cleared the asset for — on any system — hold this version? Then
    no deliver task of the run needs its staged file any more."""
    return bool(clearances) and all(
        run.ledger.plan(run.dag_id, asset.id, asset.version, str(c.get("target", ""))).action is Action.SKIP
        for c in clearances
    )


def deliver(run: PipelineRun, system: str, batch: list[list[str]], settings: CampaignReleaseSettings) -> dict[str, int]:
    """Deliver one batch of cleared assets to one target system, each effect exactly once."""
    target_delivery = delivery_for(system, run, settings)
    counts: Counter[str] = Counter()
    decided = run_decisions(run, batch, CLEARED)  # every system's clearances: who else needs the file
    cleared = _cleared(system, decided)
    plans = plans_of(run, (campaign for campaign, _ in batch))
    if not run.dry_run and any(cleared.values()):
        counts.update(target_delivery.ensure_containers(plans))
    for campaign, asset_id in batch:
        plan = plans.get(campaign)
        clearances = cleared.get((campaign, asset_id), [])
        if plan is None or not clearances:
            continue
        if _all_delivered(run, asset_id, clearances):
            counts[f"{system}_skip"] += len(clearances)  # a re-run: nothing to fetch or send
            continue
        asset = asset_snapshot(run, asset_id)  # one read per run: every system sends the same version
        if asset.approval_status is not ApprovalStatus.APPROVED:
            reason = f"asset became {asset.approval_status.value} before delivery"
            run.record(asset_id, Target(system), REFUSED, reason)
            continue
        # the file is staged once per run and asset version, whichever system's task needs it first
        release = Release(plan, asset, usage_rights(run, asset), StagedFile(run, asset))
        for clearance in clearances:
            target = Target.parse(str(clearance["target"]))
            counts.update(target_delivery.deliver(release, target, list(clearance.get("regions") or [])))
        if not run.dry_run and _held_everywhere(run, asset, decided[(campaign, asset_id)]):
            release.fetched.discard()
    return dict(counts)
