"""
### Smint.io license sync

Keeps the ledger's **license index** in step with Smint.io: every license purchase transaction
that changed since the stored `continuation_uuid` is read, validated and indexed with its rights
and expiry. Records that fail validation are quarantined with their reason (the run goes on);
the cursor advances page by page, so an interrupted run resumes where it stopped.

Emits the Airflow Asset `contentops://smintio/licenses`, on which the rights pipelines are
scheduled. Each run writes a report (the **Run report** tab of the run).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, DeltaDataIntervalTimetable, Param, dag, task

from contentops.assets import SMINTIO_LICENSE_PUSH as LICENSE_PUSH
from contentops.assets import SMINTIO_LICENSES as LICENSES
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param
from contentops.retries import task_defaults
from contentops.verdict import seal


@dag(
    dag_id="smintio_license_sync",
    schedule=AssetOrTimeSchedule(timetable=DeltaDataIntervalTimetable(timedelta(hours=1)), assets=LICENSE_PUSH),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "smintio", "licenses"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "page_size": Param(100, type="integer", minimum=1, maximum=100, description="Transactions per page"),
        "max_pages": Param(
            None, type=["null", "integer"], minimum=1, maximum=100_000, description="Stop after this many pages"
        ),
        "smintio_conn_id": conn_id_param("smintio_default", "Smint.io connection"),
    },
)
def smintio_license_sync() -> None:
    sync_licenses = SmintioLicenseSyncOperator(
        task_id="sync_licenses",
        page_size="{{ params.page_size }}",
        max_pages="{{ params.max_pages }}",
        outlets=[LICENSES],
    )

    @task(trigger_rule="all_done")
    def report(counts: dict[str, object], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context)
        feed = counts or {}  # None when sync_licenses failed: the report is written all the same
        summary = ", ".join(f"{key} {feed.get(key, 0)}" for key in ("pages", "indexed", "skipped", "quarantined"))
        return run.write_report("Smint.io license sync", notes=[f"Feed: {summary}."])

    report(sync_licenses.output)


seal(smintio_license_sync())
