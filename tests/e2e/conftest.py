"""Fixtures shared by the end-to-end tests: sandboxes wired to the connections the DAGs use.

Every end-to-end module starts a few sandboxes and points each one's default Airflow connection
at it (``AIRFLOW_CONN_<ID>``, with short back-off so retried faults do not slow the run down),
plus a throwaway SQLite ledger. ``connect`` and ``ledger_url`` do that once for all of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.base import RefreshTokenStore
from contentops_sandbox import connections
from contentops_sandbox.registry import SANDBOXES

#: The connection builder of each sandbox (its connection id comes from the sandbox registry).
_CONNECTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "smintio": connections.smintio_connection,
    "workflow": connections.opentext_workflow_connection,
    "vip": connections.vip_connection,
    "trading_grid": connections.trading_grid_connection,
    "exstream": connections.exstream_connection,
    "consonance": connections.consonance_connection,
}


def connector(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, *, forget_rotated_tokens: bool
) -> Callable[..., Any]:
    """The factory behind :func:`connect`: ``forget_rotated_tokens`` when the test runs DAGs
    against the worker's Airflow database (see :func:`connect`)."""

    def start(name: str, *, extra: dict[str, Any] | None = None, **config: Any) -> Any:
        running = sandbox(name, **config)
        conn_id = SANDBOXES[name].conn_id
        conn = _CONNECTIONS[name](running.url, **{"backoff_max": 0.05, **(extra or {})})
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        if forget_rotated_tokens:
            from airflow.models.variable import Variable

            Variable.delete(RefreshTokenStore(name, conn_id).key)
        return running

    return start


@pytest.fixture
def connect(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Callable[..., Any]:
    """Factory: ``connect("smintio", options={...})`` starts the sandbox (keyword arguments go to
    the ``sandbox`` fixture) and sets its default connection to it; ``extra={...}`` adds
    connection extras. Returns the running sandbox.

    A new sandbox knows only the refresh token its connection is configured with, so a rotated
    one an earlier test left in the worker's Airflow database (the Variable the hooks keep it in)
    is forgotten: otherwise every first refresh of the test is refused and waited out first."""
    return connector(sandbox, monkeypatch, forget_rotated_tokens="airflow_db" in request.fixturenames)


@pytest.fixture
def ledger_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh SQLite ledger for the test, set as the ``contentops_ledger`` connection; its URL."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": url}})
    )
    return url
