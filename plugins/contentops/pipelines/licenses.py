"""Keep the ledger's license index in step with Smint.io's license purchase transaction feed.

The feed is incremental (changes since a ``continuation_uuid``); the index holds the latest
rights of every license seen, with its expiry. The cursor is stored after each page is in
the index, so a run that dies mid-feed resumes at the first unprocessed page and nothing is
skipped; a page processed twice only rewrites the same rows.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from contentops import rights
from contentops.ledger import LicenseRow
from contentops.models.domain import UsageRights
from contentops.models.smintio import LicensePurchaseTransaction
from contentops.pipelines.runtime import PipelineRun


def cursor_name(conn_id: str) -> str:
    return f"smintio:{conn_id}:license_purchase_transactions"


def license_row(lpt: LicensePurchaseTransaction) -> LicenseRow:
    """The index row of one transaction: its neutral rights and their expiry."""
    usage = UsageRights.from_lpt(lpt)
    element = lpt.content_element
    return LicenseRow(
        lpt_uuid=lpt.uuid,
        asset_id=element.uuid if element and element.uuid else lpt.uuid,
        provider=element.provider if element else None,
        version=lpt.version,
        expires_at=rights.expiry(usage),
        rights=usage.model_dump(mode="json"),
    )


def sync_license_index(run: PipelineRun, *, page_size: int = 100, max_pages: int | None = None) -> dict[str, Any]:
    """Pull every change since the stored cursor into the index; returns counts (small, for XCom)."""
    smintio = run.hook("smintio")
    name = cursor_name(smintio.conn_id)
    start = run.ledger.get_cursor(name)
    counts: Counter[str] = Counter()
    on_invalid = run.quarantine_callback("smintio", "license_purchase_transaction")
    for page in smintio.iter_transaction_pages(start, limit=page_size, on_invalid=on_invalid):
        counts["indexed"] += run.ledger.upsert_licenses(
            [license_row(lpt) for lpt in page.transactions], run_id=run.run_id
        )
        counts["skipped"] += page.skipped
        counts["quarantined"] += page.invalid
        counts["pages"] += 1
        if page.continuation_uuid:
            run.ledger.set_cursor(name, page.continuation_uuid)
        if max_pages is not None and counts["pages"] >= max_pages:
            break
    return {**counts, "cursor_start": start, "cursor_end": run.ledger.get_cursor(name)}
