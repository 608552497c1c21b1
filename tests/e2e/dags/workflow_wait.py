"""Test DAG: start a workflow once on the worker, wait for it in the triggerer."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from contentops.sensors.workflow import WorkflowInstanceSensor


@dag(dag_id="workflow_wait", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def workflow_wait() -> None:
    @task
    def start(**context: object) -> str:
        from contentops.hooks.ledger import LedgerHook
        from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
        from contentops.pipelines.workflows import business_key, start_workflow_once

        instance, _ = start_workflow_once(
            OpenTextWorkflowHook(),
            LedgerHook().get_ledger(),
            "rights_renewal",
            business_key("rights_renewal", "asset-1", 1),
            name="Renew asset-1",
            run_id=context["run_id"],  # type: ignore[arg-type]
        )
        return instance.id

    wait = WorkflowInstanceSensor(task_id="wait", instance_id="{{ ti.xcom_pull(task_ids='start') }}", poll_interval=0.5)

    @task
    def use(result: dict[str, object]) -> str:
        return f"disposition={result['outcome']}"

    started = start()
    started >> wait
    use(wait.output)


workflow_wait()
