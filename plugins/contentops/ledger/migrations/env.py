"""Alembic's entry point for the ledger: runs the revisions on the connection it is given.

Only programmatic, online use: :func:`contentops.ledger.migrations.upgrade` passes a
connection that already holds the migration lock and an open transaction, and commits it.
"""

from __future__ import annotations

from alembic import context

from contentops.ledger.migrations import VERSION_TABLE
from contentops.ledger.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the ledger's migrations run through contentops.ledger (Ledger.migrate or "
        "python -m contentops.ledger_cli upgrade), which passes the connection"
    )
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
