"""VIP delivery: each asset as media of the catalog items it shows (VIP-1/3/5, VIP-7).

The media is available to the retailer-data parties of the regions the asset's rights allow,
with usage controls, campaign tags, approval status, license summary and the file streamed from
Smint.io; the campaign's media together are its hand-off to VIP. An agency's final deliverable
carries its masters' rights, is available only to the deliverable recipients and names the agency.
Released ahead of its date, the media carries that date as ``available_from`` (*modelled*): VIP
holds it but serves it to retailers only from then on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contentops import rights
from contentops.hooks.errors import NotFoundError
from contentops.models.domain import UsageRights
from contentops.pipelines import mappings
from contentops.pipelines.campaign.delivery import Release, Send, TargetDelivery
from contentops.pipelines.campaign.plan import REFUSED, usage_rights
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target, TargetSystem


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


class Parties:
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


@dataclass(frozen=True)
class MediaTerms:
    """On what terms VIP makes one media available: whose rights, which channel, until when, to whom."""

    usage: UsageRights | None
    channel: str | None
    until: datetime | None
    audience: list[str]
    extra: dict[str, Any] = field(default_factory=dict)  # a deliverable's agency and masters


class VipDelivery(TargetDelivery):
    """Media of VIP catalog items (targets ``vip:<item>``); an item VIP does not sell is a refusal."""

    system = TargetSystem.VIP
    requests_per_target = 2  # the media, then its content

    def __init__(self, run: PipelineRun, settings: CampaignReleaseSettings) -> None:
        super().__init__(run, settings)
        self.parties = Parties(run)

    def deliver(self, release: Release, target: Target, regions: list[str]) -> Counter[str]:
        send = self.sender(release, target, regions)
        try:
            return self.send_once(release, target, send)
        except NotFoundError as exc:
            # VIP's item catalog has no such item (the settings name one VIP does not sell)
            reason = f"not in VIP's item catalog: {exc}"
            self.run.record(release.asset.id, target, REFUSED, reason, campaign=release.plan.campaign)
            return Counter({"vip_no_item": 1})

    def sender(self, release: Release, target: Target, regions: list[str]) -> Send:
        if self.settings.deliverables.is_deliverable(release.asset):
            terms = self._deliverable_terms(release, regions)
        else:
            usage = release.usage
            terms = MediaTerms(
                usage=usage,
                channel=self.settings.channels.get(TargetSystem.VIP),
                until=rights.usable_until(usage) if usage is not None else None,
                audience=self.parties.of(regions, self.settings.vip.audience),
            )
        return self._media_sender(release, target.key, regions, terms)

    def _deliverable_terms(self, release: Release, regions: list[str]) -> MediaTerms:
        """An agency's final deliverable: its masters' rights (the earliest end), the agency named on it."""
        deliverables = self.settings.deliverables
        smintio = self.run.hook("smintio")
        masters = deliverables.masters_of(release.asset)
        usages = [u for m in masters if (u := usage_rights(self.run, smintio.get_asset(m))) is not None]
        ends = [e for u in usages if (e := rights.usable_until(u)) is not None]
        agency = deliverables.agency_of(release.asset)
        return MediaTerms(
            usage=usages[0] if usages else None,
            channel=deliverables.channel or self.settings.channels.get(TargetSystem.VIP),
            until=min(ends) if ends else None,
            audience=self.parties.of(regions, deliverables.recipient_kinds),
            extra={"agency": agency, "derived_from": masters} if agency else {},
        )

    def _media_sender(self, release: Release, item: str, regions: list[str], terms: MediaTerms) -> Send:
        from contentops.models.vip import UsageControls

        vip = self.run.hook("vip")
        plan, asset, fetched = release.plan, release.asset, release.fetched
        described = mappings.vip_media(self.run)  # mappings/vip_media.yaml
        tags = described.campaign_tags(asset, plan.campaign)

        def send(_plan: Any) -> str:
            vip.put_media(
                item,
                asset.id,
                asset_id=asset.id,
                version=asset.version,
                file_name=fetched.file_name,
                content_type=fetched.content_type,
                usage_controls=UsageControls(
                    regions=regions, channels=[terms.channel or "any"], valid_until=terms.until
                ),
                available_to=terms.audience,
                approval_status="approved" if set(regions) >= set(plan.regions) else "restricted",
                campaign_tags=tags,
                license_summary=license_summary(terms.usage, terms.channel, regions),
                attributes=described.attributes_of(asset),
                available_from=plan.embargo_until,  # released ahead: retailers may not use it before
                **terms.extra,
            )
            vip.upload_media_content(item, asset.id, fetched.get(), fetched.content_type)
            return asset.id

        return send
