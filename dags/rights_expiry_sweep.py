"""
### Rights expiry sweep

Daily, on its data interval: reads what changed in Smint.io's license feed into the ledger's
license index, then assesses every license that is expired, expires within `horizon_days` of
the interval's end, or reached a usage limit — **as of the interval's end**, so a backfill of a
past day reproduces that day's decisions.

For each affected asset it starts, once per license version, a **rights renewal** workflow
(renew / replace / takedown) in OpenText Workflow Service — or a **compliance exception**
workflow when the license data is missing, or when an approved asset lacks required metadata,
has no license at all or violates the compliance policy (once per asset and reason) — and
finishes: it does not wait for the people who decide. Each disposition is applied as soon as its
own workflow ends by **`workflow_outcomes`** (every 10 minutes, and at once on the Asset
`contentops://opentext-workflow/started` this DAG emits when workflows are open), so one slow
renewal holds back no takedown of the same day; a renewal still open after 3 days
(`include/config/workflow_outcomes.yaml`) is escalated once. The disposition is written back to
Smint.io; media delivered to VIP catalog items is withdrawn on a takedown or re-restricted to a renewed end
date, and the Trading Grid communities that received an asset get updated usage guidance; Exstream image
resources are moved out of APPROVED on a takedown, or get the renewed expiry in their metadata;
the Consonance titles the asset is attached to record its license terms, expiry and permitted
usage (renewed, ended, …) once per disposition.

`dry_run` decides and reports without starting or changing anything. `workflow_outcomes` emits
the Asset `contentops://rights-changes` when it applied dispositions. Every run writes a report
(the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.assets import WORKFLOWS_STARTING
from contentops.operators.rights import RightsSweepAssessOperator, RightsSweepStartOperator
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param, names_param
from contentops.retries import task_defaults
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

    @task(trigger_rule="none_failed", outlets=[WORKFLOWS_STARTING])
    def finish_review(started: list[list[str]], **context: object) -> dict[str, int]:
        """Every start succeeded: the review is done; the open workflows are handed to workflow_outcomes."""
        from contentops.assets import announce_started
        from contentops.pipelines import rights_sweep
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context)
        counts = rights_sweep.finish_started(run, started)
        announce_started(context["outlet_events"], counts["workflows_open"], dry_run=run.dry_run)
        return counts

    @task(trigger_rule="all_done")
    def report(_: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        return PipelineRun.from_context(context).write_report("Rights expiry sweep")

    sync_licenses >> assess
    report(finish_review(started.output))


seal(rights_expiry_sweep())
