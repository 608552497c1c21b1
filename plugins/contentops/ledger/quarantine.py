"""Quarantine: partner payloads that failed validation, kept verbatim with the reason until
someone resolves them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import QuarantineRecord, as_utc, raw_text, utcnow
from contentops.ledger.schema import quarantine_table


class QuarantineStore:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

    def quarantine(
        self, source: str, kind: str, reason: str, raw: Any, *, run_id: str | None = None, ref: str | None = None
    ) -> int:
        """Keep a payload we could not use, verbatim, with the reason. Returns its id."""
        with self._db.transaction() as conn:
            return int(
                conn.execute(
                    quarantine_table.insert()
                    .values(
                        source=source,
                        kind=kind,
                        reason=reason,
                        raw=raw_text(raw),
                        ref=ref,
                        run_id=run_id,
                        created_at=utcnow(),
                    )
                    .returning(quarantine_table.c.id)
                ).scalar_one()
            )

    def quarantined(
        self, *, source: str | None = None, run_id: str | None = None, include_resolved: bool = False
    ) -> list[QuarantineRecord]:
        query = sa.select(quarantine_table).order_by(quarantine_table.c.id)
        if source is not None:
            query = query.where(quarantine_table.c.source == source)
        if run_id is not None:
            query = query.where(quarantine_table.c.run_id == run_id)
        if not include_resolved:
            query = query.where(quarantine_table.c.resolved_at.is_(None))
        with self._db.connect() as conn:
            return [
                QuarantineRecord(
                    r["id"],
                    r["source"],
                    r["kind"],
                    r["reason"],
                    r["raw"],
                    r["ref"],
                    r["run_id"],
                    as_utc(r["created_at"]) or utcnow(),
                    as_utc(r["resolved_at"]),
                )
                for r in conn.execute(query).mappings()
            ]

    def count_quarantined(self, *, source: str | None = None) -> int:
        """How many quarantine rows are open (unresolved), without reading their payloads."""
        query = sa.select(sa.func.count()).select_from(quarantine_table).where(quarantine_table.c.resolved_at.is_(None))
        if source is not None:
            query = query.where(quarantine_table.c.source == source)
        with self._db.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def resolve_quarantine(self, quarantine_id: int, resolution: str) -> bool:
        with self._db.transaction() as conn:
            return bool(
                conn.execute(
                    quarantine_table.update()
                    .where(quarantine_table.c.id == quarantine_id, quarantine_table.c.resolved_at.is_(None))
                    .values(resolved_at=utcnow(), resolution=resolution)
                ).rowcount
            )
