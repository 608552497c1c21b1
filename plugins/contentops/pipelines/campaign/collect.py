"""Collect: a campaign's assets from Smint.io, sorted into the gate's work and approval batches.

Retired and rejected assets are counted and left out; assets not yet approved are batched for
an approval workflow (OWS-1); for an agency client with a usage review model (OWS-7), assets
whose license carries restrictions the client signs off are batched for that review too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from contentops import rights
from contentops.hooks.errors import NotFoundError
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines.campaign.plan import (
    APPROVAL_NEEDED,
    USAGE_REVIEW_NEEDED,
    batches_of,
    digest,
    plans_of,
    usage_rights,
)
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key
from contentops.targets import TargetSystem


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
                        TargetSystem.USAGE_REVIEW,
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
                    TargetSystem.APPROVAL,
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
    return business_key(model, asset_id, digest(sorted(restrictions))[:12])


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
