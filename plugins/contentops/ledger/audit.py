"""The audit trail and run summaries that reports are built from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import AuditRecord, as_utc, utcnow
from contentops.ledger.schema import audit_table, run_summaries


class AuditStore:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

    def audit(
        self,
        pipeline: str,
        action: str,
        subject: str,
        details: dict[str, Any] | None = None,
        *,
        run_id: str | None = None,
    ) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                audit_table.insert().values(
                    at=utcnow(), pipeline=pipeline, run_id=run_id, action=action, subject=subject, details=details
                )
            )

    def audit_many(
        self, pipeline: str, entries: Iterable[tuple[str, str, dict[str, Any] | None]], *, run_id: str | None = None
    ) -> int:
        """Add ``(action, subject, details)`` entries in one transaction (a gate deciding thousands
        of assets writes its decisions at once, not one commit each); returns how many."""
        at = utcnow()
        rows = [
            {"at": at, "pipeline": pipeline, "run_id": run_id, "action": a, "subject": s, "details": d}
            for a, s, d in entries
        ]
        if rows:
            with self._db.transaction() as conn:
                conn.execute(audit_table.insert(), rows)
        return len(rows)

    def audit_trail(
        self, *, subject: str | None = None, run_id: str | None = None, pipeline: str | None = None
    ) -> list[AuditRecord]:
        query = sa.select(audit_table).order_by(audit_table.c.id)
        if subject is not None:
            query = query.where(audit_table.c.subject == subject)
        if run_id is not None:
            query = query.where(audit_table.c.run_id == run_id)
        if pipeline is not None:
            query = query.where(audit_table.c.pipeline == pipeline)
        with self._db.connect() as conn:
            return [
                AuditRecord(
                    as_utc(r["at"]) or utcnow(), r["pipeline"], r["run_id"], r["action"], r["subject"], r["details"]
                )
                for r in conn.execute(query).mappings()
            ]

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
        """Store (or replace, on a re-run) the counts of a finished run."""
        stmt = self._db.insert(run_summaries).values(
            pipeline=pipeline,
            run_id=run_id,
            counts=counts,
            window_start=window_start,
            window_end=window_end,
            report_path=report_path,
            finished_at=utcnow(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["pipeline", "run_id"],
            set_={
                name: stmt.excluded[name]
                for name in ("counts", "window_start", "window_end", "report_path", "finished_at")
            },
        )
        with self._db.transaction() as conn:
            conn.execute(stmt)

    def run_summary(self, pipeline: str, run_id: str) -> dict[str, Any] | None:
        with self._db.connect() as conn:
            row = (
                conn.execute(
                    sa.select(run_summaries).where(
                        run_summaries.c.pipeline == pipeline, run_summaries.c.run_id == run_id
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None
