"""Which title field lands on which Smint.io metadata key: the field mapping of the title push.

The title fields are fixed (what a :class:`~contentops.mapping.titles.records.TitleRecord` can
tell); the Smint.io keys they are written under are configuration
(``include/config/mappings/consonance_titles.yaml``, loaded by :mod:`contentops.mapping.config`),
because each tenant names its metadata keys its own way. :data:`DEFAULT_SMINTIO_KEYS` is the
mapping the project ships; :class:`TitleFieldMapping` validates an edited one, naming the bad
key, so a typo stops the run at its start instead of writing under a wrong key.

A field is written only where it means something: the edition fields (``format``, ``isbn``,
``publication_date``, ``edition``, ``rrp_gbp``) only on an asset paired with one edition, and
the fields marked *when known* only when the title states them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from contentops.mapping.titles.phase import PublicationPhase
from contentops.mapping.titles.records import TitleProduct, TitleRecord
from contentops.models.common import DomainModel

#: Metadata keys the push keeps for itself: the tags it pushed (to remove only its own later).
RESERVED_KEYS: frozenset[str] = frozenset({"title_tags"})
#: A Smint.io metadata key as the tenant's generic metadata names them: lower-case snake case.
SMINTIO_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")

Value = Callable[[TitleRecord, TitleProduct | None, PublicationPhase], Any]


@dataclass(frozen=True)
class TitleField:
    """One field a title can write: how its value is read, and when it is written at all."""

    value: Value
    edition_only: bool = False  # only on an asset paired with one edition
    when_known: bool = False  # left out, not written as null, when the title does not state it


def _contributors(title: TitleRecord) -> list[Any]:
    return sorted(title.contributors, key=lambda c: c.sequence)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


#: Every title field, in the order it is written (the order of the metadata the push sends).
TITLE_FIELDS: dict[str, TitleField] = {
    "work_id": TitleField(lambda title, product, phase: title.work_id),
    "revision": TitleField(lambda title, product, phase: title.revision),
    "title": TitleField(lambda title, product, phase: title.title),
    "subtitle": TitleField(lambda title, product, phase: title.subtitle),
    "contributors": TitleField(
        lambda title, product, phase: [
            {"name": c.name, "role": c.role, "role_name": c.role_name} for c in _contributors(title)
        ]
    ),
    "authors": TitleField(lambda title, product, phase: [c.name for c in _contributors(title) if c.is_author]),
    "imprint": TitleField(lambda title, product, phase: title.imprint),
    "formats": TitleField(lambda title, product, phase: [f.value for f in title.formats]),
    "isbns": TitleField(lambda title, product, phase: title.isbns),
    "bisac_subjects": TitleField(
        lambda title, product, phase: [
            {"code": s.code.upper(), "description": s.description}
            for s in title.subjects
            if s.scheme.upper() == "BISAC"
        ]
    ),
    "campaign": TitleField(lambda title, product, phase: title.campaign),
    "campaign_milestones": TitleField(
        lambda title, product, phase: [
            {"name": m.name, "date": m.on.isoformat()} for m in sorted(title.milestones, key=lambda m: (m.on, m.name))
        ]
    ),
    "publication_phase": TitleField(lambda title, product, phase: phase.value),
    "first_publication_date": TitleField(lambda title, product, phase: _iso(title.first_publication_date)),
    "edition_number": TitleField(lambda title, product, phase: title.edition_number, when_known=True),
    # the cover must be final before the printer delivers
    "print_delivery": TitleField(lambda title, product, phase: _iso(title.print_delivery), when_known=True),
    "format": TitleField(
        lambda title, product, phase: product.format.value if product and product.format else None, edition_only=True
    ),
    "isbn": TitleField(lambda title, product, phase: product.isbn if product else None, edition_only=True),
    "publication_date": TitleField(
        lambda title, product, phase: _iso(product.publication_date) if product else None, edition_only=True
    ),
    "edition": TitleField(lambda title, product, phase: product.edition if product else None, edition_only=True),
    "rrp_gbp": TitleField(
        lambda title, product, phase: product.rrp_gbp if product else None, edition_only=True, when_known=True
    ),
}

#: The shipped mapping (title field -> Smint.io metadata key); the YAML file repeats it.
DEFAULT_SMINTIO_KEYS: dict[str, str] = {
    "work_id": "consonance_work_id",
    "revision": "title_revision",
    "title": "book_title",
    "subtitle": "book_subtitle",
    "contributors": "contributors",
    "authors": "authors",
    "imprint": "imprint",
    "formats": "formats",
    "isbns": "isbns",
    "bisac_subjects": "bisac_subjects",
    "campaign": "campaign",
    "campaign_milestones": "campaign_milestones",
    "publication_phase": "publication_phase",
    "first_publication_date": "first_publication_date",
    "edition_number": "edition_number",
    "print_delivery": "print_delivery_date",
    "format": "format",
    "isbn": "isbn",
    "publication_date": "publication_date",
    "edition": "edition",
    "rrp_gbp": "rrp_gbp",
}


class TitleFieldMapping(DomainModel):
    """``include/config/mappings/consonance_titles.yaml``: title field -> Smint.io metadata key.

    The file lists every field that is written; a field left out or mapped to ``null`` is not
    written. An unknown field, a key that is not a valid metadata key, a reserved key or two
    fields on one key is an error that names it.
    """

    smintio_metadata: dict[str, str | None] = Field(default_factory=lambda: dict(DEFAULT_SMINTIO_KEYS))

    @field_validator("smintio_metadata")
    @classmethod
    def _valid_mapping(cls, mapping: dict[str, str | None]) -> dict[str, str | None]:
        claimed: dict[str, str] = {}
        for field, key in mapping.items():
            if field not in TITLE_FIELDS:
                raise ValueError(f"unknown title field {field!r}; known: {', '.join(TITLE_FIELDS)}")
            if key is None:
                continue
            if not SMINTIO_KEY.fullmatch(key):
                raise ValueError(
                    f"{field}: {key!r} is not a Smint.io metadata key (lower-case letters, digits and _, "
                    "starting with a letter, at most 64)"
                )
            if key in RESERVED_KEYS:
                raise ValueError(f"{field}: the key {key!r} is reserved for the push's own bookkeeping")
            if key in claimed:
                raise ValueError(f"{field}: the key {key!r} is already the key of {claimed[key]!r}")
            claimed[key] = field
        return mapping

    @property
    def written(self) -> list[tuple[str, str, TitleField]]:
        """(field, key, how) of every field written, in the order of :data:`TITLE_FIELDS`."""
        return [
            (field, key, how)
            for field, how in TITLE_FIELDS.items()
            if (key := self.smintio_metadata.get(field)) is not None
        ]

    @property
    def version_tag(self) -> str:
        """``""`` for the shipped mapping, else a short digest of this one.

        Part of the push's version, so a changed mapping is pushed again onto every asset, while
        the shipped mapping keeps the versions (and the ledger history) it always had.
        """
        keys = {field: key for field, key, _ in self.written}
        if keys == DEFAULT_SMINTIO_KEYS:
            return ""
        return "m" + hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:8]

    def metadata(self, title: TitleRecord, product: TitleProduct | None, phase: PublicationPhase) -> dict[str, Any]:
        """The metadata ``title`` writes on an asset paired with ``product`` (``None`` = the whole title)."""
        metadata: dict[str, Any] = {}
        for _field, key, how in self.written:
            if how.edition_only and product is None:
                continue
            value = how.value(title, product, phase)
            if how.when_known and value is None:
                continue
            metadata[key] = value
        return metadata
