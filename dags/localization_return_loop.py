"""
### Localization return loop

Every 15 minutes, on its data interval: picks up the localized variants, translations and
resized derivatives that regional teams returned in **VIP** and partners submitted in
**Trading Grid**, and validates each before anything else — a file name that cannot leave its
folder, an allowed content type (sniffed from the bytes, not only the label), the size limit, a
download URL on the partner's own host and port, and a master in Smint.io whose license allows a
derivative in that language and region. A refused return is quarantined with its reason and the
partner is told why (VIP return status, Trading Grid reply).

Accepted returns are downloaded (streamed, never following a link off the partner's host),
uploaded to Smint.io as variants of their master, and reviewed in a **regional localization
review** workflow in OpenText Workflow Service; comments and status are kept in step both ways.
The wait for reviewers happens in the triggerer (deferrable) and is bounded per run — a review
still open is picked up by the next run. An approved variant becomes an APPROVED Exstream image
with its region and language for localized document assembly, and goes back to the region:
media of the VIP catalog item the return was attached to, for the region's regional teams, with
the return `accepted`, or a Trading Grid reply naming the approved version.

`dry_run` validates and reports without changing anything. Every run writes a report (the
run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.operators.exstream import LocalizedImagePublishOperator
from contentops.operators.opentext_workflow import LocalizationReviewStartOperator, LocalizationReviewSyncOperator
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import NAME_SCHEMA, conn_id_param, poll_interval_param
from contentops.retries import task_defaults
from contentops.sensors.workflow import WorkflowInstanceSensor
from contentops.verdict import seal

SPAN = timedelta(minutes=15)


@dag(
    dag_id="localization_return_loop",
    schedule=CronDataIntervalTimetable("*/15 * * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "localization", "vip", "trading-grid", "opentext-workflow", "exstream"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "lookback_hours": Param(
            24,
            type="integer",
            minimum=0,
            maximum=24 * 30,
            description="Also look at undecided returns received this many hours before the window",
        ),
        "max_file_mb": Param(
            50, type="number", exclusiveMinimum=0, maximum=1024, description="Largest file accepted (MB)"
        ),
        "exstream_domain": Param("retail", **NAME_SCHEMA, description="Exstream domain the localized images go to"),
        "wait_for_reviews": Param(True, type="boolean", description="Wait (deferred) for open reviews in this run"),
        "poll_interval": poll_interval_param(30),
        "dry_run": Param(False, type="boolean", description="Validate and report; change nothing"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "vip_conn_id": conn_id_param("vip_default"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
    },
)
def localization_return_loop() -> None:
    @task
    def intake(_: dict[str, object], **context: object) -> list[list[str]]:
        from contentops.pipelines import localization
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        result = localization.intake(
            run, lookback_hours=run.params["lookback_hours"], policy=localization.policy_from(run.params)
        )
        return result["batches"]

    @task(trigger_rule="all_done")
    def report(_: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        return PipelineRun.from_context(context, default_span=SPAN).write_report("Localization return loop")

    sync_licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", default_span=SPAN)
    batches = intake(sync_licenses.output)
    taken = LocalizationReviewStartOperator.partial(task_id="take_in", default_span=SPAN).expand(refs=batches)
    synced = LocalizationReviewSyncOperator(task_id="sync_reviews", default_span=SPAN, trigger_rule="none_failed")
    taken >> synced
    waits = WorkflowInstanceSensor.partial(
        task_id="wait_for_review",
        workflow_conn_id="{{ params.workflow_conn_id }}",
        poll_interval="{{ params.poll_interval }}",
        timeout=timedelta(minutes=10).total_seconds(),  # a review still open is the next run's
        soft_fail=True,
    ).expand(instance_id=synced.output)
    applied = LocalizedImagePublishOperator(task_id="apply_reviews", default_span=SPAN, trigger_rule="none_failed")
    waits >> applied
    report(applied.output)


seal(localization_return_loop())
