"""The rights gate as one step of its own: these assets, for one target's channel, regions and date.

The campaign release has its gate built into the release (:mod:`contentops.pipelines.campaign.gate`,
per campaign plan and target map). A team composing its own DAG needs the same question answered
for a list of assets and one destination, with the same promises: the license comes from the
ledger's license index (:mod:`~contentops.pipelines.rights_first`, failing closed when none is
known), each region is decided by :func:`contentops.rights.evaluate` as of a fixed date (the run's
window end unless told otherwise, so a backfill reproduces its day), and every clearance and every
refusal is recorded with its reasons in the run's audit trail (and so in its report).

Nothing is written to a partner here; the step hands the cleared asset ids to the delivery steps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contentops import rights
from contentops.hooks.errors import NotFoundError
from contentops.models.domain import IntendedUse, UsageRights
from contentops.models.smintio import ApprovalStatus
from contentops.pipelines.rights_first import asset_license, no_license_reason
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target

#: audit actions of the gate (the same words as the campaign release's gate)
CLEARED = "cleared"
REFUSED = "refused"


@dataclass(frozen=True)
class RegionDecisions:
    """One asset's answer for one channel: the regions allowed, and each refused one's reasons."""

    allowed: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)


def decide_regions(
    usage: UsageRights,
    *,
    on_date: datetime,
    channel: str | None,
    regions: list[str],
    language: str | None = None,
    planned_downloads: int | None = 1,
) -> RegionDecisions:
    """Decide each region for one use (pure: the same inputs, the same answer). No region given
    means the use is checked once, without a region (``"*"`` in the answer)."""
    allowed: list[str] = []
    refused: dict[str, str] = {}
    for region in regions or [None]:
        use = IntendedUse(
            on_date=on_date,
            channel=channel or None,
            region=region,
            language=language or None,
            planned_downloads=planned_downloads,
        )
        decision = rights.evaluate(usage, use)
        key = region or "*"
        if decision.allowed:
            allowed.append(key)
        else:
            refused[key] = decision.summary()
    return RegionDecisions(tuple(allowed), refused)


def gate_assets(
    run: PipelineRun,
    asset_ids: list[str],
    target: Target,
    *,
    channel: str | None,
    regions: list[str],
    on_date: datetime | None = None,
    language: str | None = None,
    planned_downloads: int | None = 1,
    require_approved: bool = True,
) -> dict[str, Any]:
    """Decide each asset for ``target``; record every clearance and refusal with its reasons.

    An asset is cleared when at least one region is allowed (the refused regions are recorded
    all the same). An asset missing from Smint.io, not approved (when ``require_approved``), or
    without a known license is refused with that reason. Returns ``{"cleared": [asset ids],
    "counts": {...}}`` — small, for XCom.
    """
    when = on_date or run.window.end
    smintio = run.hook("smintio")
    counts: Counter[str] = Counter()
    cleared: list[str] = []
    for asset_id in dict.fromkeys(asset_ids):  # each asset once, in the order given
        try:
            asset = smintio.get_asset(asset_id)
        except NotFoundError:
            run.record(asset_id, target, REFUSED, "the asset is not in Smint.io")
            counts["missing"] += 1
            continue
        if require_approved and asset.approval_status is not ApprovalStatus.APPROVED:
            run.record(asset_id, target, REFUSED, f"not approved ({asset.approval_status.value}): not released")
            counts["not_approved"] += 1
            continue
        known = asset_license(run, asset)
        if known is None:
            run.record(asset_id, target, REFUSED, no_license_reason(asset))
            counts["no_license"] += 1
            continue
        expires = rights.usable_until(known.rights)
        common = {
            "license": known.ref,
            "expires": expires.date().isoformat() if expires else "",
            "asset_version": asset.version,
            "channel": channel or "",
        }
        decisions = decide_regions(
            known.rights,
            on_date=when,
            channel=channel,
            regions=regions,
            language=language,
            planned_downloads=planned_downloads,
        )
        for region, reason in decisions.refused.items():
            run.record(asset_id, target, REFUSED, f"{region}: {reason}", region=region, **common)
        if decisions.allowed:
            regions_text = ", ".join(decisions.allowed)
            run.record(
                asset_id, target, CLEARED, f"cleared for {regions_text}", regions=list(decisions.allowed), **common
            )
            cleared.append(asset_id)
            counts["cleared"] += 1
        else:
            counts["refused"] += 1
    return {"cleared": cleared, "counts": dict(counts)}
