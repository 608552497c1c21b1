"""The deferrable wait really defers: the trigger polls the sandbox and resumes the task."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import TEST_DAGS, load_dag

from contentops.ledger import Ledger
from contentops_sandbox.connections import opentext_workflow_connection

pytestmark = pytest.mark.e2e


def test_sensor_defers_then_returns_the_outcome(
    airflow_db: Path,
    sandbox: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    running = sandbox("workflow")
    # the workflow ends 6 s after it starts (real seconds: the sandbox clock is not moved); long
    # enough that the trigger's first poll, on a loaded 2-core machine, still finds it running
    running.admin("PUT", "workflow/auto-complete", json={"rights_renewal": {"outcome": "renew", "after_seconds": 6}})
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_WORKFLOW_DEFAULT", json.dumps(opentext_workflow_connection(running.url)))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": ledger_url}})
    )
    dag = load_dag("workflow_wait", folder=TEST_DAGS, retries=None)
    run = dag.test(logical_date=datetime(2026, 11, 24, tzinfo=UTC))
    assert run.state == "success"
    states = {ti.task_id: ti for ti in run.get_task_instances()}
    assert states["use"].xcom_pull(task_ids="use") == "disposition=renew"
    # the wait happened in the trigger (its poll log lines), not in a poking worker
    out, err = capfd.readouterr()
    assert "still running; next look" in out + err
    polls = running.context.stats.by_route
    instance_reads = sum(n for route, n in polls.items() if route.startswith("GET /workflow/v1/process-instances/"))
    assert instance_reads >= 3  # the sensor's first look + the trigger's polls until the end
    record = Ledger(ledger_url).process("rights_renewal:asset-1:v1")
    assert record is not None and record.instance_id
