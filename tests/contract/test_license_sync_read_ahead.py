"""The license index sync reads the feed ahead and (for the rights sweep) assesses each page as
it stores it; against the Smint.io sandbox, the outcome is the one the sequential way leaves —
same index, cursor, quarantine, findings and workflows asked for — and an error on either side
stops the feed and surfaces with nothing half-written."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contentops.hooks.errors import PartnerServerError
from contentops.hooks.smintio import SmintioHook
from contentops.ledger import Ledger, LicenseRow
from contentops.ledger.schema import licenses
from contentops.pipelines import licenses as licenses_module
from contentops.pipelines import rights_sweep
from contentops.pipelines.license_pages import prepare_page, sweep_assessment
from contentops.pipelines.licenses import cursor_name, sync_license_index
from contentops.pipelines.page_worker import Job, PageWorker, PageWorkerError
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.sweep_findings import assessment_key
from contentops.pipelines.window import RunWindow
from contentops_sandbox.connections import smintio_connection

pytestmark = pytest.mark.contract

SEEDED = 240  # 20 of each license situation
PAGE = 10
HORIZON = 30
END = datetime(2026, 11, 24, 3, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes a fresh, empty ledger database per call — SQLite files, or PostgreSQL databases
    (dropped after the test)."""
    made: list[str] = []
    admin = None
    if request.param == "postgresql":
        admin = sa.create_engine(request.getfixturevalue("pg_server"), isolation_level="AUTOCOMMIT")

    def make() -> str:
        name = f"contentops_test_{uuid.uuid4().hex[:12]}"
        made.append(name)
        if admin is None:
            return f"sqlite:///{tmp_path / f'{name}.sqlite'}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return admin.url.set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in made:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def feed(
    sandbox: Callable[..., Any],
    token_store: Callable[[str], Any],
    new_ledger_url: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., tuple[PipelineRun, Any]]]:
    """A sweep run on the test's Smint.io sandbox (its faults set afresh, so a seeded fault
    falls on the same records again) with a ledger of its own (SQLite, and PostgreSQL)."""
    running = sandbox("smintio", options={"seeded_transactions": SEEDED})
    conn = smintio_connection(running.url, backoff_initial=0.01, backoff_max=0.05, max_attempts=3)
    monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(conn))
    tokens = token_store("smintio")  # shared: each refresh spends the token the last one left
    ledgers: list[Ledger] = []

    def start(ledger_class: type[Ledger] = Ledger, **faults: Any) -> tuple[PipelineRun, Any]:
        running.set_faults(**faults)
        ledger = ledger_class(new_ledger_url())
        ledger.migrate()
        ledgers.append(ledger)
        run = PipelineRun(
            "rights_expiry_sweep",
            "scheduled__2026-11-24",
            RunWindow(END - timedelta(days=1), END),
            {"horizon_days": HORIZON},
            ledger=ledger,
        )
        run._hooks["smintio"] = SmintioHook(refresh_token_store=tokens)
        return run, running

    yield start
    for ledger in ledgers:  # its connections closed before its database is dropped
        ledger.dispose()


def index_of(ledger: Ledger) -> list[tuple[Any, ...]]:
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(licenses).order_by(licenses.c.lpt_uuid)).mappings().all()
    return [
        (r["lpt_uuid"], r["asset_id"], r["provider"], r["version"], r["expires_at"], json.dumps(r["rights"]))
        for r in rows
    ]


def cursor_of(run: PipelineRun) -> str | None:
    return run.ledger.get_cursor(cursor_name(run.hook("smintio").conn_id))


def outcome(run: PipelineRun) -> dict[str, Any]:
    """What the sweep leaves and decides: index, cursor, quarantine, findings, workflows to start."""
    decided = rights_sweep.assess(run, horizon_days=HORIZON)
    audit = [
        (entry.subject, entry.action, json.dumps(entry.details, sort_keys=True))
        for entry in run.ledger.audit_trail(run_id=run.run_id, pipeline=run.dag_id)
    ]
    affected, counts = rights_sweep.assess_licenses(run, horizon_days=HORIZON)
    return {
        "index": index_of(run.ledger),
        "cursor": cursor_of(run),
        "quarantine": sorted((q.reason, q.ref or "") for q in run.ledger.quarantined(source="smintio")),
        "findings": affected,
        "reviewed": counts["licenses_reviewed"],
        "decided": decided,
        "audit": sorted(audit),
    }


