"""The integration's own state, in its own database: what was sent where, and why.

Never Airflow's metadata database: the ledger outlives Airflow upgrades and is what a user
asks "where did asset X go, when, under which license?". SQLite by default, PostgreSQL in
production, through SQLAlchemy Core. It holds:

- **cross-references** between systems' ids (Smint.io asset ↔ VIP item ↔ Exstream resource …);
- **deliveries**, the heart of exactly-once: a *slot* is (pipeline, asset, target) and holds
  what the partner has now (remote id, version, status); every *effect* on a slot (create,
  update, withdraw) carries an idempotency key derived from (pipeline, asset, version,
  target) and is unique on it. :meth:`Ledger.plan` says create / update / skip before
  anything is sent, so a retry, a re-run or a backfill only does what is missing, and a new
  version becomes an update of the delivered item;
- **sync cursors** of incremental feeds, and the **license index**: the latest rights of every
  license purchase transaction seen, with its expiry, so a sweep finds licenses that are
  about to expire without re-reading the whole feed;
- **quarantine**: partner payloads that failed validation, kept verbatim with the reason;
- **processes**: workflows started per business key, so none is started twice. A key is
  *claimed* before its workflow is started, by a run and for a lease: a claim whose run failed
  or was killed is taken over by the next run once released or once its lease is over, never a
  wedge (see :meth:`Ledger.claim_process`);
- an **audit trail** and **run summaries** that reports are built from.

The schema is versioned and upgraded by :meth:`Ledger.migrate` (never by hand); on
PostgreSQL concurrent migrations serialise on an advisory lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

metadata = sa.MetaData()

schema_version = sa.Table(
    "co_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

xrefs = sa.Table(
    "co_xrefs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("system_a", sa.String(64), nullable=False),
    sa.Column("id_a", sa.String(255), nullable=False),
    sa.Column("system_b", sa.String(64), nullable=False),
    sa.Column("id_b", sa.String(255), nullable=False),
    sa.Column("meta", sa.JSON, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("entity", "system_a", "id_a", "system_b", name="uq_co_xrefs_a"),
    sa.Index("ix_co_xrefs_b", "entity", "system_b", "id_b"),
)

delivery_slots = sa.Table(
    "co_delivery_slots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.String(128), nullable=False),
    sa.Column("asset_id", sa.String(255), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("remote_id", sa.String(255), nullable=True),
    sa.Column("version", sa.String(64), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("license_ref", sa.String(255), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("pipeline", "asset_id", "target", name="uq_co_delivery_slot"),
    sa.Index("ix_co_delivery_slots_asset", "asset_id"),
)

delivery_effects = sa.Table(
    "co_delivery_effects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.String(80), nullable=False, unique=True),
    sa.Column("slot_id", sa.Integer, sa.ForeignKey("co_delivery_slots.id"), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("version", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("remote_id", sa.String(255), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
)

cursors = sa.Table(
    "co_cursors",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

quarantine_table = sa.Table(
    "co_quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("ref", sa.String(255), nullable=True),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolution", sa.Text, nullable=True),
)

audit_table = sa.Table(
    "co_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pipeline", sa.String(128), nullable=False),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Index("ix_co_audit_subject", "subject"),
    sa.Index("ix_co_audit_run", "run_id"),
)

processes = sa.Table(
    "co_processes",
    metadata,
    sa.Column("business_key", sa.String(255), primary_key=True),
    sa.Column("system", sa.String(64), nullable=False),
    sa.Column("definition", sa.String(128), nullable=False),
    sa.Column("instance_id", sa.String(255), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(128), nullable=True),
    sa.Column("variables", sa.JSON, nullable=True),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # schema 4: how long the claiming run may take to record its instance, and why its start failed
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
)

run_summaries = sa.Table(
    "co_run_summaries",
    metadata,
    sa.Column("pipeline", sa.String(128), primary_key=True),
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
    sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("report_path", sa.Text, nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
)

licenses = sa.Table(
    "co_licenses",
    metadata,
    sa.Column("lpt_uuid", sa.String(255), primary_key=True),
    sa.Column("asset_id", sa.String(255), nullable=False),
    sa.Column("provider", sa.String(64), nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("rights", sa.JSON, nullable=False),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_co_licenses_expires", "expires_at"),
    sa.Index("ix_co_licenses_asset", "asset_id"),
    sa.Index("ix_co_licenses_run", "run_id"),
)


def _add_columns(table: sa.Table, *names: str) -> Callable[[Connection], None]:
    """A migration step adding columns to an existing table (skipped where the table was just
    created with them: the table definitions above are always the latest)."""

    def step(conn: Connection) -> None:
        present = {column["name"] for column in sa.inspect(conn).get_columns(table.name)}
        for name in names:
            if name not in present:
                kind = table.c[name].type.compile(dialect=conn.dialect)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))

    return step


MigrationStep = sa.Table | Callable[[Connection], None]

#: Schema history: each version creates (a table) or runs (a step) what it introduced. Append, never edit.
MIGRATIONS: tuple[tuple[int, tuple[MigrationStep, ...]], ...] = (
    (1, (xrefs, delivery_slots, delivery_effects, cursors, quarantine_table, audit_table)),
    (2, (processes, run_summaries)),
    (3, (licenses,)),
    (4, (_add_columns(processes, "lease_until", "last_error"),)),
)
#: How long a run may hold a business key before it records the started instance. A start is
#: one lookup and one POST (each bounded by the transport's timeouts and retries), so a claim
#: still open after this is a run that failed or was killed; the next run takes it over.
DEFAULT_CLAIM_LEASE = timedelta(minutes=10)
LATEST_VERSION = MIGRATIONS[-1][0]
_ADVISORY_LOCK_ID = 0x636F6E74  # "cont"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"


class EffectStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class SlotStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


def idempotency_key(pipeline: str, asset_id: str, version: str | int, target: str) -> str:
    """Stable key of one effect: the same (pipeline, asset, version, target) gives the same key.

    It is also sent to partners (``Idempotency-Key`` headers, external references) so a
    partner that saw the first attempt recognises a replay.
    """
    raw = "\x1f".join((pipeline, str(asset_id), str(version), target)).encode()
    return "co-" + hashlib.sha256(raw).hexdigest()[:40]


@dataclass(frozen=True)
class DeliveryPlan:
    """What to do for (pipeline, asset, version, target), decided before anything is sent."""

    action: Action
    key: str
    pipeline: str
    asset_id: str
    version: str
    target: str
    remote_id: str | None = None
    #: An earlier attempt with this key began and did not finish: it may have written already
    #: (a partner without idempotency keys is asked for what it holds before writing again).
    resumed: bool = False


@dataclass(frozen=True)
class DeliveryRecord:
    """One slot: what a target holds of an asset now."""

    pipeline: str
    asset_id: str
    target: str
    remote_id: str | None
    version: str | None
    status: str
    license_ref: str | None
    updated_at: datetime


@dataclass(frozen=True)
class LicenseRow:
    """The latest known rights of one license purchase transaction (``rights`` = UsageRights JSON)."""

    lpt_uuid: str
    asset_id: str
    provider: str | None
    version: int | None
    expires_at: datetime | None
    rights: dict[str, Any]


def _process_record(row: Any) -> ProcessRecord:
    return ProcessRecord(
        row["business_key"],
        row["system"],
        row["definition"],
        row["instance_id"],
        row["status"],
        row["outcome"],
        row["variables"],
        row["run_id"],
        _utc(row["lease_until"]),
        row["last_error"],
    )


def _license_row(row: Any) -> LicenseRow:
    return LicenseRow(
        row["lpt_uuid"], row["asset_id"], row["provider"], row["version"], _utc(row["expires_at"]), row["rights"]
    )


@dataclass(frozen=True)
class QuarantineRecord:
    id: int
    source: str
    kind: str
    reason: str
    raw: str
    ref: str | None
    run_id: str | None
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class ProcessRecord:
    business_key: str
    system: str
    definition: str
    instance_id: str | None
    status: str
    outcome: str | None
    variables: dict[str, Any] | None
    run_id: str | None
    #: until when ``run_id`` holds the claim (None: a claim from before schema 4, free to take over)
    lease_until: datetime | None = None
    #: why the last start of this key failed, if it did
    last_error: str | None = None

    @property
    def claimed_only(self) -> bool:
        """Claimed, but no instance recorded (being started, or left by a failed run)."""
        return self.instance_id is None

    def lease_over(self, now: datetime) -> bool:
        return self.lease_until is None or self.lease_until <= now


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    pipeline: str
    run_id: str | None
    action: str
    subject: str
    details: dict[str, Any] | None


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _raw_text(raw: Any) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        return raw
    return json.dumps(raw, default=str, ensure_ascii=False)


class Ledger:
    """The ledger at a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``)."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or _create_engine(url)
        self._insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    def __repr__(self) -> str:
        return f"Ledger({self.engine.url.render_as_string(hide_password=True)})"

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- schema -----------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(schema_version.name):
                return 0
            return int(conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0)

    def migrate(self, target: int | None = None) -> int:
        """Create or upgrade the schema to ``target`` (default: the latest); returns the version."""
        goal = LATEST_VERSION if target is None else target
        with self._tx() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            elif conn.dialect.name == "sqlite":
                # the same on SQLite: concurrent first runs (a backfill's days) migrate one at a time
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            schema_version.create(conn, checkfirst=True)
            current = int(conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0)
            for version, tables in MIGRATIONS:
                if current < version <= goal:
                    for step in tables:
                        if isinstance(step, sa.Table):
                            step.create(conn, checkfirst=True)
                        else:
                            step(conn)
                    conn.execute(schema_version.insert().values(version=version, applied_at=_now()))
                    current = version
        return current

    # -- cross-references --------------------------------------------------------------
    def link(
        self, entity: str, system_a: str, id_a: str, system_b: str, id_b: str, meta: dict[str, Any] | None = None
    ) -> None:
        """Record that ``id_a`` in ``system_a`` is ``id_b`` in ``system_b`` (upsert)."""
        stmt = self._insert(xrefs).values(
            entity=entity, system_a=system_a, id_a=id_a, system_b=system_b, id_b=id_b, meta=meta, updated_at=_now()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["entity", "system_a", "id_a", "system_b"],
            set_={"id_b": stmt.excluded.id_b, "meta": stmt.excluded.meta, "updated_at": stmt.excluded.updated_at},
        )
        with self._tx() as conn:
            conn.execute(stmt)

    def lookup(self, entity: str, system_a: str, id_a: str, system_b: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(xrefs.c.id_b).where(
                    xrefs.c.entity == entity,
                    xrefs.c.system_a == system_a,
                    xrefs.c.id_a == id_a,
                    xrefs.c.system_b == system_b,
                )
            ).scalar()

    def lookup_reverse(self, entity: str, system_b: str, id_b: str, system_a: str) -> list[str]:
        with self.engine.connect() as conn:
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

    # -- deliveries --------------------------------------------------------------------
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
        with self.engine.connect() as conn:
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
        now = _now()
        with self._tx() as conn:
            slot_stmt = (
                self._insert(delivery_slots)
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
                self._insert(delivery_effects)
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
        now = _now()
        with self._tx() as conn:
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
        with self._tx() as conn:
            conn.execute(
                delivery_effects.update()
                .where(delivery_effects.c.idempotency_key == key)
                .values(status=EffectStatus.FAILED, error=error[:4000], finished_at=_now())
            )

    def withdraw(self, pipeline: str, asset_id: str, target: str, reason: str, *, run_id: str | None = None) -> bool:
        """Mark a delivered item withdrawn (rights ended). False if it was not delivered there."""
        with self._tx() as conn:
            changed = conn.execute(
                delivery_slots.update()
                .where(
                    delivery_slots.c.pipeline == pipeline,
                    delivery_slots.c.asset_id == asset_id,
                    delivery_slots.c.target == target,
                    delivery_slots.c.status == SlotStatus.DELIVERED,
                )
                .values(status=SlotStatus.WITHDRAWN, updated_at=_now())
            ).rowcount
            if changed:
                conn.execute(
                    audit_table.insert().values(
                        at=_now(),
                        pipeline=pipeline,
                        run_id=run_id,
                        action="withdrawn",
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
        with self.engine.connect() as conn:
            return [
                DeliveryRecord(
                    r["pipeline"],
                    r["asset_id"],
                    r["target"],
                    r["remote_id"],
                    r["version"],
                    r["status"],
                    r["license_ref"],
                    _utc(r["updated_at"]) or _now(),
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
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    # -- cursors -----------------------------------------------------------------------
    def get_cursor(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(cursors.c.value).where(cursors.c.name == name)).scalar()

    def set_cursor(self, name: str, value: str | None) -> None:
        stmt = self._insert(cursors).values(name=name, value=value, updated_at=_now())
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"], set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at}
        )
        with self._tx() as conn:
            conn.execute(stmt)

    # -- license index -----------------------------------------------------------------
    def upsert_licenses(self, rows: list[LicenseRow], *, run_id: str | None = None) -> int:
        """Store the latest rights of many licenses at once (one transaction); returns the count."""
        if not rows:
            return 0
        now = _now()
        values = [
            {
                "lpt_uuid": r.lpt_uuid,
                "asset_id": r.asset_id,
                "provider": r.provider,
                "version": r.version,
                "expires_at": r.expires_at,
                "rights": r.rights,
                "run_id": run_id,
                "updated_at": now,
            }
            for r in rows
        ]
        stmt = self._insert(licenses)
        stmt = stmt.on_conflict_do_update(
            index_elements=["lpt_uuid"],
            set_={
                name: stmt.excluded[name]
                for name in ("asset_id", "provider", "version", "expires_at", "rights", "run_id", "updated_at")
            },
        )
        with self._tx() as conn:
            conn.execute(stmt, values)
        return len(values)

    def license(self, lpt_uuid: str) -> LicenseRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(licenses).where(licenses.c.lpt_uuid == lpt_uuid)).mappings().first()
        return _license_row(row) if row else None

    def licenses_for_asset(self, asset_id: str) -> list[LicenseRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(licenses).where(licenses.c.asset_id == asset_id)).mappings().all()
        return [_license_row(row) for row in rows]

    def iter_licenses_to_review(
        self,
        *,
        expiring_before: datetime,
        changed_in_run: str | None = None,
        changed_since: datetime | None = None,
        batch: int = 1000,
    ) -> Iterator[LicenseRow]:
        """Licenses whose expiry falls before a moment (expired ones included), plus those
        changed by a given run or written after a moment — what a sweep has to look at.
        Streamed in key order."""
        condition = licenses.c.expires_at < expiring_before
        if changed_in_run is not None:
            condition = sa.or_(condition, licenses.c.run_id == changed_in_run)
        if changed_since is not None:
            condition = sa.or_(condition, licenses.c.updated_at > changed_since)
        after = ""
        while True:
            with self.engine.connect() as conn:
                rows = (
                    conn.execute(
                        sa.select(licenses)
                        .where(condition, licenses.c.lpt_uuid > after)
                        .order_by(licenses.c.lpt_uuid)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            yield from (_license_row(row) for row in rows)
            after = rows[-1]["lpt_uuid"]

    def count_licenses(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(licenses)).scalar_one())

    # -- quarantine --------------------------------------------------------------------
    def quarantine(
        self, source: str, kind: str, reason: str, raw: Any, *, run_id: str | None = None, ref: str | None = None
    ) -> int:
        """Keep a payload we could not use, verbatim, with the reason. Returns its id."""
        with self._tx() as conn:
            return int(
                conn.execute(
                    quarantine_table.insert()
                    .values(
                        source=source,
                        kind=kind,
                        reason=reason,
                        raw=_raw_text(raw),
                        ref=ref,
                        run_id=run_id,
                        created_at=_now(),
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
        with self.engine.connect() as conn:
            return [
                QuarantineRecord(
                    r["id"],
                    r["source"],
                    r["kind"],
                    r["reason"],
                    r["raw"],
                    r["ref"],
                    r["run_id"],
                    _utc(r["created_at"]) or _now(),
                    _utc(r["resolved_at"]),
                )
                for r in conn.execute(query).mappings()
            ]

    def count_quarantined(self, *, source: str | None = None) -> int:
        """How many quarantine rows are open (unresolved), without reading their payloads."""
        query = sa.select(sa.func.count()).select_from(quarantine_table).where(quarantine_table.c.resolved_at.is_(None))
        if source is not None:
            query = query.where(quarantine_table.c.source == source)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def resolve_quarantine(self, quarantine_id: int, resolution: str) -> bool:
        with self._tx() as conn:
            return bool(
                conn.execute(
                    quarantine_table.update()
                    .where(quarantine_table.c.id == quarantine_id, quarantine_table.c.resolved_at.is_(None))
                    .values(resolved_at=_now(), resolution=resolution)
                ).rowcount
            )

    # -- processes (workflows started once per business key) ----------------------------
    def process(self, business_key: str) -> ProcessRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(processes).where(processes.c.business_key == business_key)).mappings().first()
        return None if row is None else _process_record(row)

    def process_for_instance(self, instance_id: str) -> ProcessRecord | None:
        """The business key record of a started workflow instance."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(processes.c.business_key).where(processes.c.instance_id == instance_id)
            ).first()
        return self.process(row[0]) if row else None

    def open_processes(self, definition: str, *, done_status: str = "applied") -> list[ProcessRecord]:
        """Workflows of ``definition`` whose result has not been applied yet (oldest first), so a
        later run can act on reviews that ended after the run that started them."""
        with self.engine.connect() as conn:
            keys = conn.execute(
                sa.select(processes.c.business_key)
                .where(processes.c.definition == definition, processes.c.status != done_status)
                .order_by(processes.c.created_at, processes.c.business_key)
            ).scalars()
            found = list(keys)
        return [record for key in found if (record := self.process(key)) is not None]

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
        now = _now()
        until = now + lease
        with self._tx() as conn:
            inserted = conn.execute(
                self._insert(processes)
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
        now = _now()
        values: dict[str, Any] = {"lease_until": now, "updated_at": now}
        if error is not None:
            values["last_error"] = error[:2000]
        with self._tx() as conn:
            return bool(conn.execute(processes.update().where(*condition).values(**values)).rowcount)

    def claims(self) -> list[ProcessRecord]:
        """Every business key claimed without a recorded instance (being started, or left by a
        failed run), oldest first: what an operator looks at when a start seems stuck."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(processes)
                    .where(processes.c.instance_id.is_(None))
                    .order_by(processes.c.created_at, processes.c.business_key)
                )
                .mappings()
                .all()
            )
        return [_process_record(row) for row in rows]

    def update_process(
        self,
        business_key: str,
        *,
        instance_id: str | None = None,
        status: str | None = None,
        outcome: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_at": _now()}
        for name, value in (
            ("instance_id", instance_id),
            ("status", status),
            ("outcome", outcome),
            ("variables", variables),
        ):
            if value is not None:
                values[name] = value
        with self._tx() as conn:
            conn.execute(processes.update().where(processes.c.business_key == business_key).values(**values))

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
        with self._tx() as conn:
            conn.execute(
                audit_table.insert().values(
                    at=_now(), pipeline=pipeline, run_id=run_id, action=action, subject=subject, details=details
                )
            )

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
        with self.engine.connect() as conn:
            return [
                AuditRecord(
                    _utc(r["at"]) or _now(), r["pipeline"], r["run_id"], r["action"], r["subject"], r["details"]
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
        stmt = self._insert(run_summaries).values(
            pipeline=pipeline,
            run_id=run_id,
            counts=counts,
            window_start=window_start,
            window_end=window_end,
            report_path=report_path,
            finished_at=_now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["pipeline", "run_id"],
            set_={
                name: stmt.excluded[name]
                for name in ("counts", "window_start", "window_end", "report_path", "finished_at")
            },
        )
        with self._tx() as conn:
            conn.execute(stmt)

    def run_summary(self, pipeline: str, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
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

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            options["poolclass"] = StaticPool
        engine = sa.create_engine(url, **options)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
