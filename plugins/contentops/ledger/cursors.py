"""Sync cursors: where each incremental feed was read up to."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import utcnow
from contentops.ledger.schema import cursors


class CursorStore:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

    def get_cursor(self, name: str) -> str | None:
        with self._db.connect() as conn:
            return conn.execute(sa.select(cursors.c.value).where(cursors.c.name == name)).scalar()

    def set_cursor(self, name: str, value: str | None, *, conn: Connection | None = None) -> None:
        """Store where ``name`` was read up to; ``None`` forgets the cursor (its row goes, so
        per-run marks such as the sweep's pending review mark do not pile up).

        With ``conn`` the write is part of the caller's transaction (the license sync stores a
        page's rows and its cursor together); without, it commits on its own."""
        if value is None:
            stmt: Any = sa.delete(cursors).where(cursors.c.name == name)
        else:
            stmt = self._db.insert(cursors).values(name=name, value=value, updated_at=utcnow())
            stmt = stmt.on_conflict_do_update(
                index_elements=["name"], set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}
            )
        if conn is not None:
            conn.execute(stmt)
            return
        with self._db.transaction() as own:
            own.execute(stmt)
