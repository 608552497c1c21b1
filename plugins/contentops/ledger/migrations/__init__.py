"""The ledger's schema migrations, run with Alembic from inside the package.

Every change to the ledger's tables is a revision in ``versions/`` (numbered ``0004``,
``0005``, … so a revision is also the integer *schema version* that :meth:`Ledger.schema_version`
reports and the connection test shows). Revisions run on a ledger's first open in a task's
process (:meth:`contentops.ledger.Ledger.migrate`, called by the ledger hook), or from
``python -m contentops.ledger_cli upgrade``; never by hand.

- A new database gets the baseline ``0004`` (the schema as the ledger's own versioning left it)
  and every revision after it.
- A ledger created before Alembic took over has the table ``co_schema_version`` and no
  ``co_alembic_version``: at version 4 it is *stamped* at the baseline (nothing rebuilt), at
  versions 1 to 3 the baseline adds what it lacks (tables, the claim-lease columns). Its
  ``co_schema_version`` stays as it was, so code from before this change that still runs
  somewhere during a rolling upgrade sees a ledger it need not touch.
- Concurrent first opens serialise: on PostgreSQL on an advisory lock, on SQLite on a write
  lock (``BEGIN IMMEDIATE``), taken before the version is read. The whole upgrade is one
  transaction (both databases have transactional DDL), so a failed revision leaves nothing
  half-made.
- The version table is ``co_alembic_version``, not Alembic's default, so a ledger sharing a
  database with another Alembic-managed application does not read that one's version.

Adding a revision: copy the newest file in ``versions/`` to the next number, set ``revision``
and ``down_revision``, write ``upgrade``/``downgrade`` with ``alembic.op``, change the tables in
:mod:`contentops.ledger.schema` to match, and raise :data:`LATEST_VERSION`. The migration tests
check that the revisions and the tables agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from contentops.ledger.schema import legacy_schema_version

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (~100 modules) is imported by the functions that run it, not with this module:
# ``contentops.ledger`` imports this module for its version constants, and every process that
# imports the pipelines without opening a ledger (DAG parsing above all) would load it for nothing.

SCRIPT_LOCATION = Path(__file__).resolve().parent
VERSION_TABLE = "co_alembic_version"
#: The first Alembic revision: the schema the ledger's own versioning had reached (its version 4).
BASELINE_VERSION = 4
#: The newest revision in ``versions/`` (a test checks the two agree).
LATEST_VERSION = 7
_ADVISORY_LOCK_ID = 0x636F6E74  # "cont"


def revision_id(version: int) -> str:
    """The Alembic revision id of a schema version (``4`` → ``"0004"``)."""
    return f"{version:04d}"


def read_version(conn: Connection) -> int:
    """The schema version of the ledger on ``conn``: its Alembic revision, else the version the
    ledger's pre-Alembic versioning recorded, else 0 (no ledger here). Reads only."""
    inspector = sa.inspect(conn)
    if inspector.has_table(VERSION_TABLE):
        from alembic.runtime.migration import MigrationContext

        current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
        return int(current) if current else 0
    if inspector.has_table(legacy_schema_version.name):
        return int(conn.execute(sa.select(sa.func.max(legacy_schema_version.c.version))).scalar() or 0)
    return 0


def upgrade(engine: Engine, target: int | None = None) -> int:
    """Bring the ledger to schema version ``target`` (default: the latest); returns the version
    it is at. A ledger already there or newer (migrated by newer code) is left as it is: the
    ledger is never downgraded by a task."""
    goal = LATEST_VERSION if target is None else target
    if not BASELINE_VERSION <= goal <= LATEST_VERSION:
        raise ValueError(
            f"schema version {goal} is not one this code can migrate to "
            f"({BASELINE_VERSION} to {LATEST_VERSION}; earlier versions predate the Alembic baseline)"
        )
    with engine.begin() as conn:
        _serialise(conn)
        current = read_version(conn)
        managed = sa.inspect(conn).has_table(VERSION_TABLE)
        if managed and current >= goal:
            return current
        from alembic import command

        config = _config(conn)
        if not managed and current == BASELINE_VERSION:
            command.stamp(config, revision_id(BASELINE_VERSION))
        command.upgrade(config, revision_id(goal))
        return read_version(conn)


def _serialise(conn: Connection) -> None:
    """Make concurrent upgrades of one ledger run one after the other (held until commit)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _config(conn: Connection) -> Config:
    """Alembic's configuration without an ini file: the scripts shipped in this package, run
    on the caller's connection and inside its transaction (see ``env.py``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    config.attributes["connection"] = conn
    return config
