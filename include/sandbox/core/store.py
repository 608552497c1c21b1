"""A small JSON document store on SQLite: the sandboxes' state on disk.

Each document has a kind, an id, a per-document ``version`` and a store-wide ``seq``
that grows on every write. ``seq`` is what the sandboxes page "changes since a cursor"
on, the way the real services page their change feeds; every write is also appended to
a history table so a test (or a person) can see what a partner system was asked to do.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_kind_seq ON docs (kind, seq);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Document:
    """One stored document with its bookkeeping."""

    kind: str
    id: str
    seq: int
    version: int
    updated_at: str
    body: dict[str, Any]


class DocumentStore:
    """Thread-safe JSON documents in one SQLite file (``":memory:"`` for throwaway state)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    # -- writes -----------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store across a read-modify-write (a handler adding to a list in a document
        while another handler does the same must not lose either change). Reentrant."""
        with self._lock:
            yield

    def put(self, kind: str, doc_id: str, body: dict[str, Any], *, action: str = "put") -> Document:
        """Create or replace a document; bumps its version and the store's seq."""
        now = datetime.now(UTC).isoformat()
        text = json.dumps(body, separators=(",", ":"), default=str)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT version FROM docs WHERE kind=? AND id=?", (kind, doc_id)).fetchone()
                version = (row[0] + 1) if row else 1
                seq = self._bump("seq")
                self._db.execute(
                    "INSERT INTO docs(kind,id,seq,version,updated_at,body) VALUES(?,?,?,?,?,?) "
                    "ON CONFLICT(kind,id) DO UPDATE SET seq=excluded.seq, version=excluded.version, "
                    "updated_at=excluded.updated_at, body=excluded.body",
                    (kind, doc_id, seq, version, now, text),
                )
                self._db.execute(
                    "INSERT INTO history(seq,kind,id,version,action,at,body) VALUES(?,?,?,?,?,?,?)",
                    (seq, kind, doc_id, version, action, now, text),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return Document(kind, doc_id, seq, version, now, body)

    def put_many(self, kind: str, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Bulk insert for seeding (one transaction, no history rows)."""
        now = datetime.now(UTC).isoformat()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for doc_id, body in items:
                    seq = self._bump("seq")
                    self._db.execute(
                        "INSERT OR REPLACE INTO docs(kind,id,seq,version,updated_at,body) VALUES(?,?,?,?,?,?)",
                        (kind, doc_id, seq, 1, now, json.dumps(body, separators=(",", ":"), default=str)),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete(self, kind: str, doc_id: str) -> bool:
        """Remove a document (kept in history)."""
        now = datetime.now(UTC).isoformat()
        with self._lock:
            cur = self._db.execute("DELETE FROM docs WHERE kind=? AND id=?", (kind, doc_id))
            if cur.rowcount:
                seq = self._bump("seq")
                self._db.execute(
                    "INSERT INTO history(seq,kind,id,version,action,at,body) VALUES(?,?,?,?,?,?,NULL)",
                    (seq, kind, doc_id, 0, "delete", now),
                )
            return bool(cur.rowcount)

    def next_id(self, name: str) -> int:
        """A monotonically growing number, for server-assigned ids."""
        with self._lock:
            return self._bump(f"id:{name}")

    def _bump(self, name: str) -> int:
        row = self._db.execute(
            "INSERT INTO counters(name,value) VALUES(?,1) "
            "ON CONFLICT(name) DO UPDATE SET value=value+1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    # -- reads ------------------------------------------------------------------------
    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        doc = self.get_document(kind, doc_id)
        return doc.body if doc else None

    def get_document(self, kind: str, doc_id: str) -> Document | None:
        with self._lock:
            row = self._db.execute(
                "SELECT kind,id,seq,version,updated_at,body FROM docs WHERE kind=? AND id=?", (kind, doc_id)
            ).fetchone()
        return _doc(row) if row else None

    def documents(self, kind: str, *, after_seq: int = 0, limit: int | None = None) -> list[Document]:
        """Documents of a kind in write order (oldest change first), optionally after a seq."""
        sql = "SELECT kind,id,seq,version,updated_at,body FROM docs WHERE kind=? AND seq>? ORDER BY seq"
        params: tuple[Any, ...] = (kind, after_seq)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_doc(r) for r in rows]

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every document body of a kind, in write order."""
        return [d.body for d in self.documents(kind)]

    def iter_all(self, kind: str, batch: int = 500) -> Iterator[Document]:
        after = 0
        while True:
            docs = self.documents(kind, after_seq=after, limit=batch)
            if not docs:
                return
            yield from docs
            after = docs[-1].seq

    def count(self, kind: str) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM docs WHERE kind=?", (kind,)).fetchone()[0])

    def history(self, kind: str | None = None, doc_id: str | None = None) -> list[dict[str, Any]]:
        """Every write, oldest first: what the partner system was asked to do."""
        sql = "SELECT seq,kind,id,version,action,at,body FROM history WHERE 1=1"
        params: list[Any] = []
        if kind:
            sql += " AND kind=?"
            params.append(kind)
        if doc_id:
            sql += " AND id=?"
            params.append(doc_id)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY seq", params).fetchall()
        return [
            {
                "seq": r[0],
                "kind": r[1],
                "id": r[2],
                "version": r[3],
                "action": r[4],
                "at": r[5],
                "body": json.loads(r[6]) if r[6] else None,
            }
            for r in rows
        ]

    def clear(self) -> None:
        with self._lock:
            self._db.executescript("DELETE FROM docs; DELETE FROM history; DELETE FROM counters;")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _doc(row: tuple[Any, ...]) -> Document:
    return Document(row[0], row[1], int(row[2]), int(row[3]), row[4], json.loads(row[5]))
