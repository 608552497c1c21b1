"""The ledger's Airflow side: which database it lives in comes from an Airflow connection.

Looked up in this order: the connection ``contentops_ledger`` (any connection type whose
URI SQLAlchemy understands — ``postgresql://…``, ``postgres://…``, ``sqlite:///…`` — or a
full SQLAlchemy URL in its extra as ``url``), then the environment variable
``CONTENTOPS_LEDGER_URL``. Nothing else: exactly-once across workers rests on every worker
writing to the same ledger, so a missing or misnamed connection is an error naming it, never a
silent switch to a private SQLite file. The local file ``ledger.sqlite`` under
``$CONTENTOPS_HOME`` (default ``./var``) is used only when asked for with
``CONTENTOPS_LEDGER_LOCAL=true`` (single-machine demos and tests).

The schema is migrated on first use in a task's process (the Alembic revisions shipped in
:mod:`contentops.ledger.migrations`); the connection test only reads it.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, ClassVar

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from sqlalchemy.engine import URL, make_url

from contentops.config import contentops_home
from contentops.hooks.errors import InvalidConnectionError
from contentops.ledger import LATEST_VERSION, Ledger

#: Set to ``true`` to allow the local SQLite ledger when no connection or URL names one.
LOCAL_LEDGER_ENV = "CONTENTOPS_LEDGER_LOCAL"

_LEDGERS: dict[str, Ledger] = {}
_LOCK = threading.Lock()


class LedgerHook(BaseHook):
    """Gives tasks the ledger named by an Airflow connection."""

    conn_name_attr: ClassVar[str] = "ledger_conn_id"
    default_conn_name: ClassVar[str] = "contentops_ledger"
    conn_type: ClassVar[str] = "contentops_ledger"
    hook_name: ClassVar[str] = "contentops ledger"

    def __init__(self, ledger_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ledger_conn_id = ledger_conn_id

    def sqlalchemy_url(self) -> str:
        """The ledger's URL, or :class:`InvalidConnectionError` naming the connection id when
        nothing says where the ledger is (which fails the task at once: see contentops.retries)."""
        try:
            conn = self.get_connection(self.ledger_conn_id)
        except AirflowNotFoundException:
            conn = None  # any other failure to read it (a secrets backend down) propagates
        if conn is not None:
            extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
            if extra.get("url"):
                return str(extra["url"])
            return _sqlalchemy_url(conn)
        if self.ledger_conn_id != self.default_conn_name:
            raise _not_defined(self.ledger_conn_id, "the DAG's ledger_conn_id names it")
        if os.environ.get("CONTENTOPS_LEDGER_URL"):
            return os.environ["CONTENTOPS_LEDGER_URL"]
        if _truthy(os.environ.get(LOCAL_LEDGER_ENV)):
            path = contentops_home() / "ledger.sqlite"
            path.parent.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{path}"
        raise _not_defined(
            self.ledger_conn_id,
            f"nor is CONTENTOPS_LEDGER_URL set; {LOCAL_LEDGER_ENV}=true allows a local SQLite ledger (demos only)",
        )

    def get_conn(self) -> Ledger:
        return self.get_ledger()

    def get_ledger(self) -> Ledger:
        """The migrated ledger for this connection (one engine per URL and process)."""
        url = self.sqlalchemy_url()
        with _LOCK:
            ledger = _LEDGERS.get(url)
            if ledger is None:
                ledger = Ledger(url)
                ledger.migrate()
                _LEDGERS[url] = ledger
                self.log.info("Ledger at %s (schema version %s)", repr(ledger), ledger.schema_version())
        return ledger

    def test_connection(self) -> tuple[bool, str]:
        """Connect and read the schema version; never migrate (a test must not change the
        database it is pointed at, which may be the wrong one) nor create a SQLite file."""
        try:
            url = self.sqlalchemy_url()
            parsed = make_url(url)
            file = parsed.database if parsed.get_backend_name() == "sqlite" else None
            if file not in (None, "", ":memory:") and not os.path.exists(str(file)):
                return False, f"no ledger file at {file} yet (a task creates it on first use; is the path right?)"
            ledger = Ledger(url)
            try:
                version = ledger.schema_version()
            finally:
                ledger.dispose()
        except Exception as exc:
            return False, f"ledger not usable: {type(exc).__name__}: {exc}"
        if version == 0:
            return True, "database reachable, no ledger schema yet (the first task creates it)"
        if version < LATEST_VERSION:
            return True, f"ledger reachable, schema version {version} (the next task upgrades it to {LATEST_VERSION})"
        if version > LATEST_VERSION:
            return True, (
                f"ledger reachable, schema version {version}: newer than this code's {LATEST_VERSION} "
                "(upgraded by a newer release; it is left as it is)"
            )
        return True, f"ledger reachable, schema version {version}"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _not_defined(conn_id: str, why: str) -> InvalidConnectionError:
    return InvalidConnectionError(
        f"the ledger connection {conn_id!r} is not defined ({why}); refusing to fall back to a local ledger",
        system="ledger",
    )


def _sqlalchemy_url(conn: Any) -> str:
    """A SQLAlchemy URL from a connection's fields: PostgreSQL (psycopg 3) or a SQLite file."""
    if conn.conn_type == "sqlite" or (conn.host or "").endswith((".sqlite", ".db", ".sqlite3")):
        return f"sqlite:///{conn.host}"
    if not conn.host:
        raise InvalidConnectionError(
            f"connection {conn.conn_id!r} needs a host, or a SQLAlchemy URL in its extra as 'url'", system="ledger"
        )
    return URL.create(
        "postgresql+psycopg",
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host,
        port=conn.port or None,
        database=conn.schema or None,
    ).render_as_string(hide_password=False)
