"""The DAGs the end-to-end tests run with ``dag.test()``, parsed from their files as the
dag-processor parses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROJECT_DAGS = Path(__file__).resolve().parents[2] / "dags"
TEST_DAGS = Path(__file__).resolve().parent / "dags"


def load_dag(dag_id: str, *, folder: Path = PROJECT_DAGS, retries: int | None = 0) -> Any:
    """The DAG ``dag_id`` from ``<folder>/<dag_id>.py``.

    Retries are off unless asked for: a failure in an end-to-end run is a finding, not something
    to wait minutes of back-off for. ``retries=None`` keeps what the DAG file says."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(folder / f"{dag_id}.py")).dags[dag_id]
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
    return dag
