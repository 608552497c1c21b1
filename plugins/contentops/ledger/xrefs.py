"""Cross-references: which id an entity has in each system (Smint.io asset ↔ VIP item …)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import utcnow
from contentops.ledger.schema import xrefs


class XrefStore:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

    def link(
        self, entity: str, system_a: str, id_a: str, system_b: str, id_b: str, meta: dict[str, Any] | None = None
    ) -> None:
        """Record that ``id_a`` in ``system_a`` is ``id_b`` in ``system_b`` (upsert)."""
        stmt = self._db.insert(xrefs).values(
            entity=entity, system_a=system_a, id_a=id_a, system_b=system_b, id_b=id_b, meta=meta, updated_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["entity", "system_a", "id_a", "system_b"],
            set_={"id_b": stmt.excluded.id_b, "meta": stmt.excluded.meta, "updated_at": stmt.excluded.updated_at},
        )
        with self._db.transaction() as conn:
            conn.execute(stmt)

    def lookup(self, entity: str, system_a: str, id_a: str, system_b: str) -> str | None:
        with self._db.connect() as conn:
            return conn.execute(
                sa.select(xrefs.c.id_b).where(
                    xrefs.c.entity == entity,
                    xrefs.c.system_a == system_a,
                    xrefs.c.id_a == id_a,
                    xrefs.c.system_b == system_b,
                )
            ).scalar()

    def lookup_reverse(self, entity: str, system_b: str, id_b: str, system_a: str) -> list[str]:
        with self._db.connect() as conn:
            return list(
                conn.execute(
                    sa.select(xrefs.c.id_a)
                    .where(
                        xrefs.c.entity == entity,
                        xrefs.c.system_b == system_b,
                        xrefs.c.id_b == id_b,
                        xrefs.c.system_a == system_a,
                    )
                    .order_by(xrefs.c.id)
                ).scalars()
            )
