"""A trigger's conf with keys that are not Params of the DAG: the run's report names them (the
log line is asserted in tests/unit/test_pipeline_runtime.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e


def test_unknown_conf_keys_are_named_in_the_log_and_the_report(
    airflow_db: Path,
    connect: Callable[..., Any],
    ledger_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    connect("smintio", options={"seeded_transactions": 5})
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    run = load_dag("smintio_license_sync").test(
        logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC), run_conf={"page_size": 7, "dry_rn": True}
    )
    assert run.state == "success"
    summary = Ledger(ledger_url).run_summary("smintio_license_sync", run.run_id)
    assert summary and summary["counts"].get("unknown_conf_keys") == 1
    assert "dry_rn" in Path(summary["report_path"]).read_text()
