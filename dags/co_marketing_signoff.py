"""
### Co-marketing sign-off

Hourly, on its data interval: Smint.io manages the co-marketing logos and templates (the
approved assets carrying the kit tag); Trading Grid coordinates the partners' sign-off.

1. Each partner community is sent the part of the kit `contentops.rights` allows in its region,
   as one sign-off request with the files attached (streamed from Smint.io) — again only when
   the kit's files change.
2. The partners' answers are recorded on the Smint.io assets (one metadata entry per community
   and partner); when every partner asked has approved, the asset is tagged
   `co-marketing:signed-off:<community>`.
3. A "changes requested" answer takes the asset back into review in Smint.io (with the
   partner's comment, tag `co-marketing:changes-requested:<community>`) and holds the
   community's kit; once the brand team approves the revised version, it goes out on the same
   sign-off request with our answer, and only answers to that revision count.

Malformed answers, and answers from partners who were not asked, are quarantined with their
reason. Every write happens once; `dry_run` decides and reports without writing. Every run
writes a report (the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.operators.trading_grid import TradingGridSignoffAnswersOperator, TradingGridSignoffPostOperator
from contentops.params import conn_id_param, moment_param, names_param
from contentops.retries import task_defaults
from contentops.verdict import seal

WINDOW = timedelta(hours=1)


@dag(
    dag_id="co_marketing_signoff",
    schedule=CronDataIntervalTimetable("20 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "trading-grid", "smintio", "co-marketing"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "kit_tag": Param(
            "brand",
            type="string",
            minLength=1,
            maxLength=128,
            description="Smint.io tag of the kit's logos and templates",
        ),
        "kit_name": Param(
            "brand-kit", type="string", pattern="^[a-z0-9-]+$", maxLength=64, description="Name of the kit"
        ),
        "communities": names_param([], "Only these communities; empty = all"),
        "as_of": moment_param("Date the rights are decided for in a manual run (ISO date-time); empty = the run's end"),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "smintio_conn_id": conn_id_param("smintio_default"),
    },
)
def co_marketing_signoff() -> None:
    @task(trigger_rule="all_done")
    def report(sent: dict[str, int], answers: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        notes = [
            "Kits: " + (", ".join(f"{k} {v}" for k, v in sorted((sent or {}).items())) or "none"),
            "Answers: " + (", ".join(f"{k} {v}" for k, v in sorted((answers or {}).items())) or "none"),
        ]
        run = PipelineRun.from_context(context, default_span=WINDOW)
        return run.write_report("Co-marketing sign-off", notes=notes)

    sent = TradingGridSignoffPostOperator(task_id="send_kits", default_span=WINDOW)
    answers = TradingGridSignoffAnswersOperator(task_id="record_signoffs", default_span=WINDOW)
    sync_licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", default_span=WINDOW)
    sync_licenses >> sent >> answers
    report(sent.output, answers.output)


seal(co_marketing_signoff())
