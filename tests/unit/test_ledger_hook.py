"""Where the ledger lives is decided by the Airflow connection, then the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contentops.hooks.ledger import LedgerHook

pytestmark = pytest.mark.unit


def test_postgres_connection_becomes_a_psycopg_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "db.internal",
                "login": "co",
                "password": "p@ss/word",
                "schema": "contentops",
                "port": 5433,
            }
        ),
    )
    url = LedgerHook().sqlalchemy_url()
    assert url == "postgresql+psycopg://co:p%40ss%2Fword@db.internal:5433/contentops"


def test_extra_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MY_LEDGER", json.dumps({"conn_type": "generic", "extra": {"url": "sqlite://"}}))
    assert LedgerHook("my_ledger").sqlalchemy_url() == "sqlite://"


def test_without_connection_env_then_default_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_CONTENTOPS_LEDGER", raising=False)
    monkeypatch.setenv("CONTENTOPS_LEDGER_URL", "sqlite:///from-env.sqlite")
    assert LedgerHook().sqlalchemy_url() == "sqlite:///from-env.sqlite"
    monkeypatch.delenv("CONTENTOPS_LEDGER_URL")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    assert LedgerHook().sqlalchemy_url() == f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def test_get_ledger_migrates_and_is_reused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "l.sqlite")})
    )
    first = LedgerHook().get_ledger()
    first.set_cursor("c", "1")
    assert LedgerHook().get_ledger() is first
    ok, message = LedgerHook().test_connection()
    assert ok and "schema version" in message


@pytest.mark.postgres
def test_postgres_ledger_through_the_hook(monkeypatch: pytest.MonkeyPatch, pg_database: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_database)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER",
        json.dumps(
            {"conn_type": "postgres", "host": url.host, "login": url.username, "schema": url.database, "port": url.port}
        ),
    )
    ledger = LedgerHook().get_ledger()
    ledger.set_cursor("pg", "yes")
    assert ledger.get_cursor("pg") == "yes"
    ledger.dispose()
