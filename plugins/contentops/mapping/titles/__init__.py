"""Consonance titles <-> Smint.io assets: what a title tells its assets, and what an asset tells its title.

Pure functions over a system-neutral :class:`TitleRecord` (built from Consonance's work and
products by :func:`title_from_consonance`) and Smint.io :class:`~contentops.models.smintio.Asset`\\ s.
No Airflow, no HTTP, no clock: every function that depends on time takes the moment it decides
for (the run's data interval end), so a backfill reproduces its decisions.

The choices, and why
====================

* **Metadata and tags (CON-4, CON-7).** A title pushes its title, subtitle, contributors,
  imprint, format, ISBN, publication date, BISAC subjects and campaign milestones onto each
  matching asset as flat metadata keys, plus searchable tags (``book:``, ``isbn:``,
  ``imprint:``, ``author:``, ``bisac:``, ``campaign:``, ``format:``). The tags we pushed are
  remembered on the asset (metadata ``title_tags``), so a later revision removes exactly the
  tags it no longer wants and never a tag someone else set.
* **Publication phase.** ``announced`` → ``prepublication`` (within the lead window before the
  publication date) → ``published``. It is part of what is pushed, so a title that *approaches
  publication* is pushed again even when nothing else changed (CON-4: "as a title nears publication").
* **Format pairing (CON-5).** Print jacket ↔ print (``PhysicalBookProduct``), ebook cover ↔
  ebook (``ElectronicBookProduct``), audio thumbnail ↔ audio (``ElectronicAudioProduct``). An
  asset's own ``format`` metadata wins, then its role; an asset of no particular format (author
  photo, promo graphic, licensed stock without a format) belongs to the title as a whole. Each
  pairing carries the release timing of its edition: the publication date, and the date from
  which marketing may use it (``announce_from``).
* **Rights gate (CON-1, CON-6).** An asset is attached only when :func:`contentops.rights.evaluate`
  allows its license for every territory the edition is sold in, on the edition's channel, both
  on the run's date and on the publication date. No known license, or territories the title
  does not state (then the asset must be cleared worldwide), is not "allowed".
* **Matching rule.** Explicit and ordered: by ISBN in the asset's metadata or ``isbn:`` tags, by
  title reference (``consonance_work_id`` / ``title_ref`` metadata, ``title-ref:`` tags), by
  cross-reference in the ledger (assets attached to the title before, e.g. on request). Each
  asset is attributed to the first rule that matches it; leaving a rule out disables it.
* **Latest vs outdated (CON-8).** Only *singular* roles (the primary image of a format, the
  author photo) compete: among the approved assets of one (role, format) slot, the newest
  generation (edition, then creation time, then version) is the latest; the other approved
  ones of that slot are outdated. Drafts, assets in review, retired assets and plural roles
  (promo graphics, stock) are never outdated.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from contentops import rights
from contentops.models.common import DomainModel, UtcDateTime, as_utc
from contentops.models.domain import IntendedUse, Reason, ReasonCode, RightsDecision, UsageRights, Verdict
from contentops.models.smintio import ApprovalStatus, Asset

__all__ = [
    "DEFAULT_MATCH_RULES",
    "AssetMatch",
    "AttachTarget",
    "Attachment",
    "BookFormat",
    "Contributor",
    "FormatPairing",
    "MatchRule",
    "MetadataUpdate",
    "Milestone",
    "PairingRules",
    "PublicationPhase",
    "Refresh",
    "RevisionKind",
    "Subject",
    "TitleMappingError",
    "TitleProduct",
    "TitlePushSettings",
    "TitleRecord",
    "approaching_publication",
    "asset_attach_requests",
    "asset_format",
    "asset_isbns",
    "asset_role",
    "asset_title_refs",
    "attach_target_ledger",
    "attachment_version",
    "build_attachment",
    "format_of",
    "match_assets",
    "metadata_update",
    "normalize_isbn",
    "pair_with_format",
    "pairing_for_product",
    "pairing_reference",
    "parse_attach_target",
    "parse_match_rules",
    "publication_phase",
    "resource_reference",
    "rights_gate",
    "rights_summary",
    "select_latest",
    "slug",
    "tag_changes",
    "title_from_work",
    "title_metadata",
    "title_tags",
    "usage_rights_record",
]


class TitleMappingError(ValueError):
    """A partner title cannot be used (no title, no valid ISBN, ...); the message says why."""


# =========================================================================== ISBNs and slugs


def _isbn13_check_digit(first12: str) -> str:
    total = sum(int(digit) * (1 if i % 2 == 0 else 3) for i, digit in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalize_isbn(value: object) -> str | None:
    """The ISBN-13 digits of ``value`` (hyphens and spaces dropped, an ISBN-10 converted), or
    ``None`` when it is not a valid ISBN. Consonance's REST sample carries ``"No ISBN"``; a
    matching rule must never match on that."""
    if value is None:
        return None
    text = re.sub(r"[\s\-]", "", str(value)).upper()
    if re.fullmatch(r"97[89]\d{10}", text):
        return text if _isbn13_check_digit(text[:12]) == text[12] else None
    if re.fullmatch(r"\d{9}[\dX]", text):
        total = sum((10 - i) * (10 if ch == "X" else int(ch)) for i, ch in enumerate(text))
        if total % 11:
            return None
        first12 = "978" + text[:9]
        return first12 + _isbn13_check_digit(first12)
    return None


def slug(value: str) -> str:
    """A tag-safe lower-case token: ``"Penguin Random House"`` -> ``"penguin-random-house"``."""
    return re.sub(r"[^a-z0-9]+", "-", value.strip().lower()).strip("-")


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


def _text(value: Any) -> str | None:
    """A stripped string, ``None`` for empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Any) -> date | None:
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


