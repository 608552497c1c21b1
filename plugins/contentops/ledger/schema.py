"""The ledger's tables as the code reads and writes them: always the newest schema.

These definitions are what queries are built from; the database gets its tables from the
Alembic revisions in :mod:`contentops.ledger.migrations`, never from ``metadata.create_all``.
A test compares the two on SQLite and PostgreSQL, so a column added here without a revision
(or the other way round) fails before it reaches a ledger.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

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
    # revision 0005: the effects of a slot (``Ledger.effects`` joins on it; PostgreSQL does not
    # index a foreign key by itself)
    sa.Index("ix_co_delivery_effects_slot", "slot_id"),
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
    # revision 0005: pipelines list one source's open rows on every run
    sa.Index("ix_co_quarantine_source", "source", "resolved_at"),
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
    # how long the claiming run may take to record its instance, and why its start failed
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    # revision 0005: a workflow's result is matched to its business key by instance id
    sa.Index("ix_co_processes_instance", "instance_id"),
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
    #: revision 0007: the sweep assessment made as the rights were written, and its finding
    sa.Column("assessed_for", sa.String(64), nullable=True),
    sa.Column("finding", sa.JSON(none_as_null=True), nullable=True),
    sa.Index("ix_co_licenses_expires", "expires_at"),
    sa.Index("ix_co_licenses_asset", "asset_id"),
    sa.Index("ix_co_licenses_run", "run_id"),
)

#: revision 0006: deliveries ``delivery_compliance`` withdrew or re-restricted (a hold per slot),
#: so a renewal restores exactly those — never a copy someone else withdrew — and only once
compliance_holds = sa.Table(
    "co_compliance_holds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.String(128), nullable=False),
    sa.Column("asset_id", sa.String(255), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("cause", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("license_ref", sa.String(255), nullable=True),
    sa.Column("run_id", sa.String(255), nullable=True),
    sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("released_by", sa.String(255), nullable=True),
    sa.UniqueConstraint("pipeline", "asset_id", "target", name="uq_co_compliance_hold"),
    sa.Index("ix_co_compliance_holds_open", "released_at"),
)

#: The version table of the ledger's own versioning before Alembic (schema versions 1 to 4).
#: Kept, never written by this code: a ledger that has it and no Alembic version table was
#: created by that code and is stamped or upgraded on first open (see the migrations package).
legacy_schema_version = sa.Table(
    "co_schema_version",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)
