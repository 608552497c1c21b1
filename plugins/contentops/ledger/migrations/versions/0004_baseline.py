"""Baseline: the ledger's schema as its own versioning left it (its schema version 4).

Frozen DDL, never edited: later changes are later revisions. It creates what is missing, so it
also completes a ledger left at versions 1 to 3 by that versioning (tables added in 2 and 3,
the claim-lease columns added in 4); a ledger at version 4 is stamped instead and does not run
it. Not reversible: going below the baseline would drop the ledger.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "co_xrefs" not in present:
        op.create_table(
            "co_xrefs",
            _id(),
            sa.Column("entity", sa.String(64), nullable=False),
            sa.Column("system_a", sa.String(64), nullable=False),
            sa.Column("id_a", sa.String(255), nullable=False),
            sa.Column("system_b", sa.String(64), nullable=False),
            sa.Column("id_b", sa.String(255), nullable=False),
            sa.Column("meta", sa.JSON, nullable=True),
            _at("updated_at"),
            sa.UniqueConstraint("entity", "system_a", "id_a", "system_b", name="uq_co_xrefs_a"),
        )
        op.create_index("ix_co_xrefs_b", "co_xrefs", ["entity", "system_b", "id_b"])
    if "co_delivery_slots" not in present:
        op.create_table(
            "co_delivery_slots",
            _id(),
            sa.Column("pipeline", sa.String(128), nullable=False),
            sa.Column("asset_id", sa.String(255), nullable=False),
            sa.Column("target", sa.String(255), nullable=False),
            sa.Column("remote_id", sa.String(255), nullable=True),
            sa.Column("version", sa.String(64), nullable=True),
            sa.Column("status", sa.String(32), nullable=False),
            sa.Column("license_ref", sa.String(255), nullable=True),
            _at("updated_at"),
            sa.UniqueConstraint("pipeline", "asset_id", "target", name="uq_co_delivery_slot"),
        )
        op.create_index("ix_co_delivery_slots_asset", "co_delivery_slots", ["asset_id"])
    if "co_delivery_effects" not in present:
        op.create_table(
            "co_delivery_effects",
            _id(),
            sa.Column("idempotency_key", sa.String(80), nullable=False, unique=True),
            sa.Column("slot_id", sa.Integer, nullable=False),
            sa.Column("action", sa.String(16), nullable=False),
            sa.Column("version", sa.String(64), nullable=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("run_id", sa.String(255), nullable=True),
            sa.Column("remote_id", sa.String(255), nullable=True),
            sa.Column("error", sa.Text, nullable=True),
            sa.Column("details", sa.JSON, nullable=True),
            sa.Column("attempts", sa.Integer, nullable=False),
            _at("created_at"),
            _at("finished_at", nullable=True),
            sa.ForeignKeyConstraint(["slot_id"], ["co_delivery_slots.id"]),
        )
    if "co_cursors" not in present:
        op.create_table(
            "co_cursors",
            sa.Column("name", sa.String(255), primary_key=True),
            sa.Column("value", sa.Text, nullable=True),
            _at("updated_at"),
        )
    if "co_quarantine" not in present:
        op.create_table(
            "co_quarantine",
            _id(),
            sa.Column("source", sa.String(64), nullable=False),
            sa.Column("kind", sa.String(64), nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("raw", sa.Text, nullable=False),
            sa.Column("ref", sa.String(255), nullable=True),
            sa.Column("run_id", sa.String(255), nullable=True),
            _at("created_at"),
            _at("resolved_at", nullable=True),
            sa.Column("resolution", sa.Text, nullable=True),
        )
    if "co_audit" not in present:
        op.create_table(
            "co_audit",
            _id(),
            _at("at"),
            sa.Column("pipeline", sa.String(128), nullable=False),
            sa.Column("run_id", sa.String(255), nullable=True),
            sa.Column("action", sa.String(64), nullable=False),
            sa.Column("subject", sa.String(255), nullable=False),
            sa.Column("details", sa.JSON, nullable=True),
        )
        op.create_index("ix_co_audit_subject", "co_audit", ["subject"])
        op.create_index("ix_co_audit_run", "co_audit", ["run_id"])
    if "co_processes" not in present:
        op.create_table(
            "co_processes",
            sa.Column("business_key", sa.String(255), primary_key=True),
            sa.Column("system", sa.String(64), nullable=False),
            sa.Column("definition", sa.String(128), nullable=False),
            sa.Column("instance_id", sa.String(255), nullable=True),
            sa.Column("status", sa.String(32), nullable=False),
            sa.Column("outcome", sa.String(128), nullable=True),
            sa.Column("variables", sa.JSON, nullable=True),
            sa.Column("run_id", sa.String(255), nullable=True),
            _at("created_at"),
            _at("updated_at"),
            _at("lease_until", nullable=True),
            sa.Column("last_error", sa.Text, nullable=True),
        )
    else:  # a ledger at version 2 or 3: the claim leases of version 4
        columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("co_processes")}
        if "lease_until" not in columns:
            op.add_column("co_processes", _at("lease_until", nullable=True))
        if "last_error" not in columns:
            op.add_column("co_processes", sa.Column("last_error", sa.Text, nullable=True))
    if "co_run_summaries" not in present:
        op.create_table(
            "co_run_summaries",
            sa.Column("pipeline", sa.String(128), primary_key=True),
            sa.Column("run_id", sa.String(255), primary_key=True),
            _at("window_start", nullable=True),
            _at("window_end", nullable=True),
            sa.Column("counts", sa.JSON, nullable=False),
            sa.Column("report_path", sa.Text, nullable=True),
            _at("finished_at"),
        )
    if "co_licenses" not in present:
        op.create_table(
            "co_licenses",
            sa.Column("lpt_uuid", sa.String(255), primary_key=True),
            sa.Column("asset_id", sa.String(255), nullable=False),
            sa.Column("provider", sa.String(64), nullable=True),
            sa.Column("version", sa.Integer, nullable=True),
            _at("expires_at", nullable=True),
            sa.Column("rights", sa.JSON, nullable=False),
            sa.Column("run_id", sa.String(255), nullable=True),
            _at("updated_at"),
        )
        op.create_index("ix_co_licenses_expires", "co_licenses", ["expires_at"])
        op.create_index("ix_co_licenses_asset", "co_licenses", ["asset_id"])
        op.create_index("ix_co_licenses_run", "co_licenses", ["run_id"])


def downgrade() -> None:
    raise NotImplementedError("the baseline is not reversible: below it there is no ledger")
