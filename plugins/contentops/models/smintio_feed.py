"""The license purchase transaction feed's pages: read, validated and parsed without Airflow.

:class:`contentops.hooks.smintio.SmintioHook` fetches the pages; what a page *is* lives here, so
the license index sync's page worker (:mod:`contentops.pipelines.page_worker`), a process of
its own that never imports Airflow, validates a page exactly as the hook's own
:meth:`~contentops.hooks.smintio.SmintioHook.parse_transaction_page` does.

A page is read in two steps. The fetching side reads only its head (count and cursor: what it
needs to ask for the next page) and keeps the bytes (:func:`decode_transaction_page`); whoever
processes the page validates it (:func:`parse_transaction_page`): in one pass from the bytes
when every record validates, else record by record, each malformed record handed to
``on_invalid`` (quarantine) and the rest kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError

from contentops.models.common import OnInvalid, validated_or_skipped
from contentops.models.smintio import LicensePurchaseTransaction, SyncLicensePurchaseTransactionQueryResult

__all__ = [
    "PageBytes",
    "PageHead",
    "TransactionPage",
    "ValidatedPage",
    "decode_transaction_page",
    "page_value",
    "parse_transaction_page",
    "validate_page",
]


class ValidatedPage(SyncLicensePurchaseTransactionQueryResult):
    """A feed page whose every record validated: what the fast path makes of a page."""

    license_purchase_transactions: list[LicensePurchaseTransaction] = Field(default_factory=list)  # type: ignore[assignment]


class PageHead(BaseModel):
    """What the feed's reader needs of a page to ask for the next one: its count and cursor."""

    model_config = ConfigDict(extra="ignore")

    count: NonNegativeInt
    continuation_uuid: str | None = None


@dataclass(frozen=True)
class PageBytes:
    """A feed page as it came, with its head read: validated later, by whoever processes it."""

    head: PageHead
    content: bytes


@dataclass(frozen=True)
class TransactionPage:
    """One page of the license purchase transaction feed, parsed.

    ``continuation_uuid`` is the cursor to store once the page's items are processed.
    """

    continuation_uuid: str | None
    transactions: list[LicensePurchaseTransaction] = field(default_factory=list)
    skipped: int = 0
    invalid: int = 0
    raw_count: int = 0


def decode_transaction_page(response: Any) -> Any:
    """A feed page for the reader: its head (count, cursor) read from the bytes — pydantic's
    parser skips the records without making Python objects of them, ~1 ms for a page of 100 —
    and the bytes kept for :func:`parse_transaction_page`. So a reader running ahead asks for
    the next page as soon as one arrives, and the page's validation runs beside the next request
    instead of before it. A page whose head does not read comes decoded."""
    try:
        return PageBytes(PageHead.model_validate_json(response.content), response.content)
    except ValidationError:
        return response.json()


def validate_page(raw_page: Any) -> Any:
    """A page whose every record validates: in one pass from its bytes (pydantic's parser, no
    Python objects of the JSON in between), about half the CPU of decoding and then validating
    each record; any other page as its decoded JSON, validated record by record."""
    if not isinstance(raw_page, PageBytes):
        return raw_page
    try:
        return ValidatedPage.model_validate_json(raw_page.content)
    except ValidationError:
        return json.loads(raw_page.content)


def page_value(page: Any, name: str) -> Any:
    """``count`` / ``continuation_uuid`` of a page, validated, as read by the reader, or decoded."""
    if isinstance(page, ValidatedPage):
        return getattr(page, name)
    if isinstance(page, PageBytes):
        return getattr(page.head, name)
    return (page or {}).get(name)


def parse_transaction_page(raw_page: Any, *, on_invalid: OnInvalid | None = None) -> TransactionPage:
    """One feed page (as :func:`decode_transaction_page` left it, or decoded JSON), validated.

    A record that fails validation is handed to ``on_invalid`` (quarantine) and skipped (logged,
    without a callback). Records whose ``can_be_synced`` is not ``true`` (false, or missing: the
    public .NET core reads a missing value as "no", and a license we do not know we may sync is
    not synced) and records without a content element are skipped."""
    raw_page = validate_page(raw_page)
    if isinstance(raw_page, ValidatedPage):  # every record validated already (the fast path)
        valid = raw_page.license_purchase_transactions
        synced = [lpt for lpt in valid if lpt.can_be_synced is True and lpt.content_element is not None]
        return TransactionPage(raw_page.continuation_uuid, synced, len(valid) - len(synced), 0, len(valid))
    page = SyncLicensePurchaseTransactionQueryResult.model_validate(raw_page)
    parsed: list[LicensePurchaseTransaction] = []
    skipped = invalid = 0
    for item in page.license_purchase_transactions:
        lpt = validated_or_skipped(
            LicensePurchaseTransaction, item, "license purchase transaction", on_invalid, system="smintio"
        )
        if lpt is None:
            invalid += 1
            continue
        if lpt.can_be_synced is not True or lpt.content_element is None:
            skipped += 1
            continue
        parsed.append(lpt)
    return TransactionPage(page.continuation_uuid, parsed, skipped, invalid, len(page.license_purchase_transactions))
