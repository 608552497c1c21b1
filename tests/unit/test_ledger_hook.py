"""Where the ledger lives is decided by the Airflow connection, then the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from airflow.sdk import RetryAction
from legacy_ledger import create_legacy_ledger

from contentops.hooks.errors import InvalidConnectionError
from contentops.hooks.ledger import LOCAL_LEDGER_ENV, LedgerHook
from contentops.ledger import BASELINE_VERSION, LATEST_VERSION, Ledger
from contentops.retries import PARTNER_RETRY_POLICY

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


def test_without_connection_the_explicit_url_then_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_CONTENTOPS_LEDGER", raising=False)
    monkeypatch.delenv(LOCAL_LEDGER_ENV, raising=False)
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    monkeypatch.setenv("CONTENTOPS_LEDGER_URL", "sqlite:///from-env.sqlite")
    assert LedgerHook().sqlalchemy_url() == "sqlite:///from-env.sqlite"
    monkeypatch.delenv("CONTENTOPS_LEDGER_URL")
    # nothing says where the ledger is: an error naming the connection, no private SQLite file
    with pytest.raises(InvalidConnectionError, match="'contentops_ledger' is not defined") as caught:
        LedgerHook().get_ledger()
    assert PARTNER_RETRY_POLICY.evaluate(caught.value, try_number=1, max_tries=3).action is RetryAction.FAIL
    assert list(tmp_path.iterdir()) == []
    # the local file only when asked for (demos, tests)
    monkeypatch.setenv(LOCAL_LEDGER_ENV, "true")
    assert LedgerHook().sqlalchemy_url() == f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def test_a_misnamed_ledger_connection_is_an_error_whatever_else_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTOPS_LEDGER_URL", "sqlite:///from-env.sqlite")
    monkeypatch.setenv(LOCAL_LEDGER_ENV, "true")
    with pytest.raises(InvalidConnectionError, match="'ledger_typo' is not defined"):
        LedgerHook("ledger_typo").sqlalchemy_url()


def test_a_ledger_connection_without_host_or_url_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "postgres", "login": "co"}))
    with pytest.raises(InvalidConnectionError, match="needs a host") as caught:
        LedgerHook().sqlalchemy_url()
    assert PARTNER_RETRY_POLICY.evaluate(caught.value, try_number=1, max_tries=3).action is RetryAction.FAIL


def test_the_connection_test_reads_the_schema_and_never_migrates(
    monkeypatch: pytest.MonkeyPatch, ledger_url: str, tmp_path: Path
) -> None:
    empty = sa.create_engine(ledger_url)
    with empty.begin() as conn:  # an existing database that is not (yet) a ledger
        conn.execute(sa.text("CREATE TABLE someone_elses (id INTEGER)"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": ledger_url}})
    )
    ok, message = LedgerHook().test_connection()
    assert ok and "no ledger schema yet" in message
    with empty.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["someone_elses"]  # nothing created
    empty.dispose()
    create_legacy_ledger(ledger_url, version=3)  # a ledger from before the Alembic baseline
    ok, message = LedgerHook().test_connection()
    assert ok and "schema version 3" in message and f"upgrades it to {LATEST_VERSION}" in message
    Ledger(ledger_url).migrate(target=BASELINE_VERSION)
    ok, message = LedgerHook().test_connection()
    assert ok and f"schema version {BASELINE_VERSION}" in message and f"upgrades it to {LATEST_VERSION}" in message
    assert Ledger(ledger_url).schema_version() == BASELINE_VERSION  # read, not migrated
    # a SQLite file that is not there is reported, not created
    missing = tmp_path / "nowhere" / "ledger.sqlite"
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER",
        json.dumps({"conn_type": "contentops_ledger", "extra": {"url": f"sqlite:///{missing}"}}),
    )
    ok, message = LedgerHook().test_connection()
    assert not ok and "no ledger file" in message and not missing.parent.exists()


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


def test_the_connection_test_tells_a_ledger_newer_than_the_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    ledger = Ledger(url)
    ledger.migrate()
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE co_alembic_version SET version_num = '0099'"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": url}})
    )
    ok, message = LedgerHook().test_connection()
    assert ok and "schema version 99: newer than this code's" in message
    assert ledger.schema_version() == 99
