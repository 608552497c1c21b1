"""A failed step fails the run, the run's report is written all the same (marked failed), and a
run that failed or had nothing to release sends nothing to partners (issue: no hidden failure,
nothing sent for a failed or empty run)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag
from e2e.test_campaign_release import _env

from contentops.verdict import VERDICT_TASK_ID

pytestmark = pytest.mark.e2e


def _states(run: Any) -> dict[str, str]:
    return {
        ti.task_id if ti.map_index < 0 else f"{ti.task_id}_{ti.map_index}": ti.state for ti in run.get_task_instances()
    }


def _report(tmp_path: Path, run: Any) -> str:
    (html,) = (tmp_path / "reports" / run.dag_id).glob("*/report.html")
    return html.read_text()


@pytest.fixture
def env(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    return _env(sandbox, monkeypatch, tmp_path)


def test_an_unknown_campaign_fails_the_run_clearly_writes_its_report_and_posts_nothing(
    airflow_db: Path, env: dict[str, Any], tmp_path: Path
) -> None:
    run = load_dag("campaign_release").test(run_conf={"campaign": "no-such-campaign"})

    states = _states(run)
    assert run.state == "failed"
    assert states["plan"] == "failed" and states[VERDICT_TASK_ID] == "upstream_failed"
    assert states["report"] == "success"  # written although the run failed
    page = _report(tmp_path, run)
    assert "This run failed" in page and "plan" in page.split("Failed tasks:", 1)[1].split("</p>", 1)[0]
    assert env["grid"].context.store.all("post") == []  # no empty launch kit to real partners
    assert [m for m in env["vip"].context.store.all("media") if m.get("asset_id", "").startswith("asset-spring")] == []
    assert env["exstream"].context.store.all("resource") == [] or all(
        not (r.get("metadata") or {}).get("source_asset") for r in env["exstream"].context.store.all("resource")
    )


def test_a_run_that_failed_before_any_delivery_posts_no_launch_kit(
    airflow_db: Path, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The approvals cannot start (the Workflow Service refuses every login), so nothing is
    delivered; the kits' finalize step still runs (all_done) and must not publish empty kits."""
    broken = json.loads(os.environ["AIRFLOW_CONN_OPENTEXT_WORKFLOW_DEFAULT"])
    broken["password"] = "not-the-secret"
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_WORKFLOW_DEFAULT", json.dumps(broken))

    run = load_dag("campaign_release").test()

    states = _states(run)
    assert run.state == "failed"
    assert any(task.startswith("start_approvals") and state == "failed" for task, state in states.items()), states
    assert states["finalize"] == "success" and states["report"] == "success"
    assert env["grid"].context.store.all("post") == []
    assert "This run failed" in _report(tmp_path, run)