# =========================================================================== publication phase


class PublicationPhase(StrEnum):
    """Where a title stands on a given day relative to its (first) publication date."""

    UNSCHEDULED = "unscheduled"
    ANNOUNCED = "announced"
    PREPUBLICATION = "prepublication"
    PUBLISHED = "published"


def _day(as_of: datetime | date) -> date:
    return as_utc(as_of).date() if isinstance(as_of, datetime) else as_of


def publication_phase(publication_date: date | None, as_of: datetime | date, lead_days: int) -> PublicationPhase:
    """``prepublication`` from ``lead_days`` before the publication date, ``published`` from that day on."""
    if publication_date is None:
        return PublicationPhase.UNSCHEDULED
    today = _day(as_of)
    if today >= publication_date:
        return PublicationPhase.PUBLISHED
    if today >= publication_date - timedelta(days=lead_days):
        return PublicationPhase.PREPUBLICATION
    return PublicationPhase.ANNOUNCED


def approaching_publication(title: TitleRecord, as_of: datetime | date, lead_days: int) -> bool:
    """Does an edition publish within ``lead_days`` after ``as_of`` (the day itself included)?"""
    today = _day(as_of)
    return any(
        p.publication_date is not None and today <= p.publication_date <= today + timedelta(days=lead_days)
        for p in title.products
    )


# =========================================================================== metadata and tags (CON-4, CON-7)


def title_tags(title: TitleRecord, product: TitleProduct | None = None) -> list[str]:
    """The searchable tags a title gives an asset: book, ISBN(s), imprint, authors, BISAC, campaign, format."""
    tags = [f"book:{slug(title.title)}"]
    isbns = [product.isbn] if product is not None and product.isbn else title.isbns
    tags += [f"isbn:{isbn}" for isbn in isbns]
    if title.imprint:
        tags.append(f"imprint:{slug(title.imprint)}")
    tags += [f"author:{slug(c.name)}" for c in sorted(title.contributors, key=lambda c: c.sequence) if c.is_author]
    tags += [f"bisac:{s.code.upper()}" for s in title.subjects if s.scheme.upper() == "BISAC"]
    if title.campaign:
        tags.append(f"campaign:{slug(title.campaign)}")
    if product is not None and product.format is not None:
        tags.append(f"format:{product.format.value}")
    return list(dict.fromkeys(tag for tag in tags if not tag.endswith(":")))


def title_metadata(
    title: TitleRecord, product: TitleProduct | None, as_of: datetime | date, *, lead_days: int
) -> dict[str, Any]:
    """The metadata keys a title writes on an asset paired with ``product`` (``None`` = the whole title).

    JSON-safe values only. Keys that describe one edition (``format``, ``isbn``,
    ``publication_date``) are written only for an asset paired with one, so the asset's own
    statement of its format is never overwritten with another edition's.
    """
    contributors = sorted(title.contributors, key=lambda c: c.sequence)
    publication = product.publication_date if product is not None else title.first_publication_date
    metadata: dict[str, Any] = {
        "consonance_work_id": title.work_id,
        "title_revision": title.revision,
        "book_title": title.title,
        "book_subtitle": title.subtitle,
        "contributors": [{"name": c.name, "role": c.role, "role_name": c.role_name} for c in contributors],
        "authors": [c.name for c in contributors if c.is_author],
        "imprint": title.imprint,
        "formats": [f.value for f in title.formats],
        "isbns": title.isbns,
        "bisac_subjects": [
            {"code": s.code.upper(), "description": s.description}
            for s in title.subjects
            if s.scheme.upper() == "BISAC"
        ],
        "campaign": title.campaign,
        "campaign_milestones": [
            {"name": m.name, "date": m.on.isoformat()} for m in sorted(title.milestones, key=lambda m: (m.on, m.name))
        ],
        "publication_phase": publication_phase(publication, as_of, lead_days).value,
        "first_publication_date": title.first_publication_date.isoformat() if title.first_publication_date else None,
    }
    if title.edition_number is not None:
        metadata["edition_number"] = title.edition_number
    if title.print_delivery is not None:  # the cover must be final before the printer delivers
        metadata["print_delivery_date"] = title.print_delivery.isoformat()
    if product is not None:
        metadata["format"] = product.format.value if product.format else None
        metadata["isbn"] = product.isbn
        metadata["publication_date"] = product.publication_date.isoformat() if product.publication_date else None
        metadata["edition"] = product.edition
        if product.rrp_gbp is not None:
            metadata["rrp_gbp"] = product.rrp_gbp
    return metadata


