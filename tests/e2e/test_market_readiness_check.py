"""The example DAG of docs/operators.md (docs/examples/market_readiness_check.py) end to end:
dag.test() against the Smint.io sandbox, every decision in the ledger's audit trail and the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_the_example_gates_the_forms_assets_and_reports_each_refusal(
    airflow_db: Path, connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    connect("smintio", options={"seeded_transactions": 36})
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    dag = load_dag("market_readiness_check", folder=EXAMPLES)
    conf = {
        # license 0: worldwide, online + print; license 1: Europe, online; license 3 ended; 10 is a draft
        "asset_ids": ["asset-spring-01", "asset-spring-02", "asset-spring-04", "asset-spring-10"],
        "target": "exstream:retail-banking",
        "channel": "online",
        "regions": ["de", "us"],
    }
    run = dag.test(run_conf=conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success" and set(states) == {"sync_licenses", "gate", "report", "verdict"}, states
    assert set(states.values()) == {"success"}, states
    ledger = Ledger(ledger_url)
    trail = ledger.audit_trail(run_id=run.run_id)
    decisions = {(e.subject, e.action, (e.details or {}).get("region")) for e in trail}
    assert ("asset-spring-01", "cleared", None) in decisions
    assert {("asset-spring-02", "refused", "us"), ("asset-spring-02", "cleared", None)} <= decisions
    assert ("asset-spring-04", "refused", "de") in decisions and ("asset-spring-04", "refused", "us") in decisions
    assert ("asset-spring-10", "refused", None) in decisions
    assert all(
        (e.details or {}).get("target") == "exstream:retail-banking" for e in trail if e.subject.startswith("asset-")
    )
    (gate,) = [ti for ti in run.get_task_instances() if ti.task_id == "gate"]
    assert gate.xcom_pull(task_ids="gate")["cleared"] == ["asset-spring-01", "asset-spring-02"]
    summary = ledger.run_summary("market_readiness_check", run.run_id)
    assert summary and Path(summary["report_path"]).is_file()
