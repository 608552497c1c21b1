"""localization_return_loop's wiring: a 15-minute data interval, the form's Params, and a review
wait that is deferred, bounded per run and never fails the run (open reviews carry over)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.dags

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "localization_return_loop.py"


@pytest.fixture
def dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAG_FILE)).dags["localization_return_loop"]


def test_runs_every_fifteen_minutes_on_a_real_interval(dag: Any) -> None:
    from airflow.sdk import CronDataIntervalTimetable

    assert isinstance(dag.timetable, CronDataIntervalTimetable)  # not an empty trigger interval
    assert dag.timetable.expression == "*/15 * * * *"
    assert dag.max_active_runs == 1


def test_the_trigger_form_offers_the_run_settings(dag: Any) -> None:
    assert {"lookback_hours", "max_file_mb", "exstream_domain", "wait_for_reviews", "dry_run"} <= set(dag.params)
    assert dag.params["dry_run"] is False and dag.params["wait_for_reviews"] is True


def test_review_wait_is_deferred_bounded_and_soft(dag: Any) -> None:
    wait = dag.get_task("wait_for_review")
    kwargs = wait.partial_kwargs
    assert kwargs["soft_fail"] is True  # a review still open is the next run's, not a failure
    assert 0 < kwargs["timeout"] < timedelta(minutes=15).total_seconds()  # done before the next slot
    assert wait.operator_class.__name__ == "WorkflowInstanceSensor"
    assert {t.task_id for t in wait.downstream_list} == {"apply_reviews", "verdict"}
