"""Compliance holds: the deliveries delivery_compliance withdrew, so a renewal restores them.

``co_compliance_holds`` holds one row per delivery slot (pipeline, asset, target) that
``delivery_compliance`` withdrew or re-restricted, with why (``cause``: rights, approval) and
the license it decided on; ``released_at`` is set when the copy is restored. The row is kept
after release (the next hold of the same slot reopens it), so the table stays one row per slot.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "co_compliance_holds",
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
    )
    op.create_index("ix_co_compliance_holds_open", "co_compliance_holds", ["released_at"])


def downgrade() -> None:
    op.drop_index("ix_co_compliance_holds_open", table_name="co_compliance_holds")
    op.drop_table("co_compliance_holds")
