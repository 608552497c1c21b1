"""The campaign release's plan: which campaigns this run releases, where, for which date.

The plan is written to the run's audit trail (under the pseudo asset ``campaign:<id>``); every
later step reads it from there, so XComs stay small. The helpers every stage shares (the run's
decisions about a batch, the license of an asset, batching) live here too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from contentops.hooks.errors import NotFoundError
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset, Campaign
from contentops.pipelines.rights_first import asset_rights
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem

#: the systems a campaign is released to, in delivery order (the ``system`` of each deliver task)
TARGETS = (TargetSystem.VIP.value, TargetSystem.TRADING_GRID.value, TargetSystem.EXSTREAM.value)
#: Regions a campaign can be released in: VIP's distribution regions (Trading Grid has a
#: community for most of them) and region keys of the rights catalogue at the same time.
REGIONS = ("emea", "dach", "north_america", "apac", "latam", "uk_and_ireland")
PLANNED = "release_planned"
APPROVAL_NEEDED = "approval_needed"
USAGE_REVIEW_NEEDED = "usage_review_needed"
CLEARED = "cleared"
REFUSED = "refused"


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
        run.record(campaign_subject(item.id), TargetSystem.CAMPAIGN, PLANNED, _describe_plan(plan), plan=plan.details())
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
            for entry in run.ledger.audit_trail(subject=campaign_subject(campaign), run_id=run.run_id)
        ]
    plans: dict[str, ReleasePlan] = {}
    for entry in entries:
        if entry.action == PLANNED and entry.details and entry.details.get("plan"):
            plan = ReleasePlan.model_validate(entry.details["plan"])
            plans[plan.campaign] = plan
    return plans


def run_decisions(run: PipelineRun, batch: list[list[str]], action: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
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


def campaign_subject(campaign: str) -> str:
    """The pseudo asset a campaign's own entries are recorded under (never mistaken for an asset)."""
    return str(TargetSystem.CAMPAIGN.of(campaign))


def usage_rights(run: PipelineRun, asset: Asset) -> UsageRights | None:
    """The asset's rights from the ledger's license index (kept current by the license sync);
    ``None`` when no license is known, which the gate refuses (see :mod:`~contentops.pipelines.rights_first`)."""
    return asset_rights(run, asset)


def batches_of(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def digest(payload: Any) -> str:
    """A short, stable fingerprint of a JSON-able payload (a ledger version or business key part)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
