"""A connection that is not defined fails the task on its first try, naming the connection id —
instead of three tries over a minute that fail the same way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

pytestmark = pytest.mark.e2e


def test_a_missing_partner_connection_fails_at_once_naming_its_id(
    airflow_db: Path,
    connect: Callable[..., Any],
    ledger_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    connect("smintio")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    dag = load_dag("smintio_license_sync", retries=None)
    assert dag.get_task("sync_licenses").retries == 2

    run = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC), run_conf={"smintio_conn_id": "smintio_typo"})
    assert run.state == "failed"
    (sync,) = [ti for ti in run.get_task_instances() if ti.task_id == "sync_licenses"]
    assert sync.state == "failed" and sync.try_number == 1
    assert "connection 'smintio_typo' is not defined" in "".join(capfd.readouterr())


def test_a_missing_ledger_connection_fails_at_once_and_writes_no_local_ledger(
    airflow_db: Path,
    connect: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    connect("smintio")
    monkeypatch.delenv("AIRFLOW_CONN_CONTENTOPS_LEDGER", raising=False)
    monkeypatch.delenv("CONTENTOPS_LEDGER_URL", raising=False)
    monkeypatch.delenv("CONTENTOPS_LEDGER_LOCAL", raising=False)
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    dag = load_dag("smintio_license_sync", retries=None)

    run = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC))
    assert run.state == "failed"
    (sync,) = [ti for ti in run.get_task_instances() if ti.task_id == "sync_licenses"]
    assert sync.state == "failed" and sync.try_number == 1
    assert "ledger connection 'contentops_ledger' is not defined" in "".join(capfd.readouterr())
    assert not (tmp_path / "ledger.sqlite").exists()
