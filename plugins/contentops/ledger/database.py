"""The connection every store of one ledger shares: one engine, one upsert dialect."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool


class LedgerDatabase:
    """The ledger's database at a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``)."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or create_ledger_engine(url)
        #: ``insert`` with ``on_conflict_do_*``: upserts are written once for both databases
        self.insert: Callable[..., Any] = (
            postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def connect(self) -> Connection:
        return self.engine.connect()

    def describe(self) -> str:
        """The URL without its password, for logs and ``repr``."""
        return self.engine.url.render_as_string(hide_password=True)


def create_ledger_engine(url: str) -> Engine:
    """An engine for the ledger: SQLite with WAL and a busy timeout (several task processes
    write one file), an in-memory SQLite shared across connections, PostgreSQL with pre-ping."""
    if url.startswith("sqlite"):
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            options["poolclass"] = StaticPool
        engine = sa.create_engine(url, **options)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


#: how long a connection keeps trying to switch a ledger file to WAL while another holds a lock
_WAL_SWITCH_WAIT = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    _switch_to_wal(cursor)
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so: later connections find it there). SQLite answers
    "database is locked" at once, without its busy handler, when another connection holds a
    lock during the switch — as when several tasks open a ledger made in rollback mode (one
    created before WAL, or by another tool) together — so the switch is tried again until one
    connection has made it."""
    deadline = time.monotonic() + _WAL_SWITCH_WAIT
    pause = 0.01
    while True:
        try:
            # answers the mode the file is in afterwards ("memory" for an in-memory database)
            cursor.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
