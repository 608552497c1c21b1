"""Delivery compliance: every copy already delivered is decided again, and taken back (or given
back) in its partner — one withdrawal path for every removal source.

For every active delivery the ledger holds (VIP media, Trading Grid launch kits and partner
cases, Exstream images, Consonance title attachments) a run asks
:func:`contentops.rights.copy_standing` whether the copy may stay: the asset must still be
approved in Smint.io (read through the hook) and its current license — from the license index,
through :mod:`contentops.pipelines.rights_first` — must allow the copy's channel in its regions
on the day. What may not stay is changed through the same functions the rights expiry sweep
uses (:mod:`contentops.pipelines.withdrawals`): VIP media withdrawn, or re-restricted to the
regions still allowed; the Trading Grid community told at once and the partner case replied
to; the Exstream image moved out of APPROVED; the title's license terms recorded as ended.

Removal sources: every pipeline that removes an asset (a compliance review's ``removed``, an
Exstream production "retire", a title-refresh retirement, the VIP catalog sync seeing a VIP
withdrawal) retires it in Smint.io, and so does a person by hand; an asset un-approved by hand
is no longer APPROVED there. A narrowed or lapsed license arrives through the license index.
So one re-decision from Smint.io's state and the index covers them all.

Expiry fails closed: a run decides for the end of its day, so on its expiry day an asset is
withdrawn everywhere with no human answer. Each copy taken back is *held* in the ledger; a held
copy whose asset is approved and licensed again (a renewal extended the license) is restored —
VIP media made active again with the new end, the Exstream image back to APPROVED, the
community and case told, the title's terms renewed — once, and its hold released. A copy the
sweep or a person withdrew has no hold and is never restored here; a copy already withdrawn is
not current, so the sweep's later takedown does not withdraw it twice.

Once: a withdrawn slot is not current, so a re-run finds nothing to do; every post, reply and
terms record goes through the ledger's delivery protocol keyed by the decision. Per delivery:
one failing partner write is recorded and the rest go on; the run fails at the end.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from contentops import rights
from contentops.ledger import DeliveryRecord
from contentops.ledger.holds import HoldRecord
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset
from contentops.pipelines import mappings, rights_first, withdrawals
from contentops.pipelines.rights_first import asset_license, no_license_reason
from contentops.pipelines.runtime import PipelineRun
from contentops.rights.standing import CopyStanding
from contentops.targets import RESOURCE_SEPARATOR, Target, TargetSystem

log = logging.getLogger(__name__)

#: the kinds of ledger target that are copies of an asset in a partner
COPY_KINDS: tuple[TargetSystem, ...] = (
    TargetSystem.VIP,
    TargetSystem.TRADING_GRID,
    TargetSystem.TRADING_GRID_CASE,
    TargetSystem.EXSTREAM,
    TargetSystem.CONSONANCE,
)


class ComplianceRunFailed(RuntimeError):
    """Some deliveries could not be brought in line; the others were (see the run report)."""


def decision_day(run: PipelineRun) -> datetime:
    """The moment rights are decided for: the last instant of the run's (UTC) day, so a license
    whose last day is today counts as ended today (expiry fails closed on its expiry day)."""
    return datetime.combine(run.window.end.astimezone(UTC).date(), time.max, tzinfo=UTC)


class Review:
    """One run's re-decision of every copy, with what it read cached (an asset, a license, a
    community's region is read once per run)."""

    def __init__(self, run: PipelineRun, channels: dict[str, str] | None = None) -> None:
        self.run = run
        self.on_date = decision_day(run)
        self.channels = channels if channels is not None else _channels()
        self.counts: Counter[str] = Counter()
        self.failed: list[str] = []
        self._assets: dict[str, Asset | None] = {}
        self._regions: dict[str, str | None] | None = None

    # -- what is read ------------------------------------------------------------------
    def asset(self, asset_id: str) -> Asset | None:
        """The Smint.io asset as it is now (``None`` when Smint.io no longer has it)."""
        if asset_id not in self._assets:
            from contentops.hooks.errors import NotFoundError

            try:
                self._assets[asset_id] = self.run.hook("smintio").get_asset(asset_id)
            except NotFoundError:
                self._assets[asset_id] = None
        return self._assets[asset_id]

    def community_region(self, community: str) -> str | None:
        if self._regions is None:
            self._regions = {c.id: c.region for c in self.run.hook("trading_grid").communities()}
        return self._regions.get(community)

    def copy_regions(self, delivery: DeliveryRecord) -> list[str | None]:
        """The regions a copy is used in, as its partner holds them (``[None]``: it names none)."""
        target = Target.parse(delivery.target)
        if target.system == TargetSystem.VIP:
            media = self.run.hook("vip").get_media(target.key, delivery.remote_id or delivery.asset_id)
            return list(media.usage_controls.regions) or [None]
        if target.system == TargetSystem.TRADING_GRID:
            return [self.community_region(target.key)]
        if target.system == TargetSystem.EXSTREAM:
            resource = self.run.hook("exstream").get_resource(target.key, delivery.remote_id or delivery.asset_id)
            regions_key = mappings.exstream_resources(self.run).key_of("regions") or "regions"
            found = resource.metadata.get(regions_key)
            return [str(r) for r in found] if isinstance(found, list) and found else [None]
        return [None]

    def standing(self, delivery: DeliveryRecord) -> tuple[CopyStanding, str | None, UsageRights | None]:
        """May this copy stay? With the license it was decided on (reference and rights)."""
        asset = self.asset(delivery.asset_id)
        known = asset_license(self.run, asset)
        if known is None and asset is not None and not rights_first.license_ref(asset) and asset.master_asset_id:
            # a localized variant or an agency's deliverable is used under its master's license
            known = asset_license(self.run, self.asset(asset.master_asset_id))
        usage = known.rights if known is not None else None
        system = Target.parse(delivery.target).system
        channel = (
            self.channels.get(system)
            if system in (TargetSystem.VIP, TargetSystem.TRADING_GRID, TargetSystem.EXSTREAM)
            else None
        )
        standing = rights.copy_standing(
            asset,
            usage,
            on_date=self.on_date,
            channel=channel,
            regions=self.copy_regions(delivery) if asset is not None else [None],
            no_license=no_license_reason(asset) if asset is not None else "",
        )
        return standing, (known.ref if known is not None else None), usage

    # -- one copy at a time ------------------------------------------------------------
    def isolated(self, asset_id: str, target: str, step: Callable[[], None]) -> None:
        """Run one copy's step; a failure is recorded and counted, and the next copy goes on."""
        try:
            step()
        except Exception as exc:
            log.exception("Delivery %s of %s could not be brought in line", target, asset_id)
            self.run.record(asset_id, target, "error", f"{type(exc).__name__}: {exc}")
            self.failed.append(f"{asset_id} on {target}")
            self.counts["errors"] += 1

    def review(self, delivery: DeliveryRecord) -> None:
        """One current copy: keep it, re-restrict it or take it back."""
        target = Target.parse(delivery.target)
        if target.system == TargetSystem.VIP and self._withdrawn_in_vip(delivery):
            return
        standing, license_ref, _usage = self.standing(delivery)
        self.counts["copies_reviewed"] += 1
        if standing.outcome == "keep":
            return
        if standing.outcome == "narrow" and target.system != TargetSystem.VIP:
            return  # only VIP media carries regions to narrow; the copy is still allowed somewhere
        self.run.record(
            delivery.asset_id,
            delivery.target,
            f"compliance_{standing.outcome}",
            standing.reason,
            license=license_ref or "",
        )
        self.counts[f"decided_{standing.outcome}"] += 1
        if self.run.dry_run:
            return
        if standing.outcome == "narrow":
            self.counts.update(
                withdrawals.apply_to_vip(
                    self.run,
                    delivery.asset_id,
                    "narrowed",
                    {"regions": list(standing.regions)},
                    withdraw=False,
                    deliveries=[delivery],
                    reason=standing.reason,
                )
            )
            return
        self.run.ledger.hold(
            delivery.pipeline,
            delivery.asset_id,
            delivery.target,
            cause=standing.cause,
            reason=standing.reason,
            license_ref=license_ref,
            run_id=self.run.run_id,
        )
        self.counts.update(self._take_back(delivery, standing, license_ref))

    def _withdrawn_in_vip(self, delivery: DeliveryRecord) -> bool:
        """Media someone withdrew in VIP itself: the ledger is brought in step (no hold: not ours to restore)."""
        target = Target.parse(delivery.target)
        media = self.run.hook("vip").get_media(target.key, delivery.remote_id or delivery.asset_id)
        if media.status != "withdrawn":
            return False
        self.run.record(delivery.asset_id, delivery.target, "withdrawn_in_partner", "the media is withdrawn in VIP")
        if not self.run.dry_run:
            self.run.ledger.withdraw(
                delivery.pipeline, delivery.asset_id, delivery.target, "withdrawn in VIP", run_id=self.run.run_id
            )
        self.counts["withdrawn_in_vip"] += 1
        return True

    def _take_back(self, delivery: DeliveryRecord, standing: CopyStanding, license_ref: str | None) -> Counter[str]:
        """The partner write that takes one copy back, through the sweep's own functions."""
        run, asset_id, outcome = self.run, delivery.asset_id, standing.outcome
        ref = decision_ref(outcome, self.asset(asset_id), license_ref)
        variables = {"why": standing.reason, "license": license_ref}
        target = Target.parse(delivery.target)
        if target.system == TargetSystem.VIP:
            return withdrawals.apply_to_vip(
                run, asset_id, outcome, variables, withdraw=True, deliveries=[delivery], reason=standing.reason
            )
        if target.system == TargetSystem.TRADING_GRID:
            return withdrawals.post_usage_guidance(
                run, asset_id, outcome, variables, ref, communities=[target.key], withdraw=True
            )
        if target.system == TargetSystem.TRADING_GRID_CASE:
            return withdrawals.reply_on_cases(
                run, asset_id, outcome, variables, ref, deliveries=[delivery], withdraw=True
            )
        if target.system == TargetSystem.EXSTREAM:
            return withdrawals.apply_to_exstream(
                run, asset_id, outcome, variables, block=True, deliveries=[delivery], reason=standing.reason
            )
        counts = withdrawals.record_consonance_terms(run, asset_id, outcome, variables, ref, deliveries=[delivery])
        run.ledger.withdraw(delivery.pipeline, asset_id, delivery.target, f"rights {outcome}", run_id=run.run_id)
        return counts

    def restore(self, hold: HoldRecord) -> None:
        """A held copy whose asset is approved and licensed again is given back, once."""
        delivery = next(
            (
                d
                for d in self.run.ledger.deliveries(asset_id=hold.asset_id, pipeline=hold.pipeline)
                if d.target == hold.target
            ),
            None,
        )
        if delivery is None or delivery.status not in ("withdrawn", "delivered"):
            return
        standing, license_ref, usage = self.standing(delivery)
        if not standing.keep:
            return
        self.run.record(
            hold.asset_id,
            hold.target,
            "compliance_restored",
            f"approved and licensed again (held since {hold.held_at:%Y-%m-%d}: {hold.reason})",
            license=license_ref or "",
        )
        self.counts["decided_restored"] += 1
        if self.run.dry_run:
            return
        end = rights.expiry(usage) if usage is not None else None
        variables = {"license": license_ref, "valid_until": end.isoformat() if end else None}
        ref = decision_ref("restored", self.asset(hold.asset_id), license_ref)
        self.counts.update(self._give_back(delivery, variables, ref))
        self.run.ledger.release_hold(hold.pipeline, hold.asset_id, hold.target, run_id=self.run.run_id)

    def _give_back(self, delivery: DeliveryRecord, variables: dict[str, Any], ref: str) -> Counter[str]:
        run, asset_id = self.run, delivery.asset_id
        target = Target.parse(delivery.target)
        counts: Counter[str] = Counter()
        reason = "approved and licensed again"
        if target.system == TargetSystem.VIP:
            from contentops.models.vip import UsageControls

            vip = run.hook("vip")
            media_ref = delivery.remote_id or asset_id
            media = vip.get_media(target.key, media_ref)
            # modelled: a PUT of the media as it is makes withdrawn media active again
            vip.put_media(
                target.key,
                media_ref,
                asset_id=media.asset_id,
                version=media.version,
                file_name=media.file_name,
                content_type=media.content_type,
                usage_controls=UsageControls(
                    regions=media.usage_controls.regions,
                    channels=media.usage_controls.channels,
                    valid_until=variables["valid_until"],
                ),
                available_to=media.available_to,
                approval_status=media.approval_status,
                campaign_tags=media.campaign_tags,
            )
            counts["vip_restored"] += 1
        elif target.system == TargetSystem.EXSTREAM:
            exstream = run.hook("exstream")
            resource_id = delivery.remote_id or asset_id
            comment = f"Rights of {asset_id}: {reason}"
            if exstream.get_resource(target.key, resource_id).state == "DRAFT":
                exstream.set_state(target.key, resource_id, "REVIEW", comment)  # DRAFT -> REVIEW -> APPROVED
            if exstream.get_resource(target.key, resource_id).state == "REVIEW":
                exstream.set_state(target.key, resource_id, "APPROVED", comment)
            counts["exstream_restored"] += 1
        run.ledger.restore(delivery.pipeline, asset_id, delivery.target, reason, run_id=run.run_id)
        if target.system == TargetSystem.TRADING_GRID:
            counts.update(
                withdrawals.post_usage_guidance(run, asset_id, "restored", variables, ref, communities=[target.key])
            )
        elif target.system == TargetSystem.TRADING_GRID_CASE:
            counts.update(withdrawals.reply_on_cases(run, asset_id, "restored", variables, ref, deliveries=[delivery]))
        elif target.system == TargetSystem.EXSTREAM and variables.get("valid_until"):
            counts.update(
                withdrawals.apply_to_exstream(run, asset_id, "restored", variables, block=False, deliveries=[delivery])
            )
        elif target.system == TargetSystem.CONSONANCE:
            counts.update(
                withdrawals.record_consonance_terms(run, asset_id, "restored", variables, ref, deliveries=[delivery])
            )
        run.record(asset_id, delivery.target, "restored", reason)
        return counts