def test_read_ahead_with_assessment_leaves_what_the_sequential_sync_leaves(
    feed: Callable[..., tuple[PipelineRun, Any]],
) -> None:
    sequential, _ = feed(malformed_rate=0.1, seed=3)
    synced_sequential = sync_license_index(sequential, page_size=PAGE, read_ahead=False)
    overlapped, _ = feed(malformed_rate=0.1, seed=3)
    synced_overlapped = sync_license_index(overlapped, page_size=PAGE, assess_horizon_days=HORIZON)

    assert synced_overlapped == synced_sequential
    assert synced_overlapped["quarantined"] > 0 and synced_overlapped["pages"] == SEEDED // PAGE + 1
    # the overlapped sync stored the sweep's finding with every license it wrote ...
    with overlapped.ledger.engine.connect() as conn:
        keys = set(conn.execute(sa.select(licenses.c.assessed_for)).scalars())
    assert keys == {assessment_key(END, HORIZON)}
    # ... and the sweep decides exactly as after the sequential sync, which assessed nothing yet
    expected = outcome(sequential)
    assert expected["findings"] and expected["decided"]["batches"]
    assert outcome(overlapped) == expected


def test_a_license_rewritten_without_assessment_is_assessed_again(
    feed: Callable[..., tuple[PipelineRun, Any]],
) -> None:
    run, _ = feed()
    sync_license_index(run, page_size=PAGE, assess_horizon_days=HORIZON)
    before, _ = rights_sweep.assess_licenses(run, horizon_days=HORIZON)
    uuid = next(iter(before))
    indexed = run.ledger.license(uuid)
    assert indexed is not None and indexed.finding is not None
    # another DAG's sync rewrites it with other rights: no stale finding survives
    rights = {**indexed.rights, "terms": []}
    run.ledger.upsert_licenses(
        [LicenseRow(uuid, indexed.asset_id, indexed.provider, (indexed.version or 1) + 1, None, rights)],
        run_id="other",
    )
    rewritten = run.ledger.license(uuid)
    assert rewritten is not None and rewritten.assessed_for is None and rewritten.finding is None
    after, _ = rights_sweep.assess_licenses(run, horizon_days=HORIZON)
    assert after.get(uuid) != before[uuid]
    # and a different horizon is a different assessment: every license is assessed afresh
    wider, _ = rights_sweep.assess_licenses(run, horizon_days=HORIZON + 300)
    assert len(wider) >= len(after)


class FailingLedger(Ledger):
    """A ledger whose third page write fails (a database that went away mid-sync)."""

    writes = 0

    def store_license_page(
        self, rows: list[Any], *, run_id: str | None = None, cursor: tuple[str, str | None] | None = None
    ) -> int:
        type(self).writes += 1
        if type(self).writes == 3:
            raise sa.exc.OperationalError("INSERT INTO co_licenses", {}, Exception("database is locked"))
        return super().store_license_page(rows, run_id=run_id, cursor=cursor)


def test_an_error_storing_a_page_stops_the_feed_and_surfaces(feed: Callable[..., tuple[PipelineRun, Any]]) -> None:
    run, running = feed(FailingLedger)
    FailingLedger.writes = 0
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        sync_license_index(run, page_size=PAGE, assess_horizon_days=HORIZON)
    # the feed thread is gone, and it stopped reading within the read-ahead bound
    assert not [t for t in threading.enumerate() if t.name == "license-feed" and t.is_alive()]
    feed_requests = sum(n for route, n in running.context.stats.by_route.items() if "/consumer/v1/" in route)
    assert feed_requests < SEEDED // PAGE  # nowhere near the whole feed
    # nothing half-written: the two pages before the failure are stored with their cursor, nothing after
    clean, _ = feed()
    two_pages = sync_license_index(clean, page_size=PAGE, read_ahead=False, max_pages=2)
    assert index_of(run.ledger) == index_of(clean.ledger)
    stored = cursor_of(run)
    assert stored is not None and stored == two_pages["cursor_end"]
    # a re-run resumes there and ends where an undisturbed sync ends
    FailingLedger.writes = 10
    resumed = sync_license_index(run, page_size=PAGE, assess_horizon_days=HORIZON)
    assert resumed["cursor_start"] == stored
    sync_license_index(clean, page_size=PAGE, read_ahead=False)
    assert index_of(run.ledger) == index_of(clean.ledger)


