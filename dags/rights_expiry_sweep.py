"""
### Rights expiry sweep

Daily, on its data interval: reads what changed in Smint.io's license feed into the ledger's
license index, then assesses every license that is expired, expires within `horizon_days` of
the interval's end, or reached a usage limit — **as of the interval's end**, so a backfill of a
past day reproduces that day's decisions.

For each affected asset it starts, once per license version, a **rights renewal** workflow
(renew / replace / takedown) in OpenText Workflow Service — or a **compliance exception**
workflow when the license data is missing, or when an approved asset lacks required metadata,
has no license at all or violates the compliance policy (once per asset and reason) — waits
for the disposition in the triggerer
(deferrable: no worker slot is held), and writes the disposition back to Smint.io; media
delivered to VIP catalog items is withdrawn on a takedown or re-restricted to a renewed end
date, and the Trading Grid communities that received an asset get updated usage guidance; Exstream image
resources are moved out of APPROVED on a takedown, or get the renewed expiry in their metadata;
the Consonance titles the asset is attached to record its license terms, expiry and permitted
usage (renewed, ended, …) once per disposition.

`dry_run` decides and reports without starting or changing anything. Emits the Asset
`contentops://rights-changes`. Every run writes a report (the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.assets import RIGHTS_CHANGES
from contentops.operators.rights import RightsSweepApplyOperator, RightsSweepAssessOperator, RightsSweepStartOperator
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param, names_param, poll_interval_param
from contentops.retries import task_defaults
from contentops.sensors.workflow import WorkflowInstanceSensor
from contentops.verdict import seal


@dag(
    dag_id="rights_expiry_sweep",
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "rights", "smintio", "opentext-workflow"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "horizon_days": Param(
            30,
            type="integer",
            minimum=1,
            maximum=365,
            description="Licenses expiring within this many days of the run's end are affected",
        ),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "providers": names_param([], "Only these stock providers (getty, istock, …); empty = all"),
        "poll_interval": poll_interval_param(30),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
        "vip_conn_id": conn_id_param("vip_default"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
        "consonance_conn_id": conn_id_param("consonance_default"),
    },
)
def rights_expiry_sweep() -> None:
    sync_licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", assess_horizon_days="{{ params.horizon_days }}")
    assess = RightsSweepAssessOperator(
        task_id="assess", horizon_days="{{ params.horizon_days }}", providers="{{ params.providers }}"
    )
    started = RightsSweepStartOperator.partial(task_id="start_workflows").expand(batch=assess.output)

    @task(trigger_rule="none_failed")
    def instance_ids(started: list[list[str]]) -> list[str]:
        return [instance for batch in started for instance in batch]

    @task(trigger_rule="all_done")
    def report(_: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        return PipelineRun.from_context(context).write_report("Rights expiry sweep")

    sync_licenses >> assess
    ids = instance_ids(started.output)
    waits = WorkflowInstanceSensor.partial(
        task_id="wait_for_disposition",
        workflow_conn_id="{{ params.workflow_conn_id }}",
        poll_interval="{{ params.poll_interval }}",
    ).expand(instance_id=ids)
    apply_dispositions = RightsSweepApplyOperator(
        task_id="apply_dispositions", results=waits.output, trigger_rule="none_failed", outlets=[RIGHTS_CHANGES]
    )
    report(apply_dispositions.output)


seal(rights_expiry_sweep())
