"""One license feed page made ready for the index: validated, assessed, its rows made — pure.

Run by the license index sync in the task's process (:mod:`contentops.pipelines.licenses`) and by
its page worker (:mod:`contentops.pipelines.page_worker`), a process that never imports Airflow:
the same function both ways, so a page comes out the same wherever it was prepared. Nothing here
writes: the sync stores a prepared page (quarantine, rows, findings, cursor) in the task's process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contentops import rights
from contentops.ledger import LicenseRow, RightsJson
from contentops.models.domain import UsageRights
from contentops.models.smintio import LicensePurchaseTransaction
from contentops.models.smintio_feed import parse_transaction_page
from contentops.pipelines.sweep_findings import assessment_key, sweep_finding

__all__ = ["Assess", "PreparedPage", "license_row", "prepare_page", "sweep_assessment"]

#: one license's rights -> (the assessment's name, its finding); see :func:`sweep_assessment`
Assess = Callable[[UsageRights], tuple[str | None, dict[str, Any] | None]]


def license_row(lpt: LicensePurchaseTransaction, assess: Assess | None = None) -> LicenseRow:
    """The index row of one transaction: its neutral rights and their expiry (and, with ``assess``,
    the sweep's finding on them, made from the same rights before they are stored)."""
    usage = UsageRights.from_lpt(lpt)
    element = lpt.content_element
    assessed_for, finding = assess(usage) if assess is not None else (None, None)
    return LicenseRow(
        lpt_uuid=lpt.uuid,
        asset_id=element.uuid if element and element.uuid else lpt.uuid,
        provider=element.provider if element else None,
        version=lpt.version,
        expires_at=rights.expiry(usage),
        rights=RightsJson(usage.model_dump_json()),
        assessed_for=assessed_for,
        finding=finding,
    )


@dataclass(frozen=True)
class PreparedPage:
    """One feed page validated and assessed, not stored yet: its index rows, its malformed
    records (each with the reason it failed validation) and its cursor. Made by
    :func:`prepare_page` (in the task's process or the page worker), stored by
    :func:`contentops.pipelines.licenses.store_prepared_page` (always in the task's process)."""

    requested: str | None  # the cursor the page was asked for with: where its records can be read again
    continuation_uuid: str | None
    rows: list[LicenseRow] = field(default_factory=list)
    malformed: list[tuple[str, Any]] = field(default_factory=list)
    skipped: int = 0


def prepare_page(raw_page: Any, requested: str | None, assess: Assess | None = None) -> PreparedPage:
    """Validate one page (as the hook read it) and make its index rows — with the sweep's
    finding on each when ``assess`` is given. Pure: no ledger, no Airflow (the page worker runs it)."""
    malformed: list[tuple[str, Any]] = []
    page = parse_transaction_page(raw_page, on_invalid=lambda reason, raw: malformed.append((reason, raw)))
    rows = [license_row(lpt, assess) for lpt in page.transactions]
    return PreparedPage(requested, page.continuation_uuid, rows, malformed, page.skipped)


def sweep_assessment(as_of: datetime, horizon_days: int) -> Assess:
    """The rights expiry sweep's assessment of one license's rights as of ``as_of`` over
    ``horizon_days``: what the sync stores with each row when the sweep asks for it."""
    key = assessment_key(as_of, horizon_days)
    return lambda usage: (key, sweep_finding(usage, as_of, horizon_days))
