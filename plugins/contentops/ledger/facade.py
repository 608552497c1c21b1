"""The :class:`Ledger`: one object over the ledger's stores, as pipelines and hooks use it.

Each store owns its tables and queries (:mod:`.xrefs`, :mod:`.deliveries`, :mod:`.cursors`,
:mod:`.licenses`, :mod:`.quarantine`, :mod:`.processes`, :mod:`.audit`); the ledger composes
them over one database and keeps the method names callers have always used. Its docstrings are
the stores' own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from contentops.ledger.audit import AuditStore
from contentops.ledger.cursors import CursorStore
from contentops.ledger.database import LedgerDatabase
from contentops.ledger.deliveries import DeliveryStore
from contentops.ledger.holds import HoldRecord, HoldStore
from contentops.ledger.licenses import LicenseIndex, ReviewCounts
from contentops.ledger.migrations import read_version, upgrade
from contentops.ledger.processes import ProcessStore
from contentops.ledger.quarantine import QuarantineStore
from contentops.ledger.records import (
    DEFAULT_CLAIM_LEASE,
    AuditRecord,
    DeliveryPlan,
    DeliveryRecord,
    LicenseRow,
    ProcessRecord,
    QuarantineRecord,
)
from contentops.ledger.xrefs import XrefStore


class Ledger:
    """The ledger at a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``)."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.db = LedgerDatabase(url, engine=engine)
        self.url = url
        self.engine = self.db.engine
        self.xref_store = XrefStore(self.db)
        self.delivery_store = DeliveryStore(self.db)
        self.cursor_store = CursorStore(self.db)
        self.license_index = LicenseIndex(self.db)
        self.quarantine_store = QuarantineStore(self.db)
        self.process_store = ProcessStore(self.db)
        self.audit_store = AuditStore(self.db)
        self.hold_store = HoldStore(self.db)

    def __repr__(self) -> str:
        return f"Ledger({self.db.describe()})"

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.db.transaction() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # -- schema -----------------------------------------------------------------------
    def schema_version(self) -> int:
        """The schema version (Alembic revision number) of this ledger; 0 where there is none.
        Reads only: the connection test relies on it."""
        with self.engine.connect() as conn:
            return read_version(conn)

    def migrate(self, target: int | None = None) -> int:
        """Create or upgrade the schema to ``target`` (default: the latest) with the Alembic
        revisions shipped in the package; returns the version. See
        :mod:`contentops.ledger.migrations`."""
        return upgrade(self.engine, target)

    # -- cross-references --------------------------------------------------------------
    def link(
        self, entity: str, system_a: str, id_a: str, system_b: str, id_b: str, meta: dict[str, Any] | None = None
    ) -> None:
        self.xref_store.link(entity, system_a, id_a, system_b, id_b, meta)

    def lookup(self, entity: str, system_a: str, id_a: str, system_b: str) -> str | None:
        return self.xref_store.lookup(entity, system_a, id_a, system_b)

    def lookup_reverse(self, entity: str, system_b: str, id_b: str, system_a: str) -> list[str]:
        return self.xref_store.lookup_reverse(entity, system_b, id_b, system_a)

    # -- deliveries --------------------------------------------------------------------
    def plan(self, pipeline: str, asset_id: str, version: str | int, target: str) -> DeliveryPlan:
        return self.delivery_store.plan(pipeline, asset_id, version, target)

    def begin(self, plan: DeliveryPlan, *, run_id: str | None = None, license_ref: str | None = None) -> bool:
        return self.delivery_store.begin(plan, run_id=run_id, license_ref=license_ref)

    def complete(
        self, key: str, remote_id: str, details: dict[str, Any] | None = None, *, license_ref: str | None = None
    ) -> None:
        self.delivery_store.complete(key, remote_id, details, license_ref=license_ref)

    def fail(self, key: str, error: str) -> None:
        self.delivery_store.fail(key, error)

    def withdraw(self, pipeline: str, asset_id: str, target: str, reason: str, *, run_id: str | None = None) -> bool:
        return self.delivery_store.withdraw(pipeline, asset_id, target, reason, run_id=run_id)

    def restore(self, pipeline: str, asset_id: str, target: str, reason: str, *, run_id: str | None = None) -> bool:
        return self.delivery_store.restore(pipeline, asset_id, target, reason, run_id=run_id)

    def deliveries(
        self,
        *,
        asset_id: str | None = None,
        pipeline: str | None = None,
        target_prefix: str | None = None,
        status: str | None = None,
    ) -> list[DeliveryRecord]:
        return self.delivery_store.deliveries(
            asset_id=asset_id, pipeline=pipeline, target_prefix=target_prefix, status=status
        )

    def where_did_it_go(self, asset_id: str) -> list[DeliveryRecord]:
        return self.delivery_store.where_did_it_go(asset_id)

    def effects(self, *, asset_id: str | None = None, run_id: str | None = None) -> list[dict[str, Any]]:
        return self.delivery_store.effects(asset_id=asset_id, run_id=run_id)

    # -- cursors -----------------------------------------------------------------------
    def get_cursor(self, name: str) -> str | None:
        return self.cursor_store.get_cursor(name)

    def set_cursor(self, name: str, value: str | None) -> None:
        self.cursor_store.set_cursor(name, value)

    # -- license index -----------------------------------------------------------------
    def upsert_licenses(self, rows: list[LicenseRow], *, run_id: str | None = None) -> int:
        return self.license_index.upsert_licenses(rows, run_id=run_id)

    def store_license_page(
        self, rows: list[LicenseRow], *, run_id: str | None = None, cursor: tuple[str, str | None] | None = None
    ) -> int:
        """One feed page into the index in one transaction: its rows (with their findings) and,
        when ``cursor`` (name, value) is given, the feed cursor past the page — both or neither,
        so a failure between them never leaves rows stored whose page a re-run would skip, nor a
        cursor past rows that are not there (and one commit a page instead of two). Returns the
        count of rows."""
        with self._tx() as conn:
            count = self.license_index.upsert_licenses(rows, run_id=run_id, conn=conn) if rows else 0
            if cursor is not None:
                self.cursor_store.set_cursor(*cursor, conn=conn)
        return count

    def license(self, lpt_uuid: str) -> LicenseRow | None:
        return self.license_index.license(lpt_uuid)

    def licenses_for_asset(self, asset_id: str) -> list[LicenseRow]:
        return self.license_index.licenses_for_asset(asset_id)

    def iter_licenses_to_review(
        self,
        *,
        expiring_before: datetime,
        changed_in_run: str | None = None,
        changed_since: datetime | None = None,
        assessed_for: str | None = None,
        providers: list[str] | None = None,
        not_assessed_for: str | None = None,
        batch: int = 1000,
    ) -> Iterator[LicenseRow]:
        return self.license_index.iter_licenses_to_review(
            expiring_before=expiring_before,
            changed_in_run=changed_in_run,
            changed_since=changed_since,
            assessed_for=assessed_for,
            providers=providers,
            not_assessed_for=not_assessed_for,
            batch=batch,
        )

    def count_licenses_to_review(
        self,
        *,
        expiring_before: datetime,
        changed_in_run: str | None = None,
        changed_since: datetime | None = None,
        providers: list[str] | None = None,
        assessed_for: str | None = None,
    ) -> ReviewCounts:
        return self.license_index.count_licenses_to_review(
            expiring_before=expiring_before,
            changed_in_run=changed_in_run,
            changed_since=changed_since,
            providers=providers,
            assessed_for=assessed_for,
        )

    def iter_findings(
        self,
        *,
        expiring_before: datetime,
        assessed_for: str,
        changed_in_run: str | None = None,
        changed_since: datetime | None = None,
        providers: list[str] | None = None,
        batch: int = 5000,
    ) -> Iterator[tuple[str, int | None, dict[str, Any]]]:
        return self.license_index.iter_findings(
            expiring_before=expiring_before,
            assessed_for=assessed_for,
            changed_in_run=changed_in_run,
            changed_since=changed_since,
            providers=providers,
            batch=batch,
        )

    def count_licenses(self) -> int:
        return self.license_index.count_licenses()

    # -- quarantine --------------------------------------------------------------------
    def quarantine(
        self, source: str, kind: str, reason: str, raw: Any, *, run_id: str | None = None, ref: str | None = None
    ) -> int:
        return self.quarantine_store.quarantine(source, kind, reason, raw, run_id=run_id, ref=ref)

    def quarantined(
        self, *, source: str | None = None, run_id: str | None = None, include_resolved: bool = False
    ) -> list[QuarantineRecord]:
        return self.quarantine_store.quarantined(source=source, run_id=run_id, include_resolved=include_resolved)

    def count_quarantined(self, *, source: str | None = None) -> int:
        return self.quarantine_store.count_quarantined(source=source)

    def resolve_quarantine(self, quarantine_id: int, resolution: str) -> bool:
        return self.quarantine_store.resolve_quarantine(quarantine_id, resolution)

    # -- processes (workflows started once per business key) ----------------------------
    def process(self, business_key: str) -> ProcessRecord | None:
        return self.process_store.process(business_key)

    def process_for_instance(self, instance_id: str) -> ProcessRecord | None:
        return self.process_store.process_for_instance(instance_id)

    def open_processes(self, definition: str, *, done_status: str = "applied") -> list[ProcessRecord]:
        return self.process_store.open_processes(definition, done_status=done_status)

    def unapplied_processes(self, system: str, *, done_status: str = "applied") -> list[ProcessRecord]:
        return self.process_store.unapplied_processes(system, done_status=done_status)

    def claim_outcome(self, business_key: str, *, run_id: str, lease: timedelta = DEFAULT_CLAIM_LEASE) -> bool:
        return self.process_store.claim_outcome(business_key, run_id=run_id, lease=lease)

    def release_outcome(self, business_key: str, *, run_id: str, error: str) -> bool:
        return self.process_store.release_outcome(business_key, run_id=run_id, error=error)

    def claim_process(
        self,
        business_key: str,
        system: str,
        definition: str,
        *,
        run_id: str | None = None,
        lease: timedelta = DEFAULT_CLAIM_LEASE,
    ) -> bool:
        return self.process_store.claim_process(business_key, system, definition, run_id=run_id, lease=lease)

    def release_claim(self, business_key: str, *, run_id: str | None = None, error: str | None = None) -> bool:
        return self.process_store.release_claim(business_key, run_id=run_id, error=error)

    def claims(self) -> list[ProcessRecord]:
        return self.process_store.claims()

    def update_process(
        self,
        business_key: str,
        *,
        instance_id: str | None = None,
        status: str | None = None,
        outcome: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> None:
        self.process_store.update_process(
            business_key, instance_id=instance_id, status=status, outcome=outcome, variables=variables
        )

    # -- audit and runs ----------------------------------------------------------------
    def audit(
        self,
        pipeline: str,
        action: str,
        subject: str,
        details: dict[str, Any] | None = None,
        *,
        run_id: str | None = None,
    ) -> None:
        self.audit_store.audit(pipeline, action, subject, details, run_id=run_id)

    def audit_many(
        self, pipeline: str, entries: Iterable[tuple[str, str, dict[str, Any] | None]], *, run_id: str | None = None
    ) -> int:
        """Several ``(action, subject, details)`` entries in one transaction; returns how many."""
        return self.audit_store.audit_many(pipeline, entries, run_id=run_id)

    def audit_trail(
        self, *, subject: str | None = None, run_id: str | None = None, pipeline: str | None = None
    ) -> list[AuditRecord]:
        return self.audit_store.audit_trail(subject=subject, run_id=run_id, pipeline=pipeline)

    def record_run(
        self,
        pipeline: str,
        run_id: str,
        counts: dict[str, int],
        *,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        report_path: str | None = None,
    ) -> None:
        self.audit_store.record_run(
            pipeline, run_id, counts, window_start=window_start, window_end=window_end, report_path=report_path
        )

    def run_summary(self, pipeline: str, run_id: str) -> dict[str, Any] | None:
        return self.audit_store.run_summary(pipeline, run_id)

    # -- compliance holds -----------------------------------------------------------------
    def hold(
        self,
        pipeline: str,
        asset_id: str,
        target: str,
        *,
        cause: str,
        reason: str,
        license_ref: str | None = None,
        run_id: str | None = None,
    ) -> bool:
        return self.hold_store.hold(
            pipeline, asset_id, target, cause=cause, reason=reason, license_ref=license_ref, run_id=run_id
        )

    def release_hold(self, pipeline: str, asset_id: str, target: str, *, run_id: str | None = None) -> bool:
        return self.hold_store.release_hold(pipeline, asset_id, target, run_id=run_id)

    def holds(self, *, asset_id: str | None = None, include_released: bool = False) -> list[HoldRecord]:
        return self.hold_store.holds(asset_id=asset_id, include_released=include_released)


def _share_docstrings() -> None:
    """Each facade method documents itself with its store's docstring (one text, one place)."""
    for store in (
        XrefStore,
        DeliveryStore,
        CursorStore,
        LicenseIndex,
        QuarantineStore,
        ProcessStore,
        AuditStore,
        HoldStore,
    ):
        for name, member in vars(store).items():
            method = getattr(Ledger, name, None)
            if callable(member) and method is not None and not name.startswith("_") and method.__doc__ is None:
                method.__doc__ = member.__doc__


_share_docstrings()
