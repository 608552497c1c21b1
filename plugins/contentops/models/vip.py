"""VIP payloads (modelled: VIP's REST endpoint list is not public; see docs/systems/vip.md)."""

from __future__ import annotations

from pydantic import Field

from contentops.models.common import PartnerModel, UtcDateTime


class Recipient(PartnerModel):
    id: str
    name: str
    kind: str
    region: str
    active: bool = True


class UsageControls(PartnerModel):
    """How a delivered item may be used: the VIP side of a license's territories, channels and end."""

    regions: list[str]
    channels: list[str]
    valid_until: UtcDateTime | None = None


class ItemContent(PartnerModel):
    sha256: str
    size: int


class PackageItem(PartnerModel):
    ref: str
    package: str
    asset_id: str
    version: int
    file_name: str
    content_type: str
    usage_controls: UsageControls
    campaign_tags: list[str] = Field(default_factory=list)
    approval_status: str
    status: str
    content: ItemContent | None = None
    license_summary: str | None = None


class DistributionPackage(PartnerModel):
    ref: str
    name: str
    campaign: str | None = None
    tags: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list)


class Return(PartnerModel):
    """A localized variant or derivative a regional team returned (validated before any use)."""

    id: str
    master_asset_id: str
    file_name: str
    content_type: str
    size: int = Field(ge=0)
    download_url: str
    language: str | None = None
    region: str | None = None
    status: str
    received_at: UtcDateTime
