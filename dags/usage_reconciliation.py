"""
### Usage reconciliation

Daily, on its data interval (whole days, from midnight of the interval's start):

0. **Review outcomes (OWS-8)** — compliance reviews started by earlier runs that have ended since
   (the open ones are read from the ledger) are applied to their Smint.io asset, once each:
   `cleared` tags it `compliance:cleared`, `restrict` sends it back to review and tags it
   `compliance:restricted`, `removed` retires it — each with the reviewer's comment.
1. **Licenses** — Smint.io's license feed into the ledger's license index (as the sweep does).
2. **Usage (EXS-7)** — Exstream's usage records of each domain (the `domains` Param, or every
   domain): which image resource appeared in which communication stream, when, in what volume and
   where, matched to the Smint.io asset it was delivered from. Unreadable records are quarantined;
   usage of resources contentops never delivered is reported.
3. **Reconcile (EXS-7, OWS-8)** — per asset, the volumes per day and stream are written to the
   asset's `exstream_usage` metadata in Smint.io and kept in the ledger's audit trail, and compared
   with the asset's license: usage over `volume_threshold`, outside the licensed regions
   (`check_regions`), after the license ended (`check_expiry`), or a license downloaded more often
   than `download_threshold` starts one **compliance review** in OpenText Workflow Service per asset
   and `review_period`.

Every write happens once; a re-run or backfill of a day changes nothing (a corrected figure is an
update). `dry_run` reports without writing. Every run writes a report (the **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.operators.smintio import SmintioComplianceOutcomeOperator, SmintioLicenseSyncOperator
from contentops.operators.usage import UsageCollectOperator, UsageReconcileOperator
from contentops.params import conn_id_param, names_param
from contentops.retries import task_defaults
from contentops.verdict import seal


@dag(
    dag_id="usage_reconciliation",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "exstream", "smintio", "opentext-workflow", "usage"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "domains": names_param([], "Exstream domains; empty = every domain"),
        "volume_threshold": Param(
            10000,
            type="integer",
            minimum=0,
            maximum=1_000_000_000,
            description="Uses of one asset per run above which it is reviewed; 0 = off",
        ),
        "download_threshold": Param(
            0,
            type="integer",
            minimum=0,
            maximum=1_000_000_000,
            description="License downloads above which the asset is reviewed; 0 = off",
        ),
        "check_regions": Param(True, type="boolean", description="Usage outside the licensed regions is suspicious"),
        "check_expiry": Param(True, type="boolean", description="Usage after the license ended is suspicious"),
        "review_period": Param(
            "month",
            type="string",
            enum=["day", "week", "month"],
            description="At most one compliance review per asset and period",
        ),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
    },
)
def usage_reconciliation() -> None:
    applied = SmintioComplianceOutcomeOperator(task_id="apply_review_outcomes")
    licenses = SmintioLicenseSyncOperator(task_id="sync_licenses")
    collect_usage = UsageCollectOperator(task_id="collect_usage")
    reconcile = UsageReconcileOperator.partial(task_id="reconcile").expand(batch=collect_usage.output)

    @task(trigger_rule="all_done")
    def report(_: list[dict[str, int]], __: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        return PipelineRun.from_context(context).write_report("Usage reconciliation")

    applied >> licenses >> collect_usage  # first: today's usage meets the decisions taken since
    report(reconcile.output, applied.output)


seal(usage_reconciliation())
