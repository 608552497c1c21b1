"""The license index: the latest rights of every license purchase transaction seen, with its
expiry, so a sweep finds licenses about to expire without re-reading the whole feed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import LicenseRow, RightsJson, as_utc, utcnow
from contentops.ledger.schema import licenses


def license_row(row: Any) -> LicenseRow:
    return LicenseRow(
        row["lpt_uuid"],
        row["asset_id"],
        row["provider"],
        row["version"],
        as_utc(row["expires_at"]),
        row["rights"] or {},
        row["assessed_for"],
        row["finding"],
    )


class ReviewCounts(NamedTuple):
    """What :meth:`LicenseIndex.count_licenses_to_review` counts."""

    #: the licenses a sweep looks at
    total: int
    #: of which not assessed for the assessment asked about (their rights must be assessed)
    not_assessed: int


class LicenseIndex:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

    def upsert_licenses(
        self, rows: list[LicenseRow], *, run_id: str | None = None, conn: Connection | None = None
    ) -> int:
        """Store the latest rights of many licenses at once (one transaction); returns the count.

        With ``conn`` the rows are written in the caller's transaction (see
        :meth:`contentops.ledger.Ledger.store_license_page`); without, they commit on their own."""
        if not rows:
            return 0
        now = utcnow()
        values = [
            {
                "lpt_uuid": r.lpt_uuid,
                "asset_id": r.asset_id,
                "provider": r.provider,
                "version": r.version,
                "expires_at": r.expires_at,
                "rights_json": r.rights.text if isinstance(r.rights, RightsJson) else json.dumps(r.rights),
                "run_id": run_id,
                "updated_at": now,
                "assessed_for": r.assessed_for,
                "finding": r.finding if r.assessed_for else None,
            }
            for r in rows
        ]
        stmt = self._db.insert(licenses).values(rights=self._rights_json())
        stmt = stmt.on_conflict_do_update(
            index_elements=["lpt_uuid"],
            set_={
                name: stmt.excluded[name]
                for name in (
                    "asset_id",
                    "provider",
                    "version",
                    "expires_at",
                    "rights",
                    "run_id",
                    "updated_at",
                    "assessed_for",
                    "finding",
                )
            },
        )
        if conn is not None:
            conn.execute(stmt, values)
            return len(values)
        with self._db.transaction() as own:
            own.execute(stmt, values)
        return len(values)

    def _rights_json(self) -> Any:
        """The ``rights`` value of an upsert: its JSON text as given (``rights_json``), bound as
        text — SQLite keeps JSON as text; PostgreSQL is told to read it as ``json``."""
        text = sa.bindparam("rights_json", type_=sa.Text)
        if self._db.engine.dialect.name == "postgresql":
            return sa.cast(text, licenses.c.rights.type)
        return text

    def license(self, lpt_uuid: str) -> LicenseRow | None:
        with self._db.connect() as conn:
            row = conn.execute(sa.select(licenses).where(licenses.c.lpt_uuid == lpt_uuid)).mappings().first()
        return license_row(row) if row else None

    def licenses_for_asset(self, asset_id: str) -> list[LicenseRow]:
        with self._db.connect() as conn:
            rows = conn.execute(sa.select(licenses).where(licenses.c.asset_id == asset_id)).mappings().all()
        return [license_row(row) for row in rows]

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
        """Licenses whose expiry falls before a moment (expired ones included), plus those
        changed by a given run or written after a moment — what a sweep has to look at.
        Streamed in key order; ``providers`` keeps only those of the listed providers.

        With ``assessed_for``, a row already assessed for it comes without its ``rights`` (``{}``:
        its ``finding`` is what the caller needs, and not decoding the rights is the point). With
        ``not_assessed_for``, only the rows not assessed for it come (the findings of the others
        are read by :meth:`iter_findings`)."""
        condition = self._review_condition(expiring_before, changed_in_run, changed_since, providers)
        if not_assessed_for is not None:
            condition = sa.and_(condition, _not_assessed_for(not_assessed_for))
        columns: list[Any] = list(licenses.c)
        if assessed_for is not None:
            rights = sa.case((licenses.c.assessed_for == assessed_for, sa.null()), else_=licenses.c.rights)
            columns = [
                sa.type_coerce(rights, licenses.c.rights.type).label("rights") if c.name == "rights" else c
                for c in columns
            ]
        after = ""
        while True:
            with self._db.connect() as conn:
                rows = (
                    conn.execute(
                        sa.select(*columns)
                        .where(condition, licenses.c.lpt_uuid > after)
                        .order_by(licenses.c.lpt_uuid)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            yield from (license_row(row) for row in rows)
            after = rows[-1]["lpt_uuid"]

    def count_licenses_to_review(
        self,
        *,
        expiring_before: datetime,
        changed_in_run: str | None = None,
        changed_since: datetime | None = None,
        providers: list[str] | None = None,
        assessed_for: str | None = None,
    ) -> ReviewCounts:
        """How many licenses :meth:`iter_licenses_to_review` looks at, and how many of them are
        not assessed for ``assessed_for`` (all of them without it) — counted in the database, in
        one pass, no row read into Python."""
        condition = self._review_condition(expiring_before, changed_in_run, changed_since, providers)
        unassessed: Any = sa.func.count()
        if assessed_for is not None:
            unassessed = sa.func.coalesce(sa.func.sum(sa.case((_not_assessed_for(assessed_for), 1), else_=0)), 0)
        query = sa.select(sa.func.count(), unassessed).select_from(licenses).where(condition)
        with self._db.connect() as conn:
            total, not_assessed = conn.execute(query).one()
        return ReviewCounts(int(total), int(not_assessed))

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
        """``(lpt_uuid, version, finding)`` of each license :meth:`iter_licenses_to_review` looks
        at that is assessed for ``assessed_for`` and needs action (has a finding), in no
        particular order.

        What a sweep needs of the licenses the sync assessed, and nothing more: not the rows that
        need no action (most of them: counted, never read), not their rights, expiry or asset.
        One query read ``batch`` rows at a time (a server-side cursor on PostgreSQL), so memory
        stays flat; unordered, so the database scans the table instead of walking the key index
        and fetching each row from it."""
        condition = sa.and_(
            self._review_condition(expiring_before, changed_in_run, changed_since, providers),
            licenses.c.assessed_for == assessed_for,
            licenses.c.finding.is_not(None),
        )
        query = sa.select(licenses.c.lpt_uuid, licenses.c.version, licenses.c.finding).where(condition)
        with self._db.connect() as conn:
            yield from conn.execution_options(yield_per=batch).execute(query).tuples()

    @staticmethod
    def _review_condition(
        expiring_before: datetime,
        changed_in_run: str | None,
        changed_since: datetime | None,
        providers: list[str] | None,
    ) -> Any:
        condition: Any = licenses.c.expires_at < expiring_before
        if changed_in_run is not None:
            condition = sa.or_(condition, licenses.c.run_id == changed_in_run)
        if changed_since is not None:
            condition = sa.or_(condition, licenses.c.updated_at > changed_since)
        if providers:
            condition = sa.and_(condition, licenses.c.provider.in_(providers))
        return condition

    def count_licenses(self) -> int:
        with self._db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(licenses)).scalar_one())


def _not_assessed_for(key: str) -> Any:
    """Rows not assessed for ``key``: never assessed, or for another moment or horizon."""
    return sa.or_(licenses.c.assessed_for.is_(None), licenses.c.assessed_for != key)
