"""Processes: workflows started per business key, so none is started twice.

A key is *claimed* before its workflow is started, by a run and for a lease: a claim whose run
failed or was killed is taken over by the next run once released or once its lease is over,
never a wedge (see :meth:`ProcessStore.claim_process`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import DEFAULT_CLAIM_LEASE, ProcessRecord, as_utc, utcnow
from contentops.ledger.schema import processes


def process_record(row: Any) -> ProcessRecord:
    return ProcessRecord(
        row["business_key"],
        row["system"],
        row["definition"],
        row["instance_id"],
        row["status"],
        row["outcome"],
        row["variables"],
        row["run_id"],
        as_utc(row["lease_until"]),
        row["last_error"],
    )


class ProcessStore:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

    def process(self, business_key: str) -> ProcessRecord | None:
        with self._db.connect() as conn:
            row = conn.execute(sa.select(processes).where(processes.c.business_key == business_key)).mappings().first()
        return None if row is None else process_record(row)

    def process_for_instance(self, instance_id: str) -> ProcessRecord | None:
        """The business key record of a started workflow instance."""
        with self._db.connect() as conn:
            row = conn.execute(
                sa.select(processes.c.business_key).where(processes.c.instance_id == instance_id)
            ).first()
        return self.process(row[0]) if row else None

    def open_processes(self, definition: str, *, done_status: str = "applied") -> list[ProcessRecord]:
        """Workflows of ``definition`` whose result has not been applied yet (oldest first), so a
        later run can act on reviews that ended after the run that started them."""
        with self._db.connect() as conn:
            keys = conn.execute(
                sa.select(processes.c.business_key)
                .where(processes.c.definition == definition, processes.c.status != done_status)
                .order_by(processes.c.created_at, processes.c.business_key)
            ).scalars()
            found = list(keys)
        return [record for key in found if (record := self.process(key)) is not None]

    def unapplied_processes(self, system: str, *, done_status: str = "applied") -> list[ProcessRecord]:
        """Every started process of ``system`` (an instance recorded) whose outcome is not applied
        yet, oldest first: what the workflow-outcomes pipeline polls, whichever definition."""
        with self._db.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(processes)
                    .where(
                        processes.c.system == system,
                        processes.c.instance_id.is_not(None),
                        processes.c.status != done_status,
                    )
                    .order_by(processes.c.created_at, processes.c.business_key)
                )
                .mappings()
                .all()
            )
        return [process_record(row) for row in rows]

    def claim_outcome(
        self, business_key: str, *, run_id: str, lease: timedelta = DEFAULT_CLAIM_LEASE, done_status: str = "applied"
    ) -> bool:
        """Take an ended process's outcome for applying (status ``applying``, for ``lease``). True
        when this run holds it now; False when it is applied already or another run's lease on it
        runs. One conditional UPDATE, so of two overlapping runs exactly one applies it; a run that
        failed or was killed while applying leaves a lease the next run takes over."""
        now = utcnow()
        free = sa.or_(
            processes.c.status != "applying",
            processes.c.lease_until.is_(None),
            processes.c.lease_until <= now,
            processes.c.run_id == run_id,
        )
        with self._db.transaction() as conn:
            taken = conn.execute(
                processes.update()
                .where(
                    processes.c.business_key == business_key,
                    processes.c.instance_id.is_not(None),
                    processes.c.status != done_status,
                    free,
                )
                .values(status="applying", run_id=run_id, lease_until=now + lease, updated_at=now)
            ).rowcount
        return bool(taken)

    def release_outcome(self, business_key: str, *, run_id: str, error: str) -> bool:
        """End this run's hold on an outcome it failed to apply, so the next poll retries at once."""
        now = utcnow()
        with self._db.transaction() as conn:
            return bool(
                conn.execute(
                    processes.update()
                    .where(
                        processes.c.business_key == business_key,
                        processes.c.status == "applying",
                        processes.c.run_id == run_id,
                    )
                    .values(lease_until=now, last_error=error[:2000], updated_at=now)
                ).rowcount
            )

    def claim_process(
        self,
        business_key: str,
        system: str,
        definition: str,
        *,
        run_id: str | None = None,
        lease: timedelta = DEFAULT_CLAIM_LEASE,
    ) -> bool:
        """Reserve a business key before starting its workflow, for ``lease``. True when this run
        holds the claim now: the key was free, or it is this run's own claim (a task retry), or the
        claim left on it has no instance and is released or past its lease (a run that failed or
        was killed: taken over, so it never wedges the key). False while another run's lease
        runs, or when an instance is recorded.

        Taking a claim over is one conditional UPDATE, so of two runs racing for a stale claim
        exactly one wins. The winner must look the partner up by the business key before it
        starts anything (:func:`contentops.pipelines.workflows.start_workflow_once`): the failed
        run's start may have reached the partner.
        """
        now = utcnow()
        until = now + lease
        with self._db.transaction() as conn:
            inserted = conn.execute(
                self._db.insert(processes)
                .values(
                    business_key=business_key,
                    system=system,
                    definition=definition,
                    instance_id=None,
                    status="starting",
                    run_id=run_id,
                    created_at=now,
                    updated_at=now,
                    lease_until=until,
                )
                .on_conflict_do_nothing(index_elements=["business_key"])
                .returning(processes.c.business_key)
            ).first()
            if inserted is not None:
                return True
            free = sa.or_(processes.c.lease_until.is_(None), processes.c.lease_until <= now)
            if run_id is not None:
                free = sa.or_(free, processes.c.run_id == run_id)
            taken = conn.execute(
                processes.update()
                .where(processes.c.business_key == business_key, processes.c.instance_id.is_(None), free)
                .values(run_id=run_id, status="starting", lease_until=until, updated_at=now)
            ).rowcount
        return bool(taken)

    def release_claim(self, business_key: str, *, run_id: str | None = None, error: str | None = None) -> bool:
        """End a claim that has no instance (its start failed, or an operator releases it), so the
        next run takes it over at once instead of waiting for the lease. With ``run_id``, only
        that run's claim. ``error`` is kept for whoever lists the claims. True if released."""
        condition = [processes.c.business_key == business_key, processes.c.instance_id.is_(None)]
        if run_id is not None:
            condition.append(processes.c.run_id == run_id)
        now = utcnow()
        values: dict[str, Any] = {"lease_until": now, "updated_at": now}
        if error is not None:
            values["last_error"] = error[:2000]
        with self._db.transaction() as conn:
            return bool(conn.execute(processes.update().where(*condition).values(**values)).rowcount)

    def claims(self) -> list[ProcessRecord]:
        """Every business key claimed without a recorded instance (being started, or left by a
        failed run), oldest first: what an operator looks at when a start seems stuck."""
        with self._db.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(processes)
                    .where(processes.c.instance_id.is_(None))
                    .order_by(processes.c.created_at, processes.c.business_key)
                )
                .mappings()
                .all()
            )
        return [process_record(row) for row in rows]

    def update_process(
        self,
        business_key: str,
        *,
        instance_id: str | None = None,
        status: str | None = None,
        outcome: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_at": utcnow()}
        for name, value in (
            ("instance_id", instance_id),
            ("status", status),
            ("outcome", outcome),
            ("variables", variables),
        ):
            if value is not None:
                values[name] = value
        with self._db.transaction() as conn:
            conn.execute(processes.update().where(processes.c.business_key == business_key).values(**values))
