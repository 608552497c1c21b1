"""Under which keys an Exstream image resource carries the metadata contentops writes on it.

The campaign release, the localization return loop and the rights expiry sweep write rights
metadata on the images they deliver to Exstream (source asset, version, campaign, segments,
regions, expiry, license …); Exstream templates select images by it, so its key names are the
template designers' vocabulary, which differs per tenant. The fields are fixed (what the
pipelines know); the keys are configuration (``include/config/mappings/exstream_resources.yaml``,
loaded by :mod:`contentops.mapping.config`). :class:`ExstreamResourceMapping` validates an
edited one, naming the bad key.

Unlike the title mapping, this one is a renaming: a field the file leaves out keeps its own key
(so a field a pipeline starts to write is never dropped silently), and one mapped to ``null`` is
not written. The shipped mapping writes every field under its own name — what contentops always
wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from contentops.models.common import DomainModel

#: Every field a pipeline writes on an Exstream image, and what it is.
EXSTREAM_FIELDS: dict[str, str] = {
    "source_asset": "the Smint.io asset the image is (a localized variant's own id)",
    "asset_version": "its Smint.io version",
    "campaign": "the campaign it was released for",
    "segments": "the campaign's customer segments",
    "regions": "the regions its rights allow",
    "valid_until": "the end of its rights (ISO 8601), or null",
    "license": "the Smint.io license purchase transaction",
    "channel": "the channel it is cleared for",
    "categories": "its Smint.io categories",
    "compliance_status": "its compliance status, for regulated domains",
    "rights_status": "cleared",
    "master_asset": "a localized variant's master asset",
    "region": "a localized variant's region",
    "language": "a localized variant's language",
    "localized": "true on a localized variant",
    "business_unit": "a brand-team variant's business unit (Smint.io metadata ``business_unit``)",
    "rights_disposition": "the rights workflow's outcome the expiry sweep applied",
}
#: An Exstream metadata key (modelled): letters, digits, ``_``, ``-`` and ``.``, starting with a letter.
EXSTREAM_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


class ExstreamResourceMapping(DomainModel):
    """``include/config/mappings/exstream_resources.yaml``: field -> Exstream metadata key.

    An unknown field, a key that is not a valid metadata key or two fields on one key (the
    fields left out keep theirs) is an error that names it."""

    resource_metadata: dict[str, str | None] = Field(default_factory=lambda: {f: f for f in EXSTREAM_FIELDS})

    @field_validator("resource_metadata")
    @classmethod
    def _valid_mapping(cls, mapping: dict[str, str | None]) -> dict[str, str | None]:
        for field, key in mapping.items():
            if field not in EXSTREAM_FIELDS:
                raise ValueError(f"unknown Exstream image field {field!r}; known: {', '.join(EXSTREAM_FIELDS)}")
            if key is not None and not EXSTREAM_KEY.fullmatch(key):
                raise ValueError(
                    f"{field}: {key!r} is not an Exstream metadata key (letters, digits, _, - and ., "
                    "starting with a letter, at most 64)"
                )
        claimed: dict[str, str] = {}
        for field in EXSTREAM_FIELDS:
            key = mapping.get(field, field)
            if key is None:
                continue
            if key in claimed:
                raise ValueError(f"{field}: the key {key!r} is already the key of {claimed[key]!r}")
            claimed[key] = field
        return mapping

    def key_of(self, field: str) -> str | None:
        """The key ``field`` is written under (``None``: not written)."""
        return self.resource_metadata.get(field, field)

    def apply(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``fields`` (field -> value, as a pipeline computed them) under their configured keys."""
        return {key: value for field, value in fields.items() if (key := self.key_of(field)) is not None}
