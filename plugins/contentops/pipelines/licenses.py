"""Keep the ledger's license index in step with Smint.io's license purchase transaction feed.

The feed is incremental (changes since a ``continuation_uuid``); the index holds the latest
rights of every license seen, with its expiry. The cursor is stored with each page's rows,
in the same transaction, so a run that dies mid-feed resumes at the first unprocessed page and
nothing is skipped nor half-written; a page processed twice only rewrites the same rows.

A record the feed serves malformed is quarantined with a reference a person can read — its
uuid, or (when the uuid itself is what is missing) its cart and content element — and the feed
page it came from. Moving the cursor past that page must not make the record unreachable: every
sync first re-reads the pages that still hold quarantined records, takes in each record that
now validates (unless the index already holds a newer version of it) and resolves its
quarantine row; a record still malformed stays quarantined.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from contentops.models.smintio import LicensePurchaseTransaction
from contentops.models.smintio_feed import page_value
from contentops.pipelines.collector import quiet_collector
from contentops.pipelines.license_pages import PreparedPage, license_row, prepare_page, sweep_assessment
from contentops.pipelines.overlap import read_ahead as read_ahead_of
from contentops.pipelines.page_worker import PAGE_WORKER_AFTER, Job, PageWorker
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem

log = logging.getLogger(__name__)

#: the quarantine kind of a malformed feed record
QUARANTINE_KIND = "license_purchase_transaction"
_FEED_PAGE = re.compile(r"^(?P<identity>.+) \(feed page (?P<cursor>\S+) of (?P<limit>\d+)\)$")
_START = "start"
#: where the index's own repairs are recorded
LICENSE_INDEX = TargetSystem.SMINTIO.of("license_index")
#: feed pages fetched ahead of the one being processed (each up to ~0.5 MB as served)
READ_AHEAD_PAGES = 4


def cursor_name(conn_id: str) -> str:
    """The ledger cursor of one connection's feed, named like a target
    (``smintio:<conn>:license_purchase_transactions``)."""
    return str(TargetSystem.SMINTIO.of(conn_id, "license_purchase_transactions"))


def record_identity(raw: Any) -> str:
    """Who a feed record is, as far as its payload tells: its uuid, else its cart and content
    element (what a person needs to find the license in Smint.io)."""
    if not isinstance(raw, dict):
        return "unidentified record"
    if raw.get("uuid"):
        return str(raw["uuid"])
    element = raw.get("content_element")
    parts = [
        f"cart {raw['cart_purchase_transaction_uuid']}" if raw.get("cart_purchase_transaction_uuid") else "",
        f"content element {element['uuid']}" if isinstance(element, dict) and element.get("uuid") else "",
    ]
    return " ".join(part for part in parts if part) or "unidentified record"


def feed_ref(raw: Any, page_cursor: str | None, page_size: int) -> str:
    """The quarantine reference of a malformed record: who it is and the feed page it came from."""
    return f"{record_identity(raw)} (feed page {page_cursor or _START} of {page_size})"


def _identities(lpt: LicensePurchaseTransaction) -> set[str]:
    return {lpt.uuid, record_identity(lpt.model_dump(mode="json", exclude={"uuid"}))}


def sync_license_index(
    run: PipelineRun,
    *,
    page_size: int = 100,
    max_pages: int | None = None,
    assess_horizon_days: int | None = None,
    read_ahead: bool = True,
    page_worker_after: int | None = PAGE_WORKER_AFTER,
) -> dict[str, Any]:
    """Pull every change since the stored cursor into the index; returns counts (small, for XCom).

    Quarantined records of earlier pages are looked at again first (:func:`heal_quarantined`).

    The next page is fetched while the previous one is validated and stored
    (:func:`contentops.pipelines.overlap.read_ahead`, ``read_ahead=False`` does one after the
    other): under the partner's rate ceiling that work then costs no time of its own. A feed
    longer than ``page_worker_after`` pages has its further pages validated and assessed by a
    process of its own on another core (:mod:`contentops.pipelines.page_worker`: one interpreter
    cannot page, validate and assess at a ceiling of 50 requests a second); ``None`` keeps it all
    in the task's process. Either way this process stores every page, in feed order, each with
    its cursor (:func:`store_prepared_page`), and an error reading the feed is raised after the
    pages read before it are stored; an error storing a page stops the feed at once.

    ``assess_horizon_days`` (the rights expiry sweep's sync) also makes the sweep's assessment of
    each license as of the run's end (:func:`contentops.pipelines.sweep_findings.sweep_finding`) and
    stores it with the rights, so it happens while the feed is paged; the sweep's assessment step
    then only reads it."""
    if page_worker_after is not None and page_worker_after < 1:
        raise ValueError(f"page_worker_after must be 1 or more, or None (no page worker); got {page_worker_after}")
    smintio = run.hook("smintio")
    name = cursor_name(smintio.conn_id)
    start = run.ledger.get_cursor(name)
    counts: Counter[str] = Counter(heal_quarantined(run))
    requested = start  # the cursor of the page being read: where a quarantined record can be read again
    as_of = run.window.end
    assess = sweep_assessment(as_of, assess_horizon_days) if assess_horizon_days is not None else None

    def raw_pages() -> Iterator[Any]:
        for number, raw_page in enumerate(smintio.iter_raw_transaction_pages(start, limit=page_size), 1):
            yield raw_page
            if max_pages is not None and number >= max_pages:
                return  # no request beyond the last page asked for, read ahead or not

    def store(page: PreparedPage) -> None:
        counts.update(store_prepared_page(run, name, page, page_size=page_size))

    pages = read_ahead_of(raw_pages, depth=READ_AHEAD_PAGES, name="license-feed") if read_ahead else raw_pages()
    job = Job(as_of, assess_horizon_days) if read_ahead and page_worker_after is not None else None
    worker: PageWorker | None = None
    # No full collector pass while the pages come and go (see :mod:`.collector`): they rescanned
    # the ~250,000 objects Airflow keeps alive and cost about a third of each page's CPU.
    with quiet_collector():
        try:
            numbered = enumerate(pages, 1)
            feed_error: Exception | None = None
            while True:
                try:
                    number, raw_page = next(numbered)
                except StopIteration:
                    break
                except Exception as exc:  # the feed failed: the pages read before it are still stored
                    feed_error = exc
                    break
                if worker is not None and not _started(worker):
                    worker, job = None, None  # this process prepares the rest, as without one
                if worker is not None and worker.ready():
                    for prepared in worker.send(requested, raw_page):
                        store(prepared)
                else:
                    store(prepare_page(raw_page, requested, assess))
                requested = page_value(raw_page, "continuation_uuid") or requested
                more = bool(page_value(raw_page, "count"))  # the feed's last page is an empty one
                if job is not None and worker is None and number == page_worker_after and more:
                    worker = PageWorker(job)  # it starts while this process goes on preparing pages
            if worker is not None:
                for prepared in worker.finish():
                    store(prepared)
                log.info(
                    "The page worker prepared %d of the feed's %d pages (its peak RSS %s MB)",
                    worker.pages_prepared,
                    counts["pages"],
                    worker.peak_rss_mb,
                )
            if feed_error is not None:
                raise feed_error
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
            if worker is not None:
                worker.stop()
    return {**counts, "cursor_start": start, "cursor_end": run.ledger.get_cursor(name)}


def store_prepared_page(run: PipelineRun, cursor: str, page: PreparedPage, *, page_size: int) -> dict[str, int]:
    """Store one prepared page: its malformed records quarantined with a reference to the page,
    then its rows (with their findings) and the cursor past it in one transaction: both or
    neither. Its counts (indexed, skipped, quarantined, pages)."""
    for reason, raw in page.malformed:
        run.quarantine("smintio", QUARANTINE_KIND, reason, raw, ref=feed_ref(raw, page.requested, page_size))
    moved = (cursor, page.continuation_uuid) if page.continuation_uuid else None
    indexed = 0
    if page.rows or moved:  # rows, findings and cursor in one transaction: both or neither
        indexed = run.ledger.store_license_page(page.rows, run_id=run.run_id, cursor=moved)
    return {"indexed": indexed, "skipped": page.skipped, "quarantined": len(page.malformed), "pages": 1}


def _started(worker: PageWorker) -> bool:
    """False for a worker that could not start: logged and closed down (the task's process then
    prepares every page, as it does without one); True while it starts and once it takes pages."""
    try:
        worker.ready()
    except Exception as exc:
        log.warning("The license page worker could not start (%s): this process prepares the pages", exc)
        worker.stop()
        return False
    return True


def heal_quarantined(
    run: PipelineRun, *, only: int | None = None, on_still_malformed: Callable[[int, str], None] | None = None
) -> dict[str, int]:
    """Re-read each feed page that still holds quarantined records; take in what now validates.

    One request per page. A record is taken in only if the index holds no newer version of it
    (an old page must never roll a license back), and its quarantine row is resolved; a record
    still served malformed keeps its row. Rows without a feed position (written before the
    position was recorded) are left for a person to resolve.

    ``only`` limits this to one quarantine row (an operator's replay); ``on_still_malformed``
    hears, per row that stays, why the feed still serves its record malformed.
    """
    smintio = run.hook("smintio")
    open_rows: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for row in run.ledger.quarantined(source="smintio"):
        if only is not None and row.id != only:
            continue
        found = _FEED_PAGE.match(row.ref or "") if row.kind == QUARANTINE_KIND else None
        if found:
            position = (found["cursor"], int(found["limit"]))
            open_rows.setdefault(position, []).append((row.id, found["identity"]))
    counts: Counter[str] = Counter()
    for (cursor, limit), rows in open_rows.items():
        page, still_malformed = _read_page_again(smintio, cursor, limit)
        if page is None:
            continue
        newer = [lpt for lpt in page.transactions if _newer_than_indexed(run, lpt)]
        run.ledger.upsert_licenses([license_row(lpt) for lpt in newer], run_id=run.run_id)
        valid = set().union(*(_identities(lpt) for lpt in page.transactions))
        malformed = {record_identity(raw): reason for reason, raw in still_malformed}
        for quarantine_id, identity in rows:
            taken_in = identity in valid or (not still_malformed and identity not in malformed)
            if taken_in and run.ledger.resolve_quarantine(
                quarantine_id, f"served valid again by run {run.run_id}: taken into the license index"
            ):
                counts["healed"] += 1
                run.record(identity, LICENSE_INDEX, "healed", "a quarantined license record now validates")
            elif not taken_in and on_still_malformed is not None:
                on_still_malformed(quarantine_id, malformed.get(identity, "not served on its feed page any more"))
    return dict(counts)


def _read_page_again(smintio: Any, cursor: str, limit: int) -> tuple[Any, list[tuple[str, Any]]]:
    """The one feed page at ``cursor`` (parsed) and the records on it that are still malformed,
    each with the reason it fails validation."""
    still_malformed: list[tuple[str, Any]] = []
    pages = smintio.iter_transaction_pages(
        None if cursor == _START else cursor,
        limit=limit,
        on_invalid=lambda reason, raw: still_malformed.append((reason, raw)),
    )
    page = next(iter(pages), None)
    pages.close()
    return page, still_malformed


def _newer_than_indexed(run: PipelineRun, lpt: LicensePurchaseTransaction) -> bool:
    indexed = run.ledger.license(lpt.uuid)
    return indexed is None or (indexed.version or 0) < (lpt.version or 0)
