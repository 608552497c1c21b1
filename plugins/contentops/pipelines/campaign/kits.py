"""Trading Grid launch kits: one post per authorized community, its asset list kept current.

A launch kit is the container the campaign's attachments go into (OTG-5): only communities
whose entitlement authorizes partners get one. It is opened by the first delivery into it
(:func:`open_kits`, once, through the ledger) and brought up to what was delivered by
:func:`finalize`. Kits are recorded under the pseudo asset ``campaign:<id>`` and a target kind
of their own (``trading_grid_kit:<community>``), so they are never mistaken for a delivered asset.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from contentops.ledger import Action
from contentops.pipelines.campaign.plan import ReleasePlan, campaign_subject, digest, plans_of
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem


@dataclass
class TargetMap:
    """Where each target system's deliveries go for one campaign (VIP's depend on the asset:
    :meth:`VipSettings.items_of`)."""

    kit: str
    communities: dict[str, str]  # region -> community id (only communities that exist)
    partners: dict[str, list[str]]  # community -> authorized partners


def target_map(run: PipelineRun, plan: ReleasePlan, settings: CampaignReleaseSettings) -> TargetMap:
    """The kit reference, and the Trading Grid communities (with their authorized partners)."""
    communities: dict[str, str] = {}
    partners: dict[str, list[str]] = {}
    if TargetSystem.TRADING_GRID in plan.targets:
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


def kit_published(run: PipelineRun, plan: ReleasePlan, community: str) -> bool:
    """Has this run's pipeline already opened the campaign's kit in ``community``?"""
    kit = TargetSystem.TRADING_GRID_KIT.of(community)
    return any(
        kit.matches(d.target) and d.status == "delivered"
        for d in run.ledger.deliveries(
            pipeline=run.dag_id, asset_id=campaign_subject(plan.campaign), target_prefix=kit.prefix
        )
    )


def _kit_body(run: PipelineRun, plan: ReleasePlan, community: str, kit: str) -> tuple[str, str, list[str]]:
    """The launch kit's text and the assets delivered into it so far (from the ledger)."""
    target = TargetSystem.TRADING_GRID.of(community)
    delivered = sorted(
        d.asset_id
        for d in run.ledger.deliveries(pipeline=run.dag_id, target_prefix=target.prefix)
        if target.matches(d.target) and d.status == "delivered" and d.remote_id == kit
    )
    title = f"Launch kit: {plan.name or plan.campaign}"
    body = (
        f"Campaign {plan.campaign} launches on {plan.release_date.date().isoformat()}. "
        f"The kit holds {len(delivered)} approved, rights-cleared asset(s) for your region; "
        "use them only as their usage notes say"
        + (f", and not before {plan.embargo_until.isoformat()} (embargo)." if plan.embargo_until else ".")
    )
    return title, body, delivered


def kit_payload(run: PipelineRun, plan: ReleasePlan, targets: TargetMap, community: str) -> dict[str, Any]:
    """What a community's kit says as the ledger knows it now (its digest is the kit's version)."""
    title, body, delivered = _kit_body(run, plan, community, targets.kit)
    partners = targets.partners.get(community, [])
    payload: dict[str, Any] = {"title": title, "body": body, "asset_ids": delivered, "partners": partners}
    if plan.embargo_until is not None:  # released ahead: partners may not use it before the date
        payload["embargoed_until"] = plan.embargo_until
    return payload


def kits_current(run: PipelineRun, plan: ReleasePlan, targets: TargetMap) -> bool:
    """Does every kit a delivery opened already say what the ledger holds (nothing for
    :func:`finalize` to post)?"""
    for community in targets.communities.values():
        if not kit_published(run, plan, community):
            continue
        version = digest(kit_payload(run, plan, targets, community))
        kit = TargetSystem.TRADING_GRID_KIT.of(community)
        if run.ledger.plan(run.dag_id, campaign_subject(plan.campaign), version, str(kit)).action is not Action.SKIP:
            return False
    return True


def put_kits(
    run: PipelineRun, plan: ReleasePlan, targets: TargetMap, communities: list[str] | None = None
) -> Counter[str]:
    """Post each community's kit as the ledger knows it now (once per content: the payload is the version)."""
    grid = run.hook("trading_grid")
    counts: Counter[str] = Counter()
    for community in targets.communities.values() if communities is None else communities:
        payload = kit_payload(run, plan, targets, community)

        def send(_plan: Any, community: str = community, payload: dict[str, Any] = payload) -> str:
            return grid.put_post(community, targets.kit, kind="launch_kit", **payload).ref

        kit = TargetSystem.TRADING_GRID_KIT.of(community)
        done = run.deliver_once(campaign_subject(plan.campaign), digest(payload), kit, send)
        counts[f"kit_{done.action.value}"] += 1
    return counts


def open_kits(run: PipelineRun, plan: ReleasePlan, settings: CampaignReleaseSettings) -> Counter[str]:
    """Open the kits of the plan's communities that have none yet (parallel batches send the same PUT)."""
    targets = target_map(run, plan, settings)
    missing = [c for c in targets.communities.values() if not kit_published(run, plan, c)]
    return put_kits(run, plan, targets, missing)


def finalize(run: PipelineRun, settings: CampaignReleaseSettings) -> dict[str, int]:
    """Bring each launch kit's list of assets up to what was delivered (once per change).

    Only kits that a delivery opened are touched: a community that received nothing — the
    run failed before delivering, or nothing of the campaign cleared the gate for its region —
    gets no post at all, never an empty kit."""
    counts: Counter[str] = Counter()
    for plan in plans_of(run).values():
        if TargetSystem.TRADING_GRID in plan.targets:
            targets = target_map(run, plan, settings)
            opened = [c for c in targets.communities.values() if kit_published(run, plan, c)]
            counts["kit_not_opened"] += len(targets.communities) - len(opened)
            counts.update(put_kits(run, plan, targets, opened))
    return dict(counts)