def decision_ref(outcome: str, asset: Asset | None, license_ref: str | None) -> str:
    """What makes a decision's partner messages once: the outcome, and what it was decided on
    (the license and its asset's version, or the asset's approval state)."""
    if asset is None:
        return f"compliance-{outcome}-gone"
    return f"compliance-{outcome}-{asset.approval_status.value}-{license_ref or 'unlicensed'}-v{asset.version}"


def current_copies(run: PipelineRun) -> list[DeliveryRecord]:
    """Every active delivery of an asset to a partner (kits, guidance, replies and terms are not copies)."""
    copies: list[DeliveryRecord] = []
    for kind in COPY_KINDS:
        for delivery in run.ledger.deliveries(target_prefix=kind.prefix, status="delivered"):
            target = Target.parse(delivery.target)
            if kind is TargetSystem.CONSONANCE and ":" in target.key:
                continue  # a format pairing (``consonance:<work>:<format>``) is not a title attachment
            if kind is TargetSystem.EXSTREAM and RESOURCE_SEPARATOR in target.key:
                continue  # a copy is ``exstream:<domain>`` (the resource is its remote id)
            if target.key:
                copies.append(delivery)
    return copies


def enforce(run: PipelineRun) -> dict[str, int]:
    """Re-decide every current copy and every held one; raises at the end when any failed."""
    review = Review(run)
    for delivery in current_copies(run):
        review.isolated(delivery.asset_id, delivery.target, lambda d=delivery: review.review(d))
    for hold in run.ledger.holds():
        if hold.run_id == run.run_id:
            continue  # taken back by this very run
        review.isolated(hold.asset_id, hold.target, lambda h=hold: review.restore(h))
    counts = dict(review.counts)
    log.info("Delivery compliance: %s", counts)
    if review.failed:
        raise ComplianceRunFailed(
            f"{len(review.failed)} deliveries could not be brought in line (the others were): "
            + "; ".join(review.failed[:10])
        )
    return counts


def _channels() -> dict[str, str]:
    """The channel each partner's copies are used on: the campaign release's settings, so a copy
    is judged on the channel it was cleared for."""
    from contentops.pipelines.campaign.settings import load_release_settings

    return dict(load_release_settings().channels)
