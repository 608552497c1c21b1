"""What a title writes on its Smint.io assets: metadata keys and searchable tags (CON-4, CON-7).

The tags we pushed are remembered on the asset (metadata ``title_tags``), so a later revision
removes exactly the tags it no longer wants and never a tag someone else set.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from contentops.mapping.titles.fields import TitleFieldMapping
from contentops.mapping.titles.identifiers import slug
from contentops.mapping.titles.phase import PublicationPhase, publication_phase
from contentops.mapping.titles.records import TitleProduct, TitleRecord
from contentops.models.common import DomainModel
from contentops.models.smintio import Asset


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


def _phase(
    title: TitleRecord, product: TitleProduct | None, as_of: datetime | date, lead_days: int
) -> PublicationPhase:
    """The phase that decides what is pushed: of the paired edition, else of the first edition."""
    publication = product.publication_date if product is not None else title.first_publication_date
    return publication_phase(publication, as_of, lead_days)


def title_metadata(
    title: TitleRecord,
    product: TitleProduct | None,
    as_of: datetime | date,
    *,
    lead_days: int,
    fields: TitleFieldMapping | None = None,
) -> dict[str, Any]:
    """The metadata keys a title writes on an asset paired with ``product`` (``None`` = the whole title).

    Which field goes under which key is ``fields`` (the shipped mapping when ``None``). JSON-safe
    values only. Keys that describe one edition (``format``, ``isbn``, ``publication_date``) are
    written only for an asset paired with one, so the asset's own statement of its format is
    never overwritten with another edition's.
    """
    return (fields or TitleFieldMapping()).metadata(title, product, _phase(title, product, as_of, lead_days))


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
    title: TitleRecord,
    asset: Asset,
    product: TitleProduct | None,
    as_of: datetime | date,
    *,
    lead_days: int,
    fields: TitleFieldMapping | None = None,
) -> MetadataUpdate:
    """What to PATCH on ``asset`` so it carries ``title``'s metadata and tags, and nothing stale of ours."""
    wanted = title_tags(title, product)
    previous = asset.metadata.get("title_tags") or []
    add, remove = tag_changes(asset.tags, previous if isinstance(previous, list) else [], wanted)
    metadata = title_metadata(title, product, as_of, lead_days=lead_days, fields=fields)
    metadata["title_tags"] = wanted
    return MetadataUpdate(metadata=metadata, tags_add=tuple(add), tags_remove=tuple(remove))


def push_version(
    title: TitleRecord,
    product: TitleProduct | None,
    as_of: datetime | date,
    *,
    lead_days: int,
    fields: TitleFieldMapping | None = None,
) -> str:
    """The version of a push under which it is delivered once: the title's revision and its phase
    (a title entering its pre-publication window is pushed again), and the field mapping when it
    is not the shipped one (a changed mapping is pushed again)."""
    version = f"{title.revision}:{_phase(title, product, as_of, lead_days).value}"
    tag = (fields or TitleFieldMapping()).version_tag
    return f"{version}:{tag}" if tag else version
