"""Smint.io masters and their distribution copies in VIP stay in step (VIP-4, Smint.io → VIP).

A copy is the media ``campaign_release`` (or the localization loop) put on a VIP catalog item;
the ledger knows each one (a ``vip:<item>`` delivery, remote id the media reference). When its
Smint.io master changes — a new file, metadata, tags, approval status, the license it is used
under — every change bumps the asset's version, and the copy follows, once per version:

- **approved**: the media is put again as the new version — its attributes (``vip_media.yaml``)
  and campaign tags read from the asset as it is now, its usage controls' end date and license
  summary from the master's current license, the regions, channels, parties and embargo the
  release decided kept — and the file re-uploaded when it is not the one VIP already holds; only
  if :mod:`contentops.rights` still allows the media's regions and channels as of the window's end;
- **no longer approved** (back in review, rejected, retired): the copy is taken back through
  ``delivery_compliance``'s re-decision (:class:`contentops.pipelines.delivery_compliance.Review`),
  the one withdrawal path — the media withdrawn in VIP, the ledger slot withdrawn and held, so a
  master approved again is given back by ``delivery_compliance`` like any other held copy.

:func:`follow_master` does it for one master; :func:`update_vip_items` for every master changed in
the run's window, and the catalogue sync calls it right after a VIP replacement superseded a
master (:mod:`contentops.pipelines.vip_catalog`). Every write is one
:meth:`PipelineRun.deliver_once` in the slot the first delivery filled, keyed by the asset
version; a withdrawn slot is not current any more. A re-run writes nothing.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from contentops import rights
from contentops.ledger import Action, DeliveryPlan, DeliveryRecord
from contentops.models.domain import IntendedUse, UsageRights
from contentops.models.smintio import Asset
from contentops.models.vip import ItemMedia, UsageControls
from contentops.pipelines import mappings
from contentops.pipelines.rights_first import asset_license, no_license_reason
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target, TargetSystem

if TYPE_CHECKING:
    from contentops.pipelines.delivery_compliance import Review


def update_vip_items(run: PipelineRun, *, page_size: int = 100) -> dict[str, int]:
    """Every Smint.io master changed in the run's window: its VIP copies follow it."""
    smintio = run.hook("smintio")
    counts: Counter[str] = Counter()
    follower = Follower(run)
    on_invalid = run.quarantine_callback("smintio", "asset")
    for asset in smintio.iter_assets(changed_since=run.window.start, page_size=page_size, on_invalid=on_invalid):
        if asset.updated_at is not None and asset.updated_at >= run.window.end:
            continue  # a later window's change (backfills decide as of their own end)
        counts.update(follower.follow(asset))
    return dict(counts)


def follow_master(run: PipelineRun, asset: Asset) -> Counter[str]:
    """One master's VIP copies follow its current version (see the module docstring)."""
    return Follower(run).follow(asset)


def vip_copies(run: PipelineRun, asset_id: str) -> list[DeliveryRecord]:
    """The asset's current copies on VIP catalog items (withdrawn ones are not current)."""
    return [
        d
        for d in run.ledger.deliveries(asset_id=asset_id, target_prefix=TargetSystem.VIP.prefix, status="delivered")
        if Target.parse(d.target).key
    ]


class Follower:
    """One run's updates of VIP copies; the compliance re-decision is made once per run."""

    def __init__(self, run: PipelineRun) -> None:
        self.run = run
        self._review: Review | None = None

    def follow(self, asset: Asset) -> Counter[str]:
        counts: Counter[str] = Counter()
        stale = [d for d in vip_copies(self.run, asset.id) if _older(d.version, asset.version)]
        if not stale:
            return counts
        counts["assets_changed"] += 1
        if not asset.is_approved:
            counts.update(self._take_back(stale))
            return counts
        for delivery in stale:
            counts[_update_item(self.run, asset, delivery)] += 1
        return counts

    def _take_back(self, copies: list[DeliveryRecord]) -> Counter[str]:
        """A master no longer approved: its copies go through delivery_compliance's re-decision,
        which withdraws them in VIP and holds them in the ledger (restored once approved again)."""
        from contentops.pipelines.delivery_compliance import Review

        if self._review is None:
            self._review = Review(self.run)
        review = self._review
        before = Counter(review.counts)
        for delivery in copies:
            review.review(delivery)
        taken = Counter(review.counts)
        taken.subtract(before)
        return Counter({k: v for k, v in taken.items() if v})


