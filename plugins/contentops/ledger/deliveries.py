"""Deliveries, the heart of exactly-once.

A *slot* is (pipeline, asset, target) and holds what the partner has now (remote id, version,
status); every *effect* on a slot (create, update) carries an idempotency key derived from
(pipeline, asset, version, target) and is unique on it. :meth:`DeliveryStore.plan` says create /
update / skip before anything is sent, so a retry, a re-run or a backfill only does what is
missing, and a new version becomes an update of the delivered item.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from contentops.ledger.database import LedgerDatabase
from contentops.ledger.records import (
    Action,
    DeliveryPlan,
    DeliveryRecord,
    EffectStatus,
    SlotStatus,
    as_utc,
    idempotency_key,
    utcnow,
)
from contentops.ledger.schema import audit_table, delivery_effects, delivery_slots


class DeliveryStore:
    def __init__(self, db: LedgerDatabase) -> None:
        self._db = db

    def plan(self, pipeline: str, asset_id: str, version: str | int, target: str) -> DeliveryPlan:
        """Create, update or skip? Decided from the slot and from any effect with this key.

        - nothing delivered yet → create;
        - the same version already done → skip;
        - an effect with this key still pending (a crash mid-way) → the same action again,
          with the same key, which the partner recognises (``resumed``: a partner that has no
          idempotency keys is asked what the earlier attempt left before writing again);
        - an older version delivered (or a withdrawn item whose rights allow it again)
          → update of the remote item.
        """
        version = str(version)
        key = idempotency_key(pipeline, asset_id, version, target)
        with self._db.connect() as conn:
            slot = (
                conn.execute(
                    sa.select(delivery_slots).where(
                        delivery_slots.c.pipeline == pipeline,
                        delivery_slots.c.asset_id == asset_id,
                        delivery_slots.c.target == target,
                    )
                )
                .mappings()
                .first()
            )
            effect = (
                conn.execute(sa.select(delivery_effects).where(delivery_effects.c.idempotency_key == key))
                .mappings()
                .first()
            )
        remote = slot["remote_id"] if slot else None
        if effect is not None:
            if effect["status"] == EffectStatus.DONE:
                return DeliveryPlan(Action.SKIP, key, pipeline, asset_id, version, target, remote)
            return DeliveryPlan(
                Action(effect["action"]), key, pipeline, asset_id, version, target, remote, resumed=True
            )
        if slot is None or remote is None:
            return DeliveryPlan(Action.CREATE, key, pipeline, asset_id, version, target, None)
        if slot["version"] == version and slot["status"] == SlotStatus.DELIVERED:
            return DeliveryPlan(Action.SKIP, key, pipeline, asset_id, version, target, remote)
        return DeliveryPlan(Action.UPDATE, key, pipeline, asset_id, version, target, remote)

    def begin(self, plan: DeliveryPlan, *, run_id: str | None = None, license_ref: str | None = None) -> bool:
        """Mark the planned effect in flight; False if it is already done (nothing to send).

        There is one effect row per idempotency key, whatever happens. A pending or failed
        effect (a crash or an error mid-way) is taken over and its attempts counted; two
        workers racing on the same key may both proceed, which is safe because both send
        the same idempotency key and the partner keeps one item.
        """
        if plan.action is Action.SKIP:
            return False
        now = utcnow()
        with self._db.transaction() as conn:
            slot_stmt = (
                self._db.insert(delivery_slots)
                .values(
                    pipeline=plan.pipeline,
                    asset_id=plan.asset_id,
                    target=plan.target,
                    remote_id=None,
                    version=None,
                    status=SlotStatus.PENDING,
                    license_ref=license_ref,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["pipeline", "asset_id", "target"])
            )
            conn.execute(slot_stmt)
            slot_id = conn.execute(
                sa.select(delivery_slots.c.id).where(
                    delivery_slots.c.pipeline == plan.pipeline,
                    delivery_slots.c.asset_id == plan.asset_id,
                    delivery_slots.c.target == plan.target,
                )
            ).scalar_one()
            inserted = conn.execute(
                self._db.insert(delivery_effects)
                .values(
                    idempotency_key=plan.key,
                    slot_id=slot_id,
                    action=plan.action.value,
                    version=plan.version,
                    status=EffectStatus.PENDING,
                    run_id=run_id,
                    attempts=1,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(delivery_effects.c.id)
            ).first()
            if inserted is not None:
                return True
            taken = conn.execute(
                delivery_effects.update()
                .where(
                    delivery_effects.c.idempotency_key == plan.key,
                    delivery_effects.c.status.in_([EffectStatus.PENDING, EffectStatus.FAILED]),
                )
                .values(attempts=delivery_effects.c.attempts + 1, status=EffectStatus.PENDING, run_id=run_id)
            ).rowcount
            return bool(taken)

    def complete(
        self, key: str, remote_id: str, details: dict[str, Any] | None = None, *, license_ref: str | None = None
    ) -> None:
        """The partner confirmed the effect: the slot now holds this version."""
        now = utcnow()
        with self._db.transaction() as conn:
            effect = conn.execute(
                sa.select(delivery_effects.c.slot_id, delivery_effects.c.version).where(
                    delivery_effects.c.idempotency_key == key
                )
            ).first()
            if effect is None:
                raise KeyError(f"no delivery effect with key {key}")
            conn.execute(
                delivery_effects.update()
                .where(delivery_effects.c.idempotency_key == key)
                .values(status=EffectStatus.DONE, remote_id=remote_id, details=details, finished_at=now, error=None)
            )
            values: dict[str, Any] = {
                "remote_id": remote_id,
                "version": effect.version,
                "status": SlotStatus.DELIVERED,
                "updated_at": now,
            }
            if license_ref is not None:
                values["license_ref"] = license_ref
            conn.execute(delivery_slots.update().where(delivery_slots.c.id == effect.slot_id).values(**values))

    def fail(self, key: str, error: str) -> None:
        """The effect failed; the next plan for the same key retries it."""
        with self._db.transaction() as conn:
            conn.execute(
                delivery_effects.update()
                .where(delivery_effects.c.idempotency_key == key)
                .values(status=EffectStatus.FAILED, error=error[:4000], finished_at=utcnow())
            )

    def withdraw(self, pipeline: str, asset_id: str, target: str, reason: str, *, run_id: str | None = None) -> bool:
        """Mark a delivered item withdrawn (rights ended). False if it was not delivered there."""
        return self._move(pipeline, asset_id, target, SlotStatus.DELIVERED, SlotStatus.WITHDRAWN, reason, run_id)

    def restore(self, pipeline: str, asset_id: str, target: str, reason: str, *, run_id: str | None = None) -> bool:
        """Mark a withdrawn item delivered again (its rights allow it again and the partner holds
        it again). False if it was not withdrawn there."""
        return self._move(pipeline, asset_id, target, SlotStatus.WITHDRAWN, SlotStatus.DELIVERED, reason, run_id)

    def _move(
        self,
        pipeline: str,
        asset_id: str,
        target: str,
        from_status: SlotStatus,
        to_status: SlotStatus,
        reason: str,
        run_id: str | None,
    ) -> bool:
        """Move a slot from one status to the other and audit it, in one transaction; False if
        the slot was not in ``from_status`` (so repeating a move changes and records nothing)."""
        action = "withdrawn" if to_status is SlotStatus.WITHDRAWN else "restored"
        with self._db.transaction() as conn:
            changed = conn.execute(
                delivery_slots.update()
                .where(
                    delivery_slots.c.pipeline == pipeline,
                    delivery_slots.c.asset_id == asset_id,
                    delivery_slots.c.target == target,
                    delivery_slots.c.status == from_status,
                )
                .values(status=to_status, updated_at=utcnow())
            ).rowcount
            if changed:
                conn.execute(
                    audit_table.insert().values(
                        at=utcnow(),
                        pipeline=pipeline,
                        run_id=run_id,
                        action=action,
                        subject=asset_id,
                        details={"target": target, "reason": reason},
                    )
                )
        return bool(changed)

    def deliveries(
        self,
        *,
        asset_id: str | None = None,
        pipeline: str | None = None,
        target_prefix: str | None = None,
        status: str | None = None,
    ) -> list[DeliveryRecord]:
        query = sa.select(delivery_slots).order_by(delivery_slots.c.id)
        if asset_id is not None:
            query = query.where(delivery_slots.c.asset_id == asset_id)
        if pipeline is not None:
            query = query.where(delivery_slots.c.pipeline == pipeline)
        if target_prefix is not None:
            query = query.where(delivery_slots.c.target.startswith(target_prefix, autoescape=True))
        if status is not None:
            query = query.where(delivery_slots.c.status == status)
        with self._db.connect() as conn:
            return [
                DeliveryRecord(
                    r["pipeline"],
                    r["asset_id"],
                    r["target"],
                    r["remote_id"],
                    r["version"],
                    r["status"],
                    r["license_ref"],
                    as_utc(r["updated_at"]) or utcnow(),
                )
                for r in conn.execute(query).mappings()
            ]

    def where_did_it_go(self, asset_id: str) -> list[DeliveryRecord]:
        """Every target an asset was delivered to, with version, status, license and time."""
        return self.deliveries(asset_id=asset_id)

    def effects(self, *, asset_id: str | None = None, run_id: str | None = None) -> list[dict[str, Any]]:
        """Every effect (create/update) with its key and outcome, oldest first."""
        query = (
            sa.select(delivery_effects, delivery_slots.c.pipeline, delivery_slots.c.asset_id, delivery_slots.c.target)
            .join(delivery_slots, delivery_slots.c.id == delivery_effects.c.slot_id)
            .order_by(delivery_effects.c.id)
        )
        if asset_id is not None:
            query = query.where(delivery_slots.c.asset_id == asset_id)
        if run_id is not None:
            query = query.where(delivery_effects.c.run_id == run_id)
        with self._db.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
