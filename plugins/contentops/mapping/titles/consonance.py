"""From Consonance: the neutral :class:`~contentops.mapping.titles.records.TitleRecord` of a work.

Raises :class:`~contentops.mapping.titles.records.TitleMappingError` with the reason for a title
that cannot be used, so the pipeline quarantines it instead of half-writing it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from contentops.mapping.titles.identifiers import normalize_isbn
from contentops.mapping.titles.phase import day_of
from contentops.mapping.titles.records import (
    FORMAT_ALIASES,
    BookFormat,
    Contributor,
    Milestone,
    RevisionKind,
    Subject,
    TitleMappingError,
    TitleProduct,
    TitleRecord,
    clean_text,
    format_of,
    parse_date,
)


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
        name = clean_text(item.get("name") or item.get("milestone") or item.get("kind"))
        on = parse_date(item.get("date") or item.get("on") or item.get("milestoneDate"))
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
    if not clean_text(getattr(work, "title", None)):
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
            name = clean_text(person.name) or clean_text(person.person_name) or clean_text(person.organisation_name)
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
    today = day_of(as_of) if as_of is not None else None
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
        subtitle=clean_text(work.subtitle),
        reference=clean_text(_field(work, "in_house_work_reference", "inHouseWorkReference", "reference")),
        contributors=tuple(contributors),
        imprint=imprint,
        subjects=tuple(
            Subject(code=s.code, description=s.description, scheme=str(_field(s, "scheme") or "BISAC").upper())
            for s in work.subject_codes
        ),
        campaign=clean_text(_field(work, "campaign", "campaignName")),
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