def _older(delivered: str | None, current: int) -> bool:
    try:
        return delivered is not None and int(delivered) < current
    except ValueError:
        return False  # not a version we wrote; leave it alone


def _update_item(run: PipelineRun, asset: Asset, delivery: DeliveryRecord) -> str:
    vip, smintio = run.hook("vip"), run.hook("smintio")
    item_id = Target.parse(delivery.target).key
    media_ref = delivery.remote_id or asset.id
    media: ItemMedia = vip.get_media(item_id, media_ref)
    known = asset_license(run, asset)
    refusal = _rights_for_media(run, asset, media, known.rights if known is not None else None)
    license_ref = asset.license_purchase_transaction_uuid or ""
    if refusal is not None:
        run.record(asset.id, delivery.target, "refused", refusal, license=license_ref)
        return "refused"
    if not asset.binaries:
        run.record(asset.id, delivery.target, "not_updated", "the Smint.io asset has no file to deliver")
        return "no_file"
    binary = asset.binaries[0]
    content_type = binary.content_type or asset.content_type or media.content_type
    described = mappings.vip_media(run)  # mappings/vip_media.yaml, read from the new version
    controls, summary = _controls(media, known.rights if known is not None else None)
    same_file = bool(binary.sha256 and media.content and media.content.sha256 == binary.sha256)

    def send(plan: DeliveryPlan) -> str:
        vip.put_media(
            item_id,
            media_ref,
            asset_id=asset.id,
            version=asset.version,
            file_name=media.file_name,
            content_type=content_type,
            usage_controls=controls,
            available_to=media.available_to,
            approval_status=media.approval_status,
            campaign_tags=_campaign_tags(run, asset),
            license_summary=summary,
            agency=media.agency,
            derived_from=media.derived_from,
            attributes=described.attributes_of(asset),
            available_from=media.available_from,
        )
        if not same_file:
            with tempfile.TemporaryDirectory(prefix="contentops-smintio-") as folder:
                local = Path(folder) / "content"
                smintio.download_asset_binary(asset.id, binary.id, local)
                vip.upload_media_content(item_id, media_ref, local, content_type)
        return media_ref

    delivered = run.deliver_once(
        asset.id,
        asset.version,
        delivery.target,
        send,
        pipeline=delivery.pipeline,  # the slot the first delivery filled: this is its update
        license_ref=asset.license_purchase_transaction_uuid,
    )
    if delivered.action is Action.SKIP:
        return "unchanged"
    run.record(
        asset.id,
        delivery.target,
        "item_updated",
        f"v{delivery.version} -> v{asset.version}" + ("" if not same_file else " (metadata; same file)"),
        license=license_ref,
        detail=media_ref,
    )
    return "items_updated"


def _campaign_tags(run: PipelineRun, asset: Asset) -> list[str]:
    """The media's campaign tags as the master says now: its campaign and its tags of the
    configured prefixes (a tag removed in Smint.io goes from VIP too)."""
    return mappings.vip_media(run).campaign_tags(asset, asset.campaign)


def _controls(media: ItemMedia, usage: UsageRights | None) -> tuple[UsageControls, str | None]:
    """The media's usage controls and license summary under the master's current license: the end
    date follows the license (a renewal or a shortened term); the regions, channels and parties
    the release decided stay (narrowing them is ``delivery_compliance``'s). An agency's
    deliverable runs under its masters' licenses, so its controls are left as they are."""
    if media.derived_from or usage is None:
        return media.usage_controls, media.license_summary
    from contentops.pipelines.campaign.vip import license_summary

    controls = UsageControls(
        regions=media.usage_controls.regions,
        channels=media.usage_controls.channels,
        valid_until=rights.usable_until(usage),
    )
    channel = media.usage_controls.channels[0] if media.usage_controls.channels else None
    return controls, license_summary(usage, channel, list(media.usage_controls.regions))


def _rights_for_media(run: PipelineRun, asset: Asset, item: ItemMedia, usage: UsageRights | None) -> str | None:
    """``None`` when the asset may be used in every region and channel of the VIP media as of the
    window's end; otherwise the reasons it may not (or why nobody can tell)."""
    if usage is None:
        return no_license_reason(asset)
    reasons = []
    for region in item.usage_controls.regions:
        for channel in item.usage_controls.channels:
            decision = rights.evaluate(usage, IntendedUse(on_date=run.window.end, region=region, channel=channel))
            if not decision.allowed:
                reasons.append(f"{region}/{channel}: {decision.summary()}")
    return "; ".join(reasons) or None
