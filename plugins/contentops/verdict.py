"""A run's verdict: a failed step fails the run, and the run's report is written all the same.

Airflow decides a DAG run's state from its leaf tasks. A pipeline's last step writes the run
report and must run even when a step before it failed (``trigger_rule="all_done"``), so that
every run — a failed one above all — leaves its report. But a report task that succeeds would
then be the only leaf and the run would show as a success although a delivery failed. So every
contentops DAG is *sealed*: one last task, :data:`VERDICT_TASK_ID`, downstream of every other
task, that only passes when none of them failed. The report says which tasks failed
(:func:`failed_tasks`), and the verdict makes the run's state say it too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

#: the sealing task's id
VERDICT_TASK_ID = "verdict"
_FAILED = frozenset({"failed", "upstream_failed"})


def seal(dag: Any) -> Any:
    """Add the run's verdict to ``dag`` (a DAG built with ``@dag``) and return the DAG.

    The verdict is an ``EmptyOperator`` with ``trigger_rule="none_failed"`` downstream of every
    task: it is *upstream_failed* — and so the run *failed* — as soon as any task failed or was
    left upstream_failed; skipped branches do not count as failures.
    """
    from airflow.providers.standard.operators.empty import EmptyOperator

    work = list(dag.tasks)
    verdict = EmptyOperator(
        task_id=VERDICT_TASK_ID,
        dag=dag,
        trigger_rule="none_failed",
        doc_md="Fails the run when any step failed (the run report is written either way).",
    )
    for task in work:
        task >> verdict
    _attach_alerts(dag)
    return dag


#: the task type of the waits on people a workflow deadline is about
WORKFLOW_WAIT_TYPES = frozenset({"WorkflowInstanceSensor"})


def _attach_alerts(dag: Any) -> None:
    """The run's alerts (``contentops.alerts``): the DAG's ``on_failure_callback`` tells the team
    of a failed run; a DAG that waits on people (workflow sensors) gets a ``DeadlineAlert`` when
    ``alerts.yaml`` sets its workflow SLA. Both notifiers read the settings only when they fire;
    the deadline's hours are read here, at parse time, and a settings file that does not validate
    leaves the DAG without a deadline (the error is logged, and every run's report says it)."""
    from contentops.alerts.notify import ContentopsNotifier

    existing = dag.on_failure_callback
    callbacks = list(existing) if isinstance(existing, list) else [existing] if existing else []
    dag.on_failure_callback = [*callbacks, ContentopsNotifier("run_failed")]
    dag.has_on_failure_callback = True
    if not any(task.task_type in WORKFLOW_WAIT_TYPES for task in dag.tasks):
        return
    from contentops.alerts.settings import load_alert_settings
    from contentops.config import SettingsError

    try:
        settings = load_alert_settings()
    except SettingsError as exc:
        log.error("No workflow deadline for %s: %s", dag.dag_id, exc)
        return
    hours = settings.sla_hours(dag.dag_id)
    if hours is None or not settings.wants("workflow_overdue"):
        return
    from datetime import timedelta

    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    alert = DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(hours=hours),
        callback=AsyncCallback(ContentopsNotifier, kwargs={"event": "workflow_overdue", "sla_hours": hours}),
        name="workflow_overdue",
    )
    dag.deadline = [*(dag.deadline or []), alert]


def failed_tasks(context: Mapping[str, Any]) -> list[str]:
    """The tasks of this run that failed or were left upstream_failed (mapped ones as
    ``<task_id>_<map_index>``), read from Airflow through the task's execution API.

    Outside a running task (no task instance to ask) the answer is an empty list.
    """
    ti, dag_run = context.get("ti"), context.get("dag_run")
    if ti is None or dag_run is None or not hasattr(ti, "get_task_states"):
        return []
    states = ti.get_task_states(dag_id=dag_run.dag_id, run_ids=[dag_run.run_id])
    of_run: dict[str, Any] = dict((states or {}).get(dag_run.run_id) or {})
    return sorted(task for task, state in of_run.items() if str(state) in _FAILED and task != VERDICT_TASK_ID)