class MetadataUpdate(DomainModel):
    """One PATCH of an asset: metadata keys to merge, tags to add and remove."""

    metadata: dict[str, Any]
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()


def tag_changes(
    current: Iterable[str], previously_pushed: Iterable[str], wanted: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(add, remove): add the wanted tags the asset lacks; remove only tags *we* pushed before that
    are no longer wanted (a tag someone else set is never touched)."""
    have = list(dict.fromkeys(current))
    want = list(dict.fromkeys(wanted))
    add = [tag for tag in want if tag not in have]
    remove = [tag for tag in dict.fromkeys(previously_pushed) if tag not in want and tag in have]
    return add, remove


def metadata_update(
    title: TitleRecord, asset: Asset, product: TitleProduct | None, as_of: datetime | date, *, lead_days: int
) -> MetadataUpdate:
    """What to PATCH on ``asset`` so it carries ``title``'s metadata and tags, and nothing stale of ours."""
    wanted = title_tags(title, product)
    previous = asset.metadata.get("title_tags") or []
    add, remove = tag_changes(asset.tags, previous if isinstance(previous, list) else [], wanted)
    metadata = title_metadata(title, product, as_of, lead_days=lead_days)
    metadata["title_tags"] = wanted
    return MetadataUpdate(metadata=metadata, tags_add=tuple(add), tags_remove=tuple(remove))


def push_version(title: TitleRecord, product: TitleProduct | None, as_of: datetime | date, *, lead_days: int) -> str:
    """The version of a push under which it is delivered once: the title's revision and its phase
    (a title entering its pre-publication window is pushed again)."""
    publication = product.publication_date if product is not None else title.first_publication_date
    return f"{title.revision}:{publication_phase(publication, as_of, lead_days).value}"


# =========================================================================== format pairing (CON-5)


class PairingRules(DomainModel):
    """Which roles stand for which format, which roles compete, and the timing and channels of a format.

    ``primary_roles``: the image that *is* a format's face (print jacket, ebook cover, audio
    thumbnail). ``singular_roles``: roles of which a title has one current asset per format
    (these, and only these, can be outdated). ``channels``: the Smint.io license distribution
    key each format is used on (for the rights gate). ``announce_days``: how long before
    publication marketing may use the assets (the pre-publication window).
    """

    primary_roles: dict[BookFormat, tuple[str, ...]] = Field(
        default_factory=lambda: {
            BookFormat.PRINT: ("jacket", "print_jacket"),
            BookFormat.EBOOK: ("cover", "ebook_cover"),
            BookFormat.AUDIO: ("audio_thumbnail", "audio_cover"),
        }
    )
    singular_roles: frozenset[str] = frozenset(
        {"jacket", "print_jacket", "cover", "ebook_cover", "audio_thumbnail", "audio_cover", "author_photo"}
    )
    channels: dict[BookFormat, str] = Field(
        default_factory=lambda: {BookFormat.PRINT: "print", BookFormat.EBOOK: "online", BookFormat.AUDIO: "online"}
    )
    announce_days: int = Field(default=90, ge=0)


class TitlePushSettings(DomainModel):
    """``include/config/title_metadata_push.yaml``: the pairing rules (roles per format, which roles
    compete, the channel of each format, the announcement window). The matching rule and the
    lead time are Params of the DAG (per run, from the form)."""

    pairing: PairingRules = Field(default_factory=PairingRules)


def asset_role(asset: Asset) -> str:
    """The asset's role for a title (``cover``, ``jacket``, ``author_photo``, ``promo`` ...):
    its ``asset_role`` metadata, else its first category, else ``other``."""
    role = asset.metadata.get("asset_role")
    if isinstance(role, str) and role.strip():
        return role.strip().lower()
    if asset.categories:
        return asset.categories[0].strip().lower()
    return "other"


def asset_format(asset: Asset, rules: PairingRules | None = None) -> BookFormat | None:
    """The format an asset is for: its own ``format`` metadata, else its role; ``None`` = any format."""
    rules = rules or PairingRules()
    stated = asset.metadata.get("format")
    if isinstance(stated, str) and stated.strip():
        found = FORMAT_ALIASES.get(re.sub(r"[\s\-]+", "_", stated.strip().lower()))
        if found is not None:
            return found
    role = asset_role(asset)
    for fmt, roles in rules.primary_roles.items():
        if role in roles:
            return fmt
    return None


class FormatPairing(DomainModel):
    """An asset paired with one edition of a title (or with the title as a whole: ``format=None``)."""

    format: BookFormat | None
    isbn: str | None = None
    product_id: str | None = None
    release_date: date | None = None
    announce_from: date | None = None


def pair_with_format(title: TitleRecord, asset: Asset, rules: PairingRules | None = None) -> FormatPairing | None:
    """The edition ``asset`` belongs to, with its release timing; ``None`` when the asset is for a
    format the title has no edition of (nothing to pair it with)."""
    rules = rules or PairingRules()
    fmt = asset_format(asset, rules)
    if fmt is None:
        release = title.first_publication_date
        return FormatPairing(
            format=None,
            release_date=release,
            announce_from=release - timedelta(days=rules.announce_days) if release else None,
        )
    product = title.product_for(fmt)
    if product is None:
        return None
    release = product.publication_date
    return FormatPairing(
        format=fmt,
        isbn=product.isbn,
        product_id=product.product_id,
        release_date=release,
        announce_from=release - timedelta(days=rules.announce_days) if release else None,
    )


def pairing_for_product(title: TitleRecord, product: TitleProduct, rules: PairingRules | None = None) -> FormatPairing:
    """The pairing with one named edition (an attachment on request names its ISBN)."""
    rules = rules or PairingRules()
    release = product.publication_date
    return FormatPairing(
        format=product.format,
        isbn=product.isbn,
        product_id=product.product_id,
        release_date=release,
        announce_from=release - timedelta(days=rules.announce_days) if release else None,
    )


# =========================================================================== rights (CON-1, CON-6)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _keys(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def _union(lists: Iterable[Sequence[str] | None]) -> list[str] | None:
    """Union of key lists; ``None`` (unknown) as soon as one list is unknown."""
    merged: dict[str, None] = {}
    for values in lists:
        if values is None:
            return None
        merged.update(dict.fromkeys(values))
    return list(merged)


def rights_summary(usage: UsageRights | None, *, license_version: int | None = None) -> dict[str, Any]:
    """The usage-rights summary attached to a title: license, terms, territories, channels, expiry.

    ``None`` in a list means the license does not say (unknown), never "anything goes".
    """
    if usage is None:
        return {"license": None, "known": False}
    terms = [
        {
            "term": term.sequence_number,
            "territories": _keys(term.allowed_geographies),
            "restricted_territories": _keys(term.restricted_geographies),
            "channels": _keys(term.allowed_distributions),
            "restricted_channels": _keys(term.restricted_distributions),
            "languages": _keys(term.allowed_languages),
            "usage_limits": _keys(term.usage_limits),
            "valid_from": _iso(term.valid_from),
            "valid_until": _iso(term.valid_until),
            "to_be_used_until": _iso(term.to_be_used_until),
            "editorial_use": term.is_editorial_use,
        }
        for term in usage.terms
    ]
    return {
        "license": usage.license_purchase_transaction_uuid,
        "license_version": license_version,
        "known": bool(usage.terms),
        "provider": usage.provider,
        "license_state": usage.license_state,
        "territories": _union(term.allowed_geographies for term in usage.terms) if usage.terms else None,
        "channels": _union(term.allowed_distributions for term in usage.terms) if usage.terms else None,
        "expires": _iso(rights.expiry(usage)),
        "usable_until": _iso(rights.usable_until(usage)),
        "editorial_only": usage.editorial_only,
        "max_downloads": usage.max_downloads,
        "max_users": usage.max_users,
        "max_reuses": usage.max_reuses,
        "terms": terms,
    }


def rights_gate(
    usage: UsageRights | None,
    title: TitleRecord,
    pairing: FormatPairing,
    as_of: datetime,
    rules: PairingRules | None = None,
    *,
    regions: rights.KeyCatalogue | None = None,
    asset_id: str | None = None,
) -> RightsDecision:
    """May the asset be attached to the title for this pairing?

    Every territory the edition is sold in (worldwide when the title states none) x the
    channel of each format concerned x the run's date and the release date when it is later:
    all must be allowed. One refusal refuses; otherwise anything undecidable is unknown.
    """
    rules = rules or PairingRules()
    if usage is None or not usage.terms:
        reason = Reason(code=ReasonCode.NO_LICENSE_TERMS, message="no license terms are known for the asset")
        return RightsDecision(verdict=Verdict.UNKNOWN, reasons=(reason,), asset_id=asset_id)
    as_of = as_utc(as_of)
    if pairing.format is not None:
        product = next((p for p in title.products if p.product_id == pairing.product_id), None)
        formats = [pairing.format]
    else:
        product = None
        formats = title.formats or [None]  # type: ignore[list-item]
    channels = sorted({rules.channels.get(fmt) for fmt in formats if fmt is not None} - {None}) or [None]  # type: ignore[arg-type]
    territories = title.territories_of(product) or ("worldwide",)
    dates = [as_of]
    if pairing.release_date is not None:
        release = datetime.combine(pairing.release_date, datetime.min.time(), tzinfo=UTC)
        if release > as_of:
            dates.append(release)
    refused: list[Reason] = []
    unknown: list[Reason] = []
    for on_date in dates:
        for territory in territories:
            for channel in channels:
                decision = rights.evaluate(
                    usage, IntendedUse(on_date=on_date, region=territory, channel=channel), regions
                )
                if decision.verdict is Verdict.REFUSED:
                    refused.extend(decision.reasons)
                elif decision.verdict is Verdict.UNKNOWN:
                    unknown.extend(decision.reasons)
    if refused:
        return RightsDecision(verdict=Verdict.REFUSED, reasons=_distinct(refused), asset_id=asset_id)
    if unknown:
        return RightsDecision(verdict=Verdict.UNKNOWN, reasons=_distinct(unknown), asset_id=asset_id)
    return RightsDecision(verdict=Verdict.ALLOWED, asset_id=asset_id)


def _distinct(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    seen: dict[tuple[str, str], Reason] = {}
    for reason in reasons:
        seen.setdefault((reason.code.value, reason.message), reason)
    return tuple(seen.values())


# =========================================================================== attachments (S -> C)


class Attachment(DomainModel):
    """What is attached to a title record: the asset, its pairing and release timing, its rights."""

    work_id: str
    asset_id: str
    asset_name: str | None = None
    role: str
    format: BookFormat | None = None
    isbn: str | None = None
    product_id: str | None = None
    release_date: date | None = None
    announce_from: date | None = None
    match_rule: str | None = None
    license: str | None = None
    rights: dict[str, Any] = Field(default_factory=dict)
    binaries: tuple[str, ...] = ()

    @property
    def slot(self) -> str:
        """The title-side target of the attachment: one per (title, format)."""
        return f"{self.work_id}:{self.format.value if self.format else 'all'}"

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def build_attachment(
    title: TitleRecord,
    asset: Asset,
    pairing: FormatPairing,
    usage: UsageRights | None,
    *,
    license_version: int | None = None,
    match_rule: str | None = None,
) -> Attachment:
    return Attachment(
        work_id=title.work_id,
        asset_id=asset.id,
        asset_name=asset.name,
        role=asset_role(asset),
        format=pairing.format,
        isbn=pairing.isbn,
        product_id=pairing.product_id,
        release_date=pairing.release_date,
        announce_from=pairing.announce_from,
        match_rule=match_rule,
        license=asset.license_purchase_transaction_uuid,
        rights=rights_summary(usage, license_version=license_version),
        binaries=tuple(f"{b.id}@{b.version or 1}:{b.sha256 or ''}" for b in sorted(asset.binaries, key=lambda b: b.id)),
    )


_PRINT_RUN = re.compile(r"print_run_(\d+)")


def usage_rights_record(attachment: Attachment) -> dict[str, Any]:
    """The usage-rights summary as the title record keeps it (CON-1, CON-6): one readable line,
    the license, its end, territories and channels, the editions it is cleared for and the
    print run its terms allow (the smallest ``print_run_<n>`` usage limit; ``None`` = not stated)."""
    summary = attachment.rights
    if not summary.get("known"):
        line = "No license terms known"
    else:
        territories = ", ".join(summary.get("territories") or []) if summary.get("territories") is not None else "?"
        channels = ", ".join(summary.get("channels") or []) if summary.get("channels") is not None else "?"
        until = (summary.get("expires") or "")[:10] or "no end date"
        provider = summary.get("provider") or "licensed"
        line = (
            f"{provider} license {summary.get('license')}: territories {territories}; "
            f"channels {channels}; until {until}"
        )
    runs = [
        int(match.group(1))
        for term in summary.get("terms") or []
        for limit in term.get("usage_limits") or []
        if (match := _PRINT_RUN.fullmatch(str(limit)))
    ]
    edition = (
        f"{attachment.format.value} {attachment.isbn}" if attachment.format and attachment.isbn else "all editions"
    )
    return {
        "summary": line,
        "license_reference": summary.get("license"),
        "valid_until": summary.get("expires"),
        "territories": list(summary.get("territories") or []),
        "channels": list(summary.get("channels") or []),
        "editions": [edition],
        "print_run": min(runs) if runs else None,
    }


def resource_reference(asset_id: str) -> str:
    """Our reference of an asset attached to a title: stable across asset versions, so a new
    version updates the same supporting resource instead of adding a second one."""
    return f"smintio-asset-{asset_id}"


def pairing_reference(attachment: Attachment, rules: PairingRules | None = None) -> str:
    """Our reference of a format pairing: one per role of a singular role (a new jacket replaces
    the old one's pairing), one per asset otherwise (several promo graphics)."""
    rules = rules or PairingRules()
    if attachment.role in rules.singular_roles:
        return f"smintio-{attachment.role}"
    return f"smintio-{attachment.role}-{attachment.asset_id}"


def attachment_version(attachment: Attachment) -> str:
    """A content version: a changed file, license, pairing or release date is a new version (an
    update of the attachment); a metadata change on the asset alone is not."""
    body = attachment.model_dump(mode="json", exclude={"asset_name"})
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:16]


# =========================================================================== matching


class MatchRule(StrEnum):
    """How an asset is found to belong to a title."""

    ISBN = "isbn"
    TITLE_REF = "title_ref"
    LEDGER_XREF = "ledger_xref"


DEFAULT_MATCH_RULES: tuple[MatchRule, ...] = (MatchRule.ISBN, MatchRule.TITLE_REF, MatchRule.LEDGER_XREF)


def parse_match_rules(value: str | Sequence[str] | None) -> tuple[MatchRule, ...]:
    """``"isbn,title_ref"`` or ``["isbn", "ledger_xref"]`` -> rules in that order (duplicates dropped).

    ``None`` gives the default order; an empty or unknown rule is an error (a typo must not
    silently match nothing).
    """
    if value is None:
        return DEFAULT_MATCH_RULES
    items = [part.strip() for part in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    items = [item for item in items if item]
    if not items:
        raise ValueError("at least one matching rule is needed: " + ", ".join(r.value for r in MatchRule))
    rules: list[MatchRule] = []
    for item in items:
        try:
            rule = MatchRule(item.lower())
        except ValueError:
            raise ValueError(
                f"unknown matching rule {item!r}; known: {', '.join(r.value for r in MatchRule)}"
            ) from None
        if rule not in rules:
            rules.append(rule)
    return tuple(rules)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def asset_isbns(asset: Asset) -> set[str]:
    """The valid ISBNs an asset carries: metadata ``isbn`` / ``isbns`` and ``isbn:`` tags."""
    found = _strings(asset.metadata.get("isbn")) + _strings(asset.metadata.get("isbns"))
    found += [tag.split(":", 1)[1] for tag in asset.tags if tag.lower().startswith("isbn:")]
    return {isbn for value in found if (isbn := normalize_isbn(value))}


def asset_title_refs(asset: Asset) -> set[str]:
    """The title references an asset carries: ``consonance_work_id`` / ``title_ref`` metadata, ``title-ref:`` tags."""
    found = _strings(asset.metadata.get("consonance_work_id")) + _strings(asset.metadata.get("title_ref"))
    found += [tag.split(":", 1)[1] for tag in asset.tags if tag.lower().startswith("title-ref:")]
    return {ref.strip() for ref in found if ref.strip()}


@dataclass(frozen=True)
class AssetMatch:
    """An asset found for a title, by which rule, and (for an ISBN match) the edition it named."""

    asset: Asset
    rule: MatchRule
    product: TitleProduct | None = None


def match_assets(
    title: TitleRecord,
    assets: Iterable[Asset],
    rules: Sequence[MatchRule] = DEFAULT_MATCH_RULES,
    *,
    xref_asset_ids: Collection[str] = (),
) -> list[AssetMatch]:
    """The assets of ``title``, each attributed to the first rule (in ``rules`` order) that matches it.

    ``xref_asset_ids`` are the assets the ledger cross-references with the title (looked up by
    the caller, so this stays pure).
    """
    isbns = set(title.isbns)
    refs = title.refs
    xrefs = set(xref_asset_ids)
    matches: list[AssetMatch] = []
    for asset in assets:
        for rule in rules:
            if rule is MatchRule.ISBN:
                hit = sorted(asset_isbns(asset) & isbns)
                if hit:
                    matches.append(AssetMatch(asset, rule, title.product_by_isbn(hit[0])))
                    break
            elif rule is MatchRule.TITLE_REF:
                if asset_title_refs(asset) & refs:
                    matches.append(AssetMatch(asset, rule))
                    break
            elif rule is MatchRule.LEDGER_XREF and asset.id in xrefs:
                matches.append(AssetMatch(asset, rule))
                break
    return matches


# =========================================================================== latest vs outdated (CON-8)


def _edition(asset: Asset) -> int:
    for key in ("edition_number", "edition"):
        value = asset.metadata.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return 0


def generation(asset: Asset) -> tuple[int, float, int, str]:
    """How new an asset is within its slot: edition, then creation time, then version (id breaks ties)."""
    created = asset.created_at.timestamp() if asset.created_at else float("-inf")
    return (_edition(asset), created, asset.version, asset.id)


@dataclass(frozen=True)
class Refresh:
    """What a revised title surfaces: the latest approved asset per slot, and the outdated ones
    (asset id -> the asset that supersedes it)."""

    latest: tuple[str, ...]
    outdated: dict[str, str]


def select_latest(
    assets: Iterable[Asset], rules: PairingRules | None = None, *, formats: Collection[BookFormat] | None = None
) -> Refresh:
    """Among approved assets of singular roles, per (role, format) slot: the newest is the latest,
    the other approved ones are outdated. Nothing else is ever outdated.

    ``formats`` limits the refresh to the slots of those formats (a repackaged paperback leaves
    the ebook cover alone); slots of no particular format (the author photo) always take part.
    """
    rules = rules or PairingRules()
    slots: dict[tuple[str, BookFormat | None], list[Asset]] = {}
    for asset in assets:
        if asset.approval_status is not ApprovalStatus.APPROVED or asset.is_derivative:
            continue
        role = asset_role(asset)
        if role not in rules.singular_roles:
            continue
        fmt = asset_format(asset, rules)
        if formats is not None and fmt is not None and fmt not in formats:
            continue
        slots.setdefault((role, fmt), []).append(asset)
    latest: list[str] = []
    outdated: dict[str, str] = {}
    for members in slots.values():
        members.sort(key=generation)
        newest = members[-1]
        latest.append(newest.id)
        for older in members[:-1]:
            outdated[older.id] = newest.id
    return Refresh(latest=tuple(sorted(latest)), outdated=dict(sorted(outdated.items())))


# =========================================================================== from Consonance


def title_from_mapping(raw: Mapping[str, Any]) -> TitleRecord:
    """A :class:`TitleRecord` from a plain mapping of its neutral fields (tests, manual input).

    Raises :class:`TitleMappingError` with the reason when the record is unusable.
    """
    from pydantic import ValidationError

    try:
        return TitleRecord.model_validate(raw)
    except ValidationError as exc:
        raise TitleMappingError(f"invalid title: {exc.errors()[0].get('loc')}: {exc.errors()[0].get('msg')}") from None


def valid_products(products: Iterable[TitleProduct]) -> list[TitleProduct]:
    """Products whose ISBN is valid (normalised) or absent; an invalid ISBN makes the title unusable."""
    result: list[TitleProduct] = []
    for product in products:
        if product.isbn is None:
            result.append(product)
            continue
        isbn = normalize_isbn(product.isbn)
        if isbn is None:
            raise TitleMappingError(f"product {product.product_id} has an invalid ISBN {product.isbn!r}")
        result.append(product.model_copy(update={"isbn": isbn}))
    return result


def _field(model: Any, *names: str) -> Any:
    """A field of a partner model by its Python name, else an unmodelled extra by its wire name."""
    fields = getattr(type(model), "model_fields", {})
    extra = getattr(model, "model_extra", None) or {}
    for name in names:
        value = getattr(model, name, None) if name in fields else extra.get(name)
        if value not in (None, "", []):
            return value
    return None


def _strings_of(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in re.split(r"[,\s]+", value) if part.strip())
    return tuple(str(v).strip() for v in value if v is not None and str(v).strip())


def _milestones(value: Any) -> tuple[Milestone, ...]:
    milestones: list[Milestone] = []
    for item in value or []:
        if not isinstance(item, Mapping):
            raise TitleMappingError(f"campaign milestone is not an object: {item!r}")
        name = _text(item.get("name") or item.get("milestone") or item.get("kind"))
        on = _date(item.get("date") or item.get("on") or item.get("milestoneDate"))
        if name is None or on is None:
            raise TitleMappingError(f"campaign milestone without a name or a date: {dict(item)!r}")
        milestones.append(Milestone(name=name, on=on))
    return tuple(milestones)


def _content_revision(record: TitleRecord) -> str:
    """A revision derived from what the title says (not from Consonance's update stamp, which
    also moves when we attach resources to the title and would make every run a new revision)."""
    body = record.model_dump(mode="json", exclude={"revision", "updated_at"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def title_from_work(work: Any, *, as_of: datetime | date | None = None) -> TitleRecord:
    """The neutral :class:`TitleRecord` of a Consonance work (``contentops.models.consonance.Work``).

    Formats come from each product's type (or ONIX form); the publication date is the actual
    one, else the planned one; the revision kind is the latest lifecycle event on or before
    ``as_of`` (``new`` when there is none); the print delivery is the first production run's
    delivery date, an edition's ``rrp_gbp`` its GBP consumer price (both public fields).
    Unmodelled extras are read when present: ``territories`` / ``salesTerritories`` (work or
    product), ``campaign``, ``campaignMilestones`` / ``milestones`` ([{name, date}]). Raises
    :class:`TitleMappingError` with the reason for a title that cannot be used.
    """
    if not _text(getattr(work, "title", None)):
        raise TitleMappingError(f"work {getattr(work, 'id', '?')} has no title")
    products: list[TitleProduct] = []
    for product in getattr(work, "products", None) or []:
        family = getattr(getattr(product, "format", None), "value", None)
        fmt = FORMAT_ALIASES.get(family) if family else None
        if fmt is None:
            fmt = format_of(
                getattr(getattr(product, "product_type", None), "value", None), product.onix21_product_form_code
            )
        in_house = product.in_house_edition.name if product.in_house_edition else None
        products.append(
            TitleProduct(
                product_id=str(product.id),
                isbn=product.isbn13,
                format=fmt,
                product_type=getattr(getattr(product, "product_type", None), "value", None),
                product_form=product.onix21_product_form_code,
                publication_date=product.effective_publication_date,
                publishing_status=product.onix_publishing_status_code,
                edition=product.edition_statement or in_house,
                territories=_strings_of(_field(product, "territories", "salesTerritories")),
                rrp_gbp=getattr(product, "rrp_gbp", None),
            )
        )
    products = valid_products(products)
    deliveries = [r.delivery_date for r in getattr(work, "production_runs", None) or [] if r.delivery_date]
    contributors = []
    for contribution in getattr(work, "contributions", None) or []:
        person = contribution.contributor
        name = None
        if person is not None:
            name = _text(person.name) or _text(person.person_name) or _text(person.organisation_name)
        if name is None:
            continue
        role = contribution.onix_contributor_role
        contributors.append(
            Contributor(
                name=name,
                role=contribution.onix_contributor_role_code,
                role_name=role.description if role else None,
                sequence=contribution.sequence_number or 0,
            )
        )
    imprint = work.imprint.name if getattr(work, "imprint", None) else None
    if imprint is None:
        imprint = next((p.imprint.name for p in work.products if getattr(p, "imprint", None)), None)
    today = _day(as_of) if as_of is not None else None
    events = [e for e in getattr(work, "lifecycle_events", None) or [] if today is None or e.event_date <= today]
    latest = max(events, key=lambda e: e.event_date) if events else None
    revision_formats: tuple[BookFormat, ...] = ()
    named: set[str] = set()
    if latest is not None and latest.product_ids:
        named = {str(pid) for pid in latest.product_ids}
        revision_formats = tuple(
            sorted({p.format for p in products if p.product_id in named and p.format}, key=list(BookFormat).index)
        )
    record = TitleRecord(
        work_id=str(work.id),
        revision="-",
        title=work.title.strip(),
        subtitle=_text(work.subtitle),
        reference=_text(_field(work, "in_house_work_reference", "inHouseWorkReference", "reference")),
        contributors=tuple(contributors),
        imprint=imprint,
        subjects=tuple(
            Subject(code=s.code, description=s.description, scheme=str(_field(s, "scheme") or "BISAC").upper())
            for s in work.subject_codes
        ),
        campaign=_text(_field(work, "campaign", "campaignName")),
        milestones=_milestones(_field(work, "campaign_milestones", "campaignMilestones", "milestones")),
        products=tuple(products),
        territories=_strings_of(_field(work, "territories", "salesTerritories")),
        edition_number=getattr(work, "edition_number", None),
        revision_kind=RevisionKind(latest.kind.value.lower()) if latest else RevisionKind.NEW,
        revision_date=latest.event_date if latest else None,
        revision_formats=revision_formats,
        revision_product_ids=tuple(sorted(named)),
        print_delivery=min(deliveries) if deliveries else None,
        updated_at=getattr(work, "updated_at", None),
    )
    return record.model_copy(update={"revision": _content_revision(record)})


# =========================================================================== attach targets (CON-3)


class AttachTarget(StrEnum):
    """What an approved asset is attached to on request: the title record (and the edition its
    ISBN names), a manuscript, or a production task of the title's schedule."""

    TITLE = "title"
    MANUSCRIPT = "manuscript"
    PRODUCTION_TASK = "production_task"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: Smint.io-side requests: metadata key and tag prefix naming a Consonance target per kind
ATTACH_REQUEST_KEYS: dict[AttachTarget, tuple[str, str]] = {
    AttachTarget.PRODUCTION_TASK: ("consonance_task", "consonance-task:"),
    AttachTarget.MANUSCRIPT: ("consonance_manuscript", "consonance-manuscript:"),
}


def parse_attach_target(value: object) -> AttachTarget:
    """The form's target kind; empty means the title (what the form did before it had a choice)."""
    text = str(value or "").strip().lower() or AttachTarget.TITLE.value
    try:
        return AttachTarget(text)
    except ValueError:
        allowed = ", ".join(t.value for t in AttachTarget)
        raise ValueError(f"unknown attach target {value!r} (one of {allowed})") from None


def asset_attach_requests(asset: Asset) -> list[tuple[AttachTarget, str]]:
    """The Consonance production tasks and manuscripts an editor asked (in Smint.io) to attach the
    asset to: ``consonance_task`` / ``consonance_manuscript`` metadata (one id or a list) and
    ``consonance-task:<id>`` / ``consonance-manuscript:<id>`` tags; each target once, in that order."""
    found: dict[tuple[AttachTarget, str], None] = {}
    for kind, (key, prefix) in ATTACH_REQUEST_KEYS.items():
        ids = _strings(asset.metadata.get(key))
        ids += [tag[len(prefix) :] for tag in asset.tags if tag.lower().startswith(prefix)]
        for target_id in ids:
            if target_id.strip():
                found.setdefault((kind, target_id.strip()), None)
    return list(found)


def attach_target_ledger(kind: AttachTarget, target_id: str) -> str:
    """The ledger target of an asset attached to a manuscript or production task
    (``consonance_manuscript:<id>``, ``consonance_production_task:<id>``): not ``consonance:…``,
    which names a title record (the rights sweep records license terms on those)."""
    return f"consonance_{kind.value}:{target_id}"
