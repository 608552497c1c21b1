"""License findings: the rights sweep's assessment stored with the rights it was made of.

``co_licenses.assessed_for`` names the assessment (the moment it is made as of and the horizon)
the sync made of a license's rights as it wrote them, ``co_licenses.finding`` its result (null:
no action needed). The sweep's sync assesses each page while the next one is being fetched, and
its assessment step then reads these instead of validating and assessing every license again.
Both are null for rows written before this revision or without an assessment: those are assessed
as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("co_licenses") as batch:
        batch.add_column(sa.Column("assessed_for", sa.String(64), nullable=True))
        batch.add_column(sa.Column("finding", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("co_licenses") as batch:
        batch.drop_column("finding")
        batch.drop_column("assessed_for")
