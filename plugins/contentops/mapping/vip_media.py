"""What a Smint.io asset puts on the media of a VIP catalog item, beside its rights.

The media's rights fields — usage controls, the parties it is available to, approval status,
license summary, an agency's masters — are what the rights gate decided and are not
configurable. What a tenant adapts is how the asset *describes* itself on VIP: which of its
Smint.io tags are campaign tags there, and which Smint.io fields and metadata keys become
attributes of the media (VIP's buyers filter and read them next to the item). That is
configuration (``include/config/mappings/vip_media.yaml``, loaded by
:mod:`contentops.mapping.config`); :class:`VipMediaMapping` validates an edited one, naming the
bad key, so a typo stops the run at its start instead of writing under a wrong attribute.

The shipped mapping is what contentops always wrote: tags ``campaign:…`` are campaign tags, and
no attributes (so a project that does not edit the file writes the very same media).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from contentops.models.common import DomainModel
from contentops.models.smintio import Asset

#: The Smint.io asset fields an attribute can be read from (``metadata.<key>`` reads a metadata key).
ASSET_FIELDS: dict[str, Any] = {
    "id": lambda asset: asset.id,
    "version": lambda asset: asset.version,
    "name": lambda asset: asset.name,
    "description": lambda asset: asset.description,
    "content_type": lambda asset: asset.content_type,
    "campaign": lambda asset: asset.campaign,
    "categories": lambda asset: list(asset.categories),
    "tags": lambda asset: list(asset.tags),
    "language": lambda asset: asset.language,
    "region": lambda asset: asset.region,
    "master_asset_id": lambda asset: asset.master_asset_id,
    "compliance_status": lambda asset: asset.compliance_status.value if asset.compliance_status else None,
}
METADATA_PREFIX = "metadata."
#: A Smint.io metadata key (lower-case snake case, as the tenant's generic metadata names them).
METADATA_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: A VIP media attribute name (modelled: letters, digits, ``_`` and ``-``, starting with a letter).
VIP_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
#: The media's own fields: an attribute cannot shadow what the rights gate decided.
RESERVED_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "ref",
        "item_id",
        "asset_id",
        "version",
        "file_name",
        "content_type",
        "usage_controls",
        "available_to",
        "approval_status",
        "campaign_tags",
        "license_summary",
        "agency",
        "derived_from",
        "status",
        "content",
    }
)
#: A tag prefix: no spaces, at most 64 characters.
TAG_PREFIX = re.compile(r"\S{1,64}")

#: The shipped mapping (the YAML file repeats it).
DEFAULT_CAMPAIGN_TAG_PREFIXES: tuple[str, ...] = ("campaign:",)
DEFAULT_ATTRIBUTES: dict[str, str] = {}


def _source_value(asset: Asset, source: str) -> Any:
    if source.startswith(METADATA_PREFIX):
        return asset.metadata.get(source.removeprefix(METADATA_PREFIX))
    return ASSET_FIELDS[source](asset)


class VipMediaMapping(DomainModel):
    """``include/config/mappings/vip_media.yaml``: Smint.io asset -> VIP media description.

    ``campaign_tag_prefixes``: a Smint.io tag starting with one of them is a campaign tag of the
    media (the release's own ``campaign:<id>`` always is). ``attributes``: Smint.io asset field
    (or ``metadata.<key>``) -> VIP media attribute; one mapped to ``null`` is not written, nor is
    an empty value. An unknown field, a bad attribute name, a media field used as an attribute or
    two fields on one attribute is an error that names it.
    """

    campaign_tag_prefixes: tuple[str, ...] = DEFAULT_CAMPAIGN_TAG_PREFIXES
    attributes: dict[str, str | None] = Field(default_factory=lambda: dict(DEFAULT_ATTRIBUTES))

    @field_validator("campaign_tag_prefixes")
    @classmethod
    def _valid_prefixes(cls, prefixes: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in prefixes:
            if not TAG_PREFIX.fullmatch(prefix):
                raise ValueError(f"{prefix!r} is not a tag prefix (no spaces, 1 to 64 characters)")
        return prefixes

    @field_validator("attributes")
    @classmethod
    def _valid_attributes(cls, mapping: dict[str, str | None]) -> dict[str, str | None]:
        claimed: dict[str, str] = {}
        for source, attribute in mapping.items():
            if source.startswith(METADATA_PREFIX):
                if not METADATA_KEY.fullmatch(source.removeprefix(METADATA_PREFIX)):
                    raise ValueError(f"{source!r}: not a Smint.io metadata key (lower-case letters, digits and _)")
            elif source not in ASSET_FIELDS:
                raise ValueError(
                    f"unknown Smint.io asset field {source!r}; known: {', '.join(ASSET_FIELDS)} or metadata.<key>"
                )
            if attribute is None:
                continue
            if not VIP_ATTRIBUTE.fullmatch(attribute):
                raise ValueError(
                    f"{source}: {attribute!r} is not a VIP attribute name (letters, digits, _ and -, "
                    "starting with a letter, at most 64)"
                )
            if attribute in RESERVED_ATTRIBUTES:
                raise ValueError(f"{source}: {attribute!r} is a field of the VIP media itself, not an attribute")
            if attribute in claimed:
                raise ValueError(f"{source}: the attribute {attribute!r} is already the one of {claimed[attribute]!r}")
            claimed[attribute] = source
        return mapping

    def campaign_tags(self, asset: Asset, campaign: str | None = None) -> list[str]:
        """The media's campaign tags: the release's campaign and the asset's tags of the prefixes."""
        own = [f"campaign:{campaign}"] if campaign else []
        return sorted({*own, *(t for t in asset.tags if t.startswith(self.campaign_tag_prefixes))})

    def attributes_of(self, asset: Asset) -> dict[str, Any] | None:
        """The media's attributes read from ``asset``; ``None`` when there are none to write."""
        found = {
            attribute: value
            for source, attribute in self.attributes.items()
            if attribute is not None and (value := _source_value(asset, source)) not in (None, "", [], {})
        }
        return found or None
