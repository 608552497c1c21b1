"""Indexes for lookups every run makes, which scanned their tables until now.

- ``co_processes.instance_id``: a finished workflow's result is matched to its business key
  by instance id (``Ledger.process_for_instance``), once per result;
- ``co_delivery_effects.slot_id``: effects are joined to their slot (``Ledger.effects``), and
  PostgreSQL does not index a foreign key by itself;
- ``co_quarantine (source, resolved_at)``: pipelines list one source's open rows every run.

Plain ``CREATE INDEX`` inside the upgrade's transaction: writes to these tables wait while an
index is built, which on a ledger's table sizes is a moment.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_co_processes_instance", "co_processes", ["instance_id"])
    op.create_index("ix_co_delivery_effects_slot", "co_delivery_effects", ["slot_id"])
    op.create_index("ix_co_quarantine_source", "co_quarantine", ["source", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_co_quarantine_source", table_name="co_quarantine")
    op.drop_index("ix_co_delivery_effects_slot", table_name="co_delivery_effects")
    op.drop_index("ix_co_processes_instance", table_name="co_processes")
