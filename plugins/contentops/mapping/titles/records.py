"""The system-neutral title: a Consonance work and its editions as the title rules read them.

Also the formats an asset can be paired with and how Consonance product types and ONIX codes map
onto them, and :class:`TitleMappingError` for a title that cannot be used.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from contentops.models.common import DomainModel, UtcDateTime, as_utc


class TitleMappingError(ValueError):
    """A partner title cannot be used (no title, no valid ISBN, ...); the message says why."""


# =========================================================================== the neutral title


class BookFormat(StrEnum):
    """The formats an asset can be paired with."""

    PRINT = "print"
    EBOOK = "ebook"
    AUDIO = "audio"


#: Consonance product types (GraphQL ``__typename``, sourced) -> format.
PRODUCT_TYPE_FORMATS: dict[str, BookFormat] = {
    "physicalbookproduct": BookFormat.PRINT,
    "electronicbookproduct": BookFormat.EBOOK,
    "electronicaudioproduct": BookFormat.AUDIO,
    "physicalaudioproduct": BookFormat.AUDIO,
}
#: ONIX product form codes, by first letter (B = book, E = digital, A = audio; ONIX 2.1 ``DG`` = ebook).
ONIX_FORM_FORMATS: dict[str, BookFormat] = {"B": BookFormat.PRINT, "E": BookFormat.EBOOK, "A": BookFormat.AUDIO}
#: What people write in an asset's ``format`` metadata.
FORMAT_ALIASES: dict[str, BookFormat] = {
    "print": BookFormat.PRINT,
    "hardback": BookFormat.PRINT,
    "hardcover": BookFormat.PRINT,
    "paperback": BookFormat.PRINT,
    "physical": BookFormat.PRINT,
    "physicalbook": BookFormat.PRINT,
    "ebook": BookFormat.EBOOK,
    "e_book": BookFormat.EBOOK,
    "epub": BookFormat.EBOOK,
    "electronicbook": BookFormat.EBOOK,
    "audio": BookFormat.AUDIO,
    "audiobook": BookFormat.AUDIO,
    "electronicaudio": BookFormat.AUDIO,
}


def format_of(product_type: str | None = None, product_form: str | None = None) -> BookFormat | None:
    """The format of a Consonance product from its type, else its ONIX product form code."""
    if product_type:
        found = PRODUCT_TYPE_FORMATS.get(product_type.strip().lower())
        if found is not None:
            return found
        alias = FORMAT_ALIASES.get(re.sub(r"[\s\-]+", "_", product_type.strip().lower()))
        if alias is not None:
            return alias
    if product_form:
        code = product_form.strip().upper()
        if code == "DG":
            return BookFormat.EBOOK
        if code:
            return ONIX_FORM_FORMATS.get(code[0])
    return None


class RevisionKind(StrEnum):
    """What happened to a title; the last three make Smint.io surface the latest assets (CON-8)."""

    NEW = "new"
    REVISED = "revised"
    REISSUED = "reissued"
    REPACKAGED = "repackaged"


#: Revision kinds after which outdated assets are retired.
REFRESH_KINDS: frozenset[RevisionKind] = frozenset(
    {RevisionKind.REVISED, RevisionKind.REISSUED, RevisionKind.REPACKAGED}
)


#: ONIX publishing status "out of print".
OUT_OF_PRINT = "07"


class Contributor(DomainModel):
    """One contributor, in sequence; ``role`` is the ONIX contributor role code (``A01`` = author)."""

    name: str
    role: str | None = None
    role_name: str | None = None
    sequence: int = 0

    @property
    def is_author(self) -> bool:
        return self.role in (None, "A01") or (self.role_name or "").lower().startswith("by")


class Subject(DomainModel):
    """A subject code (BISAC by default) with its description."""

    code: str
    description: str | None = None
    scheme: str = "BISAC"


class Milestone(DomainModel):
    """A campaign or production milestone of a title (cover reveal, pre-order, launch ...)."""

    name: str
    on: date


class TitleProduct(DomainModel):
    """One edition (product) of a title: its format, ISBN, publication date and where it is sold.

    ``territories`` are the sales territories (ISO-3166 codes or region keys of the region
    catalogue); empty = not stated.
    """

    product_id: str
    isbn: str | None = None
    format: BookFormat | None = None
    product_type: str | None = None
    product_form: str | None = None
    publication_date: date | None = None
    publishing_status: str | None = None
    edition: str | None = None
    territories: tuple[str, ...] = ()
    rrp_gbp: float | None = None


class TitleRecord(DomainModel):
    """A title (Consonance *work*) with its editions, as the title pipelines use it.

    ``revision`` changes whenever the title changes (Consonance's update stamp or version) and
    is part of every idempotency key derived from the title: a new revision is pushed again.
    """

    work_id: str
    revision: str
    title: str = Field(min_length=1)
    subtitle: str | None = None
    reference: str | None = None
    contributors: tuple[Contributor, ...] = ()
    imprint: str | None = None
    subjects: tuple[Subject, ...] = ()
    campaign: str | None = None
    milestones: tuple[Milestone, ...] = ()
    products: tuple[TitleProduct, ...] = ()
    territories: tuple[str, ...] = ()
    edition_number: int | None = None
    revision_kind: RevisionKind | None = None
    revision_date: date | None = None
    revision_formats: tuple[BookFormat, ...] = ()
    revision_product_ids: tuple[str, ...] = ()
    print_delivery: date | None = None
    updated_at: UtcDateTime | None = None

    @property
    def needs_refresh(self) -> bool:
        """Was the title revised, reissued or repackaged (CON-8)?"""
        return self.revision_kind in REFRESH_KINDS

    @property
    def isbns(self) -> list[str]:
        return [p.isbn for p in self.products if p.isbn]

    @property
    def refs(self) -> set[str]:
        """Every reference an asset may carry for this title: the work id and its in-house reference."""
        return {ref for ref in (self.work_id, self.reference) if ref}

    def product_for(self, fmt: BookFormat) -> TitleProduct | None:
        """The current edition of ``fmt``: the one the latest revision / reissue names, else the
        first to publish among those still in print (ONIX status ``07`` = out of print), else the
        first to publish. The pairing's release timing follows it."""
        candidates = [p for p in self.products if p.format is fmt]
        if not candidates:
            return None
        named = [p for p in candidates if p.product_id in self.revision_product_ids]
        in_print = [p for p in candidates if p.publishing_status != OUT_OF_PRINT]
        pool = named or in_print or candidates
        return min(pool, key=lambda p: (p.publication_date or date.max, p.product_id))

    def product_by_isbn(self, isbn: str) -> TitleProduct | None:
        return next((p for p in self.products if p.isbn == isbn), None)

    @property
    def formats(self) -> list[BookFormat]:
        return sorted({p.format for p in self.products if p.format is not None}, key=list(BookFormat).index)

    @property
    def first_publication_date(self) -> date | None:
        dates = [p.publication_date for p in self.products if p.publication_date]
        return min(dates) if dates else None

    def territories_of(self, product: TitleProduct | None) -> tuple[str, ...]:
        """Where an edition is sold: its own territories, else the title's."""
        if product is not None and product.territories:
            return product.territories
        if product is None and not self.territories:
            merged = sorted({t for p in self.products for t in p.territories})
            return tuple(merged)
        return self.territories


def clean_text(value: Any) -> str | None:
    """A stripped string, ``None`` for empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return as_utc(value).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise TitleMappingError(f"not a date: {value!r}") from exc