def test_an_error_reading_the_feed_surfaces_and_writes_nothing(feed: Callable[..., tuple[PipelineRun, Any]]) -> None:
    run, _ = feed(fail_next=[503] * 12)
    with pytest.raises(PartnerServerError):
        sync_license_index(run, page_size=PAGE, assess_horizon_days=HORIZON)
    assert index_of(run.ledger) == [] and cursor_of(run) is None
    assert not [t for t in threading.enumerate() if t.name == "license-feed" and t.is_alive()]


def test_a_failure_between_a_pages_rows_and_its_cursor_leaves_neither(
    feed: Callable[..., tuple[PipelineRun, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    run, _ = feed()
    store = run.ledger.cursor_store
    set_cursor = store.set_cursor
    pages_written = 0

    def cursor_fails_on_the_third_page(name: str, value: str | None, *, conn: Any = None) -> None:
        nonlocal pages_written
        if name == cursor_of_name(run):
            pages_written += 1
            if pages_written == 3:  # the third page's rows are written in this transaction already
                raise sa.exc.OperationalError("INSERT INTO co_cursors", {}, Exception("disk I/O error"))
        set_cursor(name, value, conn=conn)

    monkeypatch.setattr(store, "set_cursor", cursor_fails_on_the_third_page)
    with pytest.raises(sa.exc.OperationalError, match="disk I/O error"):
        sync_license_index(run, page_size=PAGE, assess_horizon_days=HORIZON)
    # the third page's rows went with its cursor: exactly the first two pages are stored
    clean, _ = feed()
    two_pages = sync_license_index(clean, page_size=PAGE, read_ahead=False, max_pages=2)
    assert two_pages["indexed"] > 0
    assert index_of(run.ledger) == index_of(clean.ledger)
    assert cursor_of(run) == two_pages["cursor_end"]


def cursor_of_name(run: PipelineRun) -> str:
    return cursor_name(run.hook("smintio").conn_id)


# -- the page worker: a process of its own storing the pages once the feed is long ------------------

SLOW_PAGE = 5  # 49 pages: long enough to act on the worker while it stores


def worker_pids() -> list[int]:
    """This test process's page workers (its children running the worker module)."""
    pids = []
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"contentops.pipelines.page_worker" in cmdline:
                pids.append(int(pid))
    return pids


def rows_in(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(licenses)).scalar_one()


def set_latency(running: Any, latency_ms: int) -> None:
    """The sandbox's latency from now on, its other faults (and their random stream) left as they are."""
    faults = running.context.faults
    faults.settings = faults.settings.model_copy(update={"latency_ms": latency_ms})


class OnceTheWorkerIsReady(logging.Handler):
    """When the sync logs that its page worker is ready (from then on every page goes through it),
    runs ``at_ready`` at once and then, in a watcher thread, ``action`` once ``rows_after`` more
    rows are in the index: pages the worker prepared. So a test acts on the worker whatever the
    machine's speed, instead of at a moment it guessed."""

    def __init__(
        self, ledger: Ledger, *, at_ready: Callable[[], None], rows_after: int = 0, action: Callable[[], None]
    ) -> None:
        super().__init__(logging.INFO)
        self.ledger, self.at_ready, self.rows_after, self.action = ledger, at_ready, rows_after, action
        self.watcher: threading.Thread | None = None
        self.acted = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.watcher is not None or not record.getMessage().startswith("License page worker ready"):
            return
        self.at_ready()
        wanted = rows_in(self.ledger) + self.rows_after
        self.watcher = threading.Thread(target=self._watch, args=(wanted,), name="test-watcher", daemon=True)
        self.watcher.start()

    def _watch(self, wanted: int) -> None:
        deadline = time.monotonic() + 60
        while rows_in(self.ledger) < wanted and time.monotonic() < deadline:
            time.sleep(0.005)
        self.action()
        self.acted = True

    def __enter__(self) -> OnceTheWorkerIsReady:
        logger = logging.getLogger("contentops.pipelines.page_worker")
        self.level_before = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logger = logging.getLogger("contentops.pipelines.page_worker")
        logger.removeHandler(self)
        logger.setLevel(self.level_before)
        if self.watcher is not None:
            self.watcher.join()


def assert_stored_up_to_its_cursor(feed: Callable[..., tuple[PipelineRun, Any]], run: PipelineRun) -> None:
    """Nothing half-written: the index holds exactly the feed's pages up to the stored cursor, as a
    clean sync stopping at that cursor holds them (paged one page at a time until it gets there)."""
    stored = cursor_of(run)
    clean, _ = feed()
    for _ in range(SEEDED):
        if cursor_of(clean) == stored:
            assert index_of(run.ledger) == index_of(clean.ledger)
            return
        sync_license_index(clean, page_size=SLOW_PAGE, read_ahead=False, max_pages=1)
    raise AssertionError(f"the stored cursor {stored!r} is not where a page of the feed ends")


def test_pages_the_worker_stores_leave_what_the_task_process_leaves(
    feed: Callable[..., tuple[PipelineRun, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    in_process, _ = feed(malformed_rate=0.1, seed=3)
    expected_counts = sync_license_index(
        in_process, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=None
    )
    # a slow feed until the worker is ready, however long it takes to start; then at full speed
    by_worker, running = feed(malformed_rate=0.1, seed=3, latency_ms=200)
    caplog.set_level(logging.INFO)
    ready = OnceTheWorkerIsReady(by_worker.ledger, at_ready=lambda: set_latency(running, 0), action=lambda: None)
    with ready:
        counts = sync_license_index(by_worker, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=2)

    assert ready.acted
    by_the_worker = [r.getMessage() for r in caplog.records if "page worker prepared" in r.getMessage()]
    assert len(by_the_worker) == 1 and not by_the_worker[0].startswith("The page worker prepared 0 ")
    assert counts == expected_counts and counts["quarantined"] > 0
    # the records the worker found malformed are quarantined by this process, with their page
    assert any(r.getMessage().startswith("Quarantined license_purchase_transaction") for r in caplog.records)
    assert outcome(by_worker) == outcome(in_process)
    assert worker_pids() == []


def test_a_killed_worker_fails_the_sync_and_a_rerun_resumes_after_its_pages(
    feed: Callable[..., tuple[PipelineRun, Any]],
) -> None:
    run, running = feed(latency_ms=200)
    killed: list[int] = []

    def kill_the_worker() -> None:
        for pid in worker_pids():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    # killed once it has prepared two pages that are stored
    ready = OnceTheWorkerIsReady(
        run.ledger, at_ready=lambda: set_latency(running, 60), rows_after=2 * SLOW_PAGE, action=kill_the_worker
    )
    with ready, pytest.raises(PageWorkerError, match="was killed by signal 9 after"):
        sync_license_index(run, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=2)
    assert killed and worker_pids() == []
    assert_stored_up_to_its_cursor(feed, run)
    # the re-run resumes at the stored cursor and ends where an undisturbed sync ends
    stored = cursor_of(run)
    run.ledger.dispose()
    rerun, _ = feed()
    rerun.ledger, rerun_ledger = run.ledger, rerun.ledger  # the same database as the killed run
    rerun_ledger.dispose()
    resumed = sync_license_index(rerun, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=2)
    assert resumed["cursor_start"] == stored
    whole, _ = feed()
    sync_license_index(whole, page_size=SLOW_PAGE, read_ahead=False)
    assert index_of(rerun.ledger) == index_of(whole.ledger)


def fail_index_writes_from(ledger: Ledger, rows: int) -> None:
    """The database refuses every license written once the index holds ``rows`` rows (a full
    disk, as the database reports it): a trigger, so any process writing there hits it."""
    message = "injected: no space left for the ledger"
    with ledger.engine.begin() as conn:
        if ledger.engine.dialect.name == "sqlite":
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_licenses BEFORE INSERT ON co_licenses "
                    f"WHEN (SELECT count(*) FROM co_licenses) >= {rows} "
                    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
            )
        else:
            conn.execute(
                sa.text(
                    "CREATE FUNCTION refuse_licenses() RETURNS trigger AS $$ BEGIN "
                    f"IF (SELECT count(*) FROM co_licenses) >= {rows} THEN RAISE EXCEPTION '{message}'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_licenses BEFORE INSERT ON co_licenses "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_licenses()"
                )
            )


def test_a_page_that_cannot_be_stored_stops_the_feed_and_the_worker(
    feed: Callable[..., tuple[PipelineRun, Any]],
) -> None:
    run, running = feed(latency_ms=200)
    ready = OnceTheWorkerIsReady(
        run.ledger,
        at_ready=lambda: set_latency(running, 20),
        rows_after=2 * SLOW_PAGE,  # the database fills up once the worker's pages are coming in
        action=lambda: fail_index_writes_from(run.ledger, rows_in(run.ledger)),
    )
    with ready, pytest.raises(sa.exc.DBAPIError, match="injected: no space left for the ledger"):
        sync_license_index(run, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=2)
    assert ready.acted and worker_pids() == []
    assert not [t for t in threading.enumerate() if t.name == "license-feed" and t.is_alive()]
    assert_stored_up_to_its_cursor(feed, run)  # whole pages only: the refused one left nothing


#: a horizon no date can reach (``timedelta`` stops at 999,999,999 days): assessing fails
UNREACHABLE_HORIZON = 10**9


def test_an_error_in_the_worker_is_raised_in_the_task_as_itself(feed: Callable[..., tuple[PipelineRun, Any]]) -> None:
    """The worker's own error (here: an assessment over a horizon no date can reach) reaches the
    task as the same exception, so its retry policy sees what it would see in one process; the
    worker's part is in a note. A worker that cannot even start says so through ``ready``."""
    run, _ = feed()
    page = next(iter(run.hook("smintio").iter_raw_transaction_pages(None, limit=SLOW_PAGE)))
    with pytest.raises(OverflowError) as in_one_process:
        prepare_page(page, None, sweep_assessment(END, UNREACHABLE_HORIZON))
    worker = PageWorker(Job(END, UNREACHABLE_HORIZON))
    try:
        while not worker.ready():
            time.sleep(0.01)
        with pytest.raises(OverflowError) as raised:
            worker.send(None, page)
            worker.finish()
    finally:
        worker.stop()
    assert str(raised.value) == str(in_one_process.value)
    assert any(f"in the license page worker (pid {worker.pid})" in note for note in raised.value.__notes__)

    cannot_start = PageWorker(Job(END, "thirty"))  # type: ignore[arg-type]
    try:
        with pytest.raises(ValueError, match="thirty"):
            while not cannot_start.ready():
                time.sleep(0.01)
    finally:
        cannot_start.stop()
    assert worker_pids() == []


def test_a_feed_error_after_the_worker_took_over_surfaces_after_the_pages_sent_are_stored(
    feed: Callable[..., tuple[PipelineRun, Any]],
) -> None:
    run, running = feed(latency_ms=200)
    ready = OnceTheWorkerIsReady(
        run.ledger,
        at_ready=lambda: set_latency(running, 60),
        rows_after=2 * SLOW_PAGE,
        action=lambda: running.set_faults(fail_next=[503] * 12),
    )
    with ready, pytest.raises(PartnerServerError):
        sync_license_index(run, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=2)
    assert ready.acted and worker_pids() == []
    assert not [t for t in threading.enumerate() if t.name == "license-feed" and t.is_alive()]
    assert_stored_up_to_its_cursor(feed, run)


class WorkerThatCannotStart:
    """Stands in for a page worker whose process could not start (its interpreter missing, the
    machine out of processes): ``ready`` raises what the real one raises then."""

    stopped = 0

    def __init__(self, job: Job) -> None:
        self.job = job

    def ready(self) -> bool:
        raise PageWorkerError("the license page worker (pid 0) exited with status 1 after 0 pages")

    def stop(self) -> None:
        type(self).stopped += 1


def test_a_worker_that_cannot_start_leaves_every_page_to_the_task(
    feed: Callable[..., tuple[PipelineRun, Any]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected_run, _ = feed(malformed_rate=0.1, seed=3)
    expected = sync_license_index(
        expected_run, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=None
    )
    run, _ = feed(malformed_rate=0.1, seed=3)
    monkeypatch.setattr(licenses_module, "PageWorker", WorkerThatCannotStart)
    WorkerThatCannotStart.stopped = 0
    synced = sync_license_index(run, page_size=SLOW_PAGE, assess_horizon_days=HORIZON, page_worker_after=2)
    assert synced == expected and WorkerThatCannotStart.stopped == 1
    assert any("could not start" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    assert outcome(run) == outcome(expected_run)
    with pytest.raises(ValueError, match="page_worker_after must be 1 or more"):
        sync_license_index(run, page_worker_after=0)
