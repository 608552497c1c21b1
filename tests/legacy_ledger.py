"""A ledger exactly as the code before Alembic migrations created it (schema versions 1 to 4).

Frozen copy of that code's tables and version history, for the migration tests: a ledger made
here is what an installation upgrading to the Alembic migrations has in its database. Never
change it to follow the live schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

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


def _add_lease_columns(conn: sa.Connection) -> None:
    """Version 4: the claim lease and the last start error on ``co_processes``."""
    conn.execute(sa.text("ALTER TABLE co_processes ADD COLUMN lease_until " + _timestamp(conn)))
    conn.execute(sa.text("ALTER TABLE co_processes ADD COLUMN last_error TEXT"))


def _timestamp(conn: sa.Connection) -> str:
    return sa.DateTime(timezone=True).compile(dialect=conn.dialect)


HISTORY = (
    (1, (xrefs, delivery_slots, delivery_effects, cursors, quarantine_table, audit_table)),
    (2, (processes, run_summaries)),
    (3, (licenses,)),
    (4, (_add_lease_columns,)),
)


def create_legacy_ledger(url: str, version: int = 4) -> None:
    """Create the ledger that code would have created, at its schema ``version``, and record
    that version as it did (``co_schema_version``, one row per applied version)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        schema_version.create(conn)
        for number, steps in HISTORY[:version]:
            for step in steps:
                if isinstance(step, sa.Table):
                    step.create(conn)
                else:
                    step(conn)
            conn.execute(schema_version.insert().values(version=number, applied_at=datetime.now(UTC)))
    engine.dispose()
