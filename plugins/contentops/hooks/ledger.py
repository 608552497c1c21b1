"""The ledger's Airflow side: which database it lives in comes from an Airflow connection.

Looked up in this order: the connection ``contentops_ledger`` (any connection type whose
URI SQLAlchemy understands — ``postgresql://…``, ``postgres://…``, ``sqlite:///…`` — or a
full SQLAlchemy URL in its extra as ``url``), then the environment variable
``CONTENTOPS_LEDGER_URL``, then a SQLite file ``ledger.sqlite`` under ``$CONTENTOPS_HOME/var``
(default ``./var``). The ledger's schema is migrated on first use in a process.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, ClassVar

from airflow.sdk import BaseHook
from sqlalchemy.engine import URL

from contentops.config import contentops_home
from contentops.ledger import Ledger

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
        try:
            conn = self.get_connection(self.ledger_conn_id)
        except Exception:
            conn = None
        if conn is not None:
            extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
            if extra.get("url"):
                return str(extra["url"])
            return _sqlalchemy_url(conn)
        if os.environ.get("CONTENTOPS_LEDGER_URL"):
            return os.environ["CONTENTOPS_LEDGER_URL"]
        path = contentops_home() / "ledger.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"

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
        try:
            version = Ledger(self.sqlalchemy_url()).migrate()
        except Exception as exc:
            return False, f"ledger not usable: {type(exc).__name__}: {exc}"
        return True, f"ledger reachable, schema version {version}"


def _sqlalchemy_url(conn: Any) -> str:
    """A SQLAlchemy URL from a connection's fields: PostgreSQL (psycopg 3) or a SQLite file."""
    if conn.conn_type == "sqlite" or (conn.host or "").endswith((".sqlite", ".db", ".sqlite3")):
        return f"sqlite:///{conn.host}"
    if not conn.host:
        raise ValueError(f"connection {conn.conn_id!r} needs a host, or a SQLAlchemy URL in its extra as 'url'")
    return URL.create(
        "postgresql+psycopg",
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host,
        port=conn.port or None,
        database=conn.schema or None,
    ).render_as_string(hide_password=False)
