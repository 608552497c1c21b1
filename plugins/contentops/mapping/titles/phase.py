"""Publication phase: where a title stands on a day relative to its publication date.

Part of what is pushed, so a title nearing publication is pushed again (CON-4).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from contentops.mapping.titles.records import TitleRecord
from contentops.models.common import as_utc


class PublicationPhase(StrEnum):
    """Where a title stands on a given day relative to its (first) publication date."""

    UNSCHEDULED = "unscheduled"
    ANNOUNCED = "announced"
    PREPUBLICATION = "prepublication"
    PUBLISHED = "published"


def day_of(as_of: datetime | date) -> date:
    return as_utc(as_of).date() if isinstance(as_of, datetime) else as_of


def publication_phase(publication_date: date | None, as_of: datetime | date, lead_days: int) -> PublicationPhase:
    """``prepublication`` from ``lead_days`` before the publication date, ``published`` from that day on."""
    if publication_date is None:
        return PublicationPhase.UNSCHEDULED
    today = day_of(as_of)
    if today >= publication_date:
        return PublicationPhase.PUBLISHED
    if today >= publication_date - timedelta(days=lead_days):
        return PublicationPhase.PREPUBLICATION
    return PublicationPhase.ANNOUNCED


def approaching_publication(title: TitleRecord, as_of: datetime | date, lead_days: int) -> bool:
    """Does an edition publish within ``lead_days`` after ``as_of`` (the day itself included)?"""
    today = day_of(as_of)
    return any(
        p.publication_date is not None and today <= p.publication_date <= today + timedelta(days=lead_days)
        for p in title.products
    )
