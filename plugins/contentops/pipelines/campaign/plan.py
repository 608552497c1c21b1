"""The campaign release's plan: which campaigns this run releases, where, for which date.

A run without a campaign of its own (every scheduled run) selects by state, not by its window
alone: every campaign releasing within ``lead_days`` after the window's end that the ledger does
not hold as fully released yet goes out *ahead* of its date, under embargo until then (each
partner carries the embargo as it can: VIP's availability date, the Trading Grid kit's embargo,
Exstream's ``valid_from`` with the image kept out of APPROVED); a campaign whose date has passed
and that was never fully released is caught up, reported as late. A skipped or failed interval
therefore loses nothing. Once a release has been delivered everywhere the gate allowed,
:func:`mark_released` (called by :func:`~contentops.pipelines.campaign.finish.finalize`) records it
(``released`` under the campaign's pseudo asset) and later runs leave it alone.

The plan is written to the run's audit trail (under the pseudo asset ``campaign:<id>``); every
later step reads it from there, so XComs stay small. The helpers every stage shares (the run's
decisions about a batch, the license of an asset, batching) live here too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from contentops.hooks.errors import NotFoundError
from contentops.ledger import Action
from contentops.models.domain import UsageRights
from contentops.models.smintio import ApprovalStatus, Asset, Campaign
from contentops.pipelines.campaign.settings import load_release_settings
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
#: recorded under the campaign's pseudo asset once every cleared delivery of a release is done
RELEASED = "released"
#: recorded under the campaign's pseudo asset by a run that found nothing left to do (nothing_due)
NOTHING_DUE = "nothing_due"


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
    #: delivered ahead of its date: partners hold the content but may not use it before this moment
    embargo_until: datetime | None = None
    #: selected after its release date had passed without a full release (caught up)
    late: bool = False

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
    lead_days: int | None = None,
) -> dict[str, Any]:
    """Decide which campaigns this run releases and how; returns their ids and counts.

    A manual run releases the campaign of the form. A scheduled run (or a manual one without a
    campaign) selects by state (:func:`due_campaigns`): what releases within ``lead_days`` after
    the window's end (default: the settings' ``lead_days``) and is not fully released yet goes
    ahead under embargo; what is overdue and was never released is caught up, marked late.
    Regions and release date default to the campaign's own; the rights are decided for the
    release date, or for the window's end when the release is late (the use starts when the
    content arrives).
    """
    smintio = run.hook("smintio")
    by_date = not campaign or scheduled
    targets = [t for t in TARGETS if t in (targets or TARGETS)]
    chosen: list[Campaign] = []
    if not by_date:
        try:
            chosen.append(smintio.get_campaign(str(campaign)))
        except NotFoundError as missing:  # a typo must not release an empty kit to real partners
            raise NotFoundError(f"campaign {campaign!r} is not in Smint.io", system="smintio", status=404) from missing
    else:
        lead = load_release_settings().lead_days if lead_days is None else lead_days
        chosen.extend(due_campaigns(run, lead_days=lead, targets=targets))
    plans: list[str] = []
    for item in chosen:
        when = _parse_date(release_date) if release_date and not by_date else None
        when = when or item.release_date or run.window.end
        wanted = [r for r in (regions or item.regions or ["emea"]) if r in REGIONS]
        plan = ReleasePlan(
            campaign=item.id,
            name=item.name,
            release_date=when,
            on_date=max(when, run.window.end),
            targets=tuple(targets),
            regions=tuple(dict.fromkeys(wanted)),
            exstream_domains=tuple(dict.fromkeys(exstream_domains or ["retail"])),
            segments=tuple(item.segments),
            client=item.client,
            embargo_until=when if by_date and when > run.window.end else None,
            late=by_date and when < run.window.end,
        )
        run.record(
            campaign_subject(item.id),
            TargetSystem.CAMPAIGN,
            PLANNED,
            _describe_plan(plan),
            plan=plan.details(),
            late=plan.late,
        )
        plans.append(item.id)
    return {"campaigns": plans, "count": len(plans)}


def due_campaigns(run: PipelineRun, *, lead_days: int, targets: Iterable[str]) -> list[Campaign]:
    """The campaigns a run selecting by date releases: due within ``lead_days`` after its window's
    end, or overdue, and not yet fully released to ``targets`` (the ledger's ``released`` entries).

    Selection is by state, not by the window alone, so an interval that was skipped or failed
    loses nothing: what it should have released is still due (or overdue) for the next run.
    """
    horizon = run.window.end + timedelta(days=max(0, lead_days))
    due: list[Campaign] = []
    for item in run.hook("smintio").iter_campaigns(release_to=horizon):
        if item.release_date is None or item.release_date >= horizon:
            continue
        if released(run, item.id, item.release_date, targets):
            continue
        due.append(item)
    return sorted(due, key=lambda c: (c.release_date or run.window.end, c.id))


def released(run: PipelineRun, campaign: str, release_date: datetime, targets: Iterable[str]) -> bool:
    """Does the ledger hold a full release of the campaign for this release date to every target?

    A release counts only for the date it was made for: a campaign moved to another date is
    released again (each delivery still once, by the ledger's keys)."""
    wanted = set(targets)
    for entry in run.ledger.audit_trail(subject=campaign_subject(campaign), pipeline=run.dag_id):
        details = entry.details or {}
        if entry.action != RELEASED or details.get("release_date") != release_date.isoformat():
            continue
        wanted -= set(details.get("targets") or [])
        if not wanted:
            return True
    return False


#: asset states that need nothing more from a release (never going out, by their own state)
_SETTLED = {ApprovalStatus.REJECTED, ApprovalStatus.RETIRED}


def mark_released(run: PipelineRun, plan: ReleasePlan, assets: Iterable[Asset]) -> bool:
    """Record the campaign as fully released when nothing of this release is left to do.

    Fully released means: every asset of the campaign is settled — rejected or retired, or
    approved and decided by this run's gate, each target it was cleared for holding that version
    in the ledger (or the delivery refused it with a reason). An asset still waiting for its
    approval, or a delivery that failed, keeps the campaign due, so the next run selecting by
    date picks it up again (each delivery still once). Nothing is recorded on a dry run.
    """
    if run.dry_run:
        return False
    pairs: list[list[str]] = []
    for asset in assets:
        if asset.approval_status in _SETTLED:
            continue
        if asset.approval_status is not ApprovalStatus.APPROVED:
            return False  # its approval is still open: not released yet
        pairs.append([plan.campaign, asset.id])
    decided = _run_decisions_all(run, (CLEARED, REFUSED))  # one read, not two per asset
    cleared, refused = decided[CLEARED], decided[REFUSED]
    for key in (tuple(pair) for pair in pairs):
        if key not in cleared and key not in refused:
            return False  # the gate never saw it (it did not run, or failed)
        turned_down = {str(d.get("target")) for d in refused.get(key, [])}
        for clearance in cleared.get(key, []):
            target, version = str(clearance.get("target")), clearance.get("asset_version")
            if target in turned_down:
                continue
            if version is None or run.ledger.plan(run.dag_id, key[1], version, target).action is not Action.SKIP:
                return False
    run.record(
        campaign_subject(plan.campaign),
        TargetSystem.CAMPAIGN,
        RELEASED,
        f"released to {', '.join(plan.targets)} for {plan.release_date.date().isoformat()}"
        + (" (late)" if plan.late else ""),
        release_date=plan.release_date.isoformat(),
        targets=list(plan.targets),
        late=plan.late,
    )
    return True


def record_nothing_due(run: PipelineRun, campaign: str, counts: dict[str, int]) -> None:
    """Say in the run's audit trail (and so its report) that the campaign needed nothing this run."""
    held, refused, settled = counts.get("held", 0), counts.get("refused", 0), counts.get("settled", 0)
    run.record(
        campaign_subject(campaign),
        TargetSystem.CAMPAIGN,
        NOTHING_DUE,
        f"nothing due: released; of {counts.get('assets', 0)} asset(s) {held} held by every target they are "
        f"cleared for, {refused} cleared for none, {settled} rejected or retired; no approval, kit or embargo "
        "pending: collect, gate, deliveries and finalize skipped",
        **counts,
    )


def by_release_date(run_type: Any) -> bool:
    """Scheduled runs, backfills and runs an Asset started (an approval applied by
    ``workflow_outcomes``) release the campaigns due by state, whatever the form says."""
    return str(getattr(run_type, "value", run_type)) in ("scheduled", "backfill", "asset_triggered")


def _parse_date(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _describe_plan(plan: ReleasePlan) -> str:
    timing = ""
    if plan.embargo_until is not None:
        timing = f" ahead, under embargo until {plan.embargo_until.isoformat()}"
    elif plan.late:
        timing = " late (release date passed without a full release: caught up)"
    return (
        f"release {plan.release_date.date().isoformat()} to {', '.join(plan.targets)} "
        f"in {', '.join(plan.regions) or 'no region'}" + (f" for client {plan.client}" if plan.client else "") + timing
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


Decisions = dict[tuple[str, str], list[dict[str, Any]]]


def _run_decisions_all(run: PipelineRun, actions: Iterable[str]) -> dict[str, Decisions]:
    """:func:`run_decisions` for every asset of the run at once: per action, (campaign, asset) ->
    the entries' details, from one read of the run's audit trail."""
    found: dict[str, Decisions] = {action: {} for action in actions}
    for entry in run.ledger.audit_trail(run_id=run.run_id, pipeline=run.dag_id):
        if entry.action in found:
            details = entry.details or {}
            found[entry.action].setdefault((str(details.get("campaign")), entry.subject), []).append(details)
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
