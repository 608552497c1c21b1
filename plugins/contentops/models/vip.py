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


class CatalogEntry(PartnerModel):
    """A piece of content VIP itself holds (modelled): a master package, a localized version, an
    approved deliverable or an approved replacement of a Smint.io master (docs/systems/vip.md).

    ``version`` grows with every change; ``download_url`` is on VIP's own host and needs VIP's
    token. ``smintio_asset_id`` is set when the file came from Smint.io in the first place (it is
    already an asset there); ``replaces_asset_id`` names the Smint.io master a replacement stands in for.
    """

    id: str = Field(min_length=1)
    kind: str = Field(pattern="^(master_package|localized_version|deliverable|replacement)$")
    title: str = Field(min_length=1)
    description: str | None = None
    file_name: str = Field(min_length=1, max_length=255, pattern=r"^[^./\\\x00][^/\\\x00]*$")  # a name, never a path
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$")
    size: int = Field(ge=0)
    sha256: str | None = None
    region: str | None = None
    language: str | None = None
    status: str
    version: int = Field(ge=1)
    package_ref: str | None = None
    master_entry_id: str | None = None
    replaces_asset_id: str | None = None
    smintio_asset_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    download_url: str
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"
