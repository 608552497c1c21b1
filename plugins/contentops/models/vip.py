"""VIP payloads, by the modules VIP publishes (docs/systems/vip.md).

VIP's REST API covers item catalog, order management, pricing, payments and retailer data
(sourced: the public connector description). Which fields those modules answer with is not
public, so every shape here is *modelled*, and only the two modules contentops needs are used:

- **retailer data** — :class:`Party`: who is in which region (distributors, retailers, the
  supplier's regional teams and agencies, publishing and media partners, franchise networks);
- **item catalog** — :class:`CatalogItem` and the media attached to items: :class:`ItemMedia`
  (what contentops attaches: approved assets as the media of the items they show),
  :class:`Return` (media a regional team attached for review: a localized variant) and
  :class:`CatalogEntry` (content VIP holds on its items: masters, localized versions,
  deliverables, replacements).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field

from contentops.models.common import PartnerModel, UtcDateTime

#: media kinds of content VIP holds (what the catalogue sync reads)
CATALOG_KINDS = ("master_package", "localized_version", "deliverable", "replacement")
#: the kind of media regional teams attach for review (localized variants, translations, resizes)
RETURN_KIND = "localized_variant"


class Party(PartnerModel):
    """A party of VIP's retailer data: who takes part in distribution, and in which region."""

    id: str
    name: str
    kind: str = Field(validation_alias=AliasChoices("kind", "type"))
    region: str
    active: bool = True


class CatalogItem(PartnerModel):
    """An item of VIP's item catalog (a product a supplier sells through its distributors)."""

    id: str
    description: str | None = None
    brand: str | None = None
    active: bool = True


class UsageControls(PartnerModel):
    """How attached media may be used: the VIP side of a license's territories, channels and end."""

    regions: list[str]
    channels: list[str]
    valid_until: UtcDateTime | None = None


class MediaContent(PartnerModel):
    sha256: str
    size: int


class ItemMedia(PartnerModel):
    """Media contentops attached to a catalog item, under its own reference (the Smint.io asset id).

    ``available_to`` are the retailer-data parties it is distributed to; ``agency`` and
    ``derived_from`` are set on an agency's final deliverable (who made it, from which masters).
    """

    ref: str
    item_id: str
    asset_id: str
    version: int
    file_name: str
    content_type: str
    usage_controls: UsageControls
    campaign_tags: list[str] = Field(default_factory=list)
    approval_status: str
    status: str
    available_to: list[str] = Field(default_factory=list)
    content: MediaContent | None = None
    license_summary: str | None = None
    agency: str | None = None
    derived_from: list[str] | None = None
    attributes: dict[str, Any] | None = None  # Smint.io fields as VIP attributes (mappings/vip_media.yaml)
    available_from: UtcDateTime | None = None  # modelled: an embargo, served to retailers from then


class Return(PartnerModel):
    """Media a regional team attached to an item for review: a localized variant, translation or
    resize of media contentops delivered (validated before any use).

    Wire names are VIP's (modelled): ``source_media_ref`` is the reference of the media it was
    made from — contentops' references are Smint.io asset ids, so it names the master asset;
    ``review_status`` and ``attached_at`` are read as :attr:`status` and :attr:`received_at`.
    """

    id: str
    item_id: str
    master_asset_id: str = Field(validation_alias=AliasChoices("source_media_ref", "master_asset_id"))
    file_name: str
    content_type: str
    size: int = Field(ge=0)
    download_url: str
    language: str | None = None
    region: str | None = None
    attached_by: str | None = None
    status: str = Field(validation_alias=AliasChoices("review_status", "status"))
    received_at: UtcDateTime = Field(validation_alias=AliasChoices("attached_at", "received_at"))


class CatalogEntry(PartnerModel):
    """Content VIP itself holds, as media on a catalog item (modelled): a master package, a
    localized version, an approved deliverable or an approved replacement of a Smint.io master
    (docs/systems/vip.md).

    ``version`` grows with every change; ``download_url`` is on VIP's own host and needs VIP's
    token. ``smintio_asset_id`` is set when the file came from Smint.io in the first place (it is
    already an asset there); ``replaces_asset_id`` names the Smint.io master a replacement stands in for.
    """

    id: str = Field(min_length=1)
    kind: str = Field(pattern="^(master_package|localized_version|deliverable|replacement)$")
    item_id: str | None = None
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
    attached_by: str | None = None
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
