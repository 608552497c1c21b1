"""
### Partner case intake

Every 30 minutes, on its data interval: reads the cases partners filed or changed in Trading
Grid during the interval, plus every case still `in_progress`, and routes them into Smint.io.

- **Requests (OTG-2)** for logos, images, localized artwork or a rights clarification are
  matched against the approved assets in Smint.io and answered in the case with the asset —
  only where `contentops.rights` allows it for the partner's region as of the interval's end —
  or with the rights clarification. A request with no approved match, or whose rights are
  unclear, starts one **creative request intake** workflow in OpenText Workflow Service; a
  later run delivers what the reviewers chose.
- **Reports (OTG-6)** of missing files, broken links, wrong metadata or quality problems flag
  the Smint.io asset for correction and link the case to it (in Trading Grid and in the
  ledger); once the asset is corrected, a later run resolves the case.

Malformed cases are quarantined with their reason and the run goes on. Every write happens
once: a re-run of an interval changes nothing. `dry_run` decides and reports without writing.
Every run writes a report (the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.operators.trading_grid import TradingGridCaseIntakeOperator, TradingGridCaseReplyOperator
from contentops.params import conn_id_param, moment_param
from contentops.retries import task_defaults
from contentops.verdict import seal

WINDOW = timedelta(minutes=30)


@dag(
    dag_id="partner_case_intake",
    schedule=CronDataIntervalTimetable("*/30 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "trading-grid", "smintio", "opentext-workflow", "partners"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "as_of": moment_param("End of the window for a manual run (ISO date-time); empty = the run's own window"),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
    },
)
def partner_case_intake() -> None:
    @task(trigger_rule="all_done")
    def report(counts: list[dict[str, int]], **context: object) -> dict[str, object]:
        from collections import Counter

        from contentops.pipelines.runtime import PipelineRun

        total: Counter[str] = Counter()
        for batch in counts or []:
            total.update(batch)
        notes = [", ".join(f"{k} {v}" for k, v in sorted(total.items())) or "No cases to handle."]
        return PipelineRun.from_context(context, default_span=WINDOW).write_report("Partner case intake", notes=notes)

    cases = TradingGridCaseIntakeOperator(task_id="collect_cases", default_span=WINDOW)
    sync_licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", default_span=WINDOW)
    sync_licenses >> cases
    replies = TradingGridCaseReplyOperator.partial(task_id="handle_cases", default_span=WINDOW).expand(
        case_ids=cases.output
    )
    report(replies.output)


seal(partner_case_intake())
