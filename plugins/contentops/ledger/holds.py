"""Compliance holds: which delivered copies ``delivery_compliance`` took back, and why.

A hold names one delivery slot (pipeline, asset, target). It is written *before* the partner is
changed, so a run that dies between the two leaves a hold the next run completes, never a
withdrawal nobody remembers. Only a held copy is ever restored by a renewal: a copy the rights
sweep or a person withdrew stays withdrawn. Releasing a hold is the restore's last step, so a
restore that died half-way is done again, and a re-run restores nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import as_utc, utcnow
from contentops.ledger.schema import compliance_holds


@dataclass(frozen=True)
class HoldRecord:
    """One held copy: the slot, why it was taken back, and when (``released_at`` once restored)."""

    pipeline: str
    asset_id: str
    target: str
    cause: str
    reason: str
    license_ref: str | None
    run_id: str | None
    held_at: datetime
    released_at: datetime | None


class HoldStore:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

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
        """Hold one slot (or reopen its released hold); False when it is already held."""
        now = utcnow()
        with self._db.transaction() as conn:
            inserted = conn.execute(
                self._db.insert(compliance_holds)
                .values(
                    pipeline=pipeline,
                    asset_id=asset_id,
                    target=target,
                    cause=cause,
                    reason=reason,
                    license_ref=license_ref,
                    run_id=run_id,
                    held_at=now,
                    released_at=None,
                )
                .on_conflict_do_nothing(index_elements=["pipeline", "asset_id", "target"])
                .returning(compliance_holds.c.id)
            ).first()
            if inserted is not None:
                return True
            reopened = conn.execute(
                compliance_holds.update()
                .where(
                    compliance_holds.c.pipeline == pipeline,
                    compliance_holds.c.asset_id == asset_id,
                    compliance_holds.c.target == target,
                    compliance_holds.c.released_at.is_not(None),
                )
                .values(
                    cause=cause,
                    reason=reason,
                    license_ref=license_ref,
                    run_id=run_id,
                    held_at=now,
                    released_at=None,
                    released_by=None,
                )
            ).rowcount
        return bool(reopened)

    def release_hold(self, pipeline: str, asset_id: str, target: str, *, run_id: str | None = None) -> bool:
        """The held copy was restored: release its hold; False when it was not held."""
        with self._db.transaction() as conn:
            changed = conn.execute(
                compliance_holds.update()
                .where(
                    compliance_holds.c.pipeline == pipeline,
                    compliance_holds.c.asset_id == asset_id,
                    compliance_holds.c.target == target,
                    compliance_holds.c.released_at.is_(None),
                )
                .values(released_at=utcnow(), released_by=run_id)
            ).rowcount
        return bool(changed)

    def holds(self, *, asset_id: str | None = None, include_released: bool = False) -> list[HoldRecord]:
        """Held copies (oldest first), of one asset or of all; released ones only when asked."""
        query = sa.select(compliance_holds).order_by(compliance_holds.c.id)
        if asset_id is not None:
            query = query.where(compliance_holds.c.asset_id == asset_id)
        if not include_released:
            query = query.where(compliance_holds.c.released_at.is_(None))
        with self._db.connect() as conn:
            return [
                HoldRecord(
                    r["pipeline"],
                    r["asset_id"],
                    r["target"],
                    r["cause"],
                    r["reason"],
                    r["license_ref"],
                    r["run_id"],
                    as_utc(r["held_at"]) or utcnow(),
                    as_utc(r["released_at"]),
                )
                for r in conn.execute(query).mappings()
            ]
