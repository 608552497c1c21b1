"""
### Quarantine replay

Replays quarantined partner records an operator asked to replay — from the **Quarantine** page
of the contentops plugin (`/contentops/quarantine`), which triggers this DAG with the row ids in
`quarantine_ids`, or queued there and picked up by the next scheduled run.

Each row's record is read again from its partner and put through the validation and the
pipeline step that first refused it (`contentops.quarantine`): a Smint.io license record goes
into the license index, a Trading Grid case is routed and answered, a localized return from VIP
or Trading Grid becomes a Smint.io variant in regional review (the localization return loop
applies the review). One that now validates is
taken in exactly once and its row resolved; one that fails again stays quarantined with the new
reason. Rows of kinds no step reads again are left for a person to resolve with a note.
Each run writes a report (the **Run report** tab of the run).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DeltaDataIntervalTimetable, Param, dag, task

from contentops.params import conn_id_param
from contentops.retries import task_defaults
from contentops.verdict import seal


@dag(
    dag_id="quarantine_replay",
    schedule=DeltaDataIntervalTimetable(timedelta(minutes=15)),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "quarantine", "operations"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "quarantine_ids": Param(
            [],
            type="array",
            items={"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
            uniqueItems=True,
            maxItems=100,
            description="Rows to replay; empty = every row whose replay was requested and is still open",
        ),
        "smintio_conn_id": conn_id_param("smintio_default", "Smint.io connection"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "vip_conn_id": conn_id_param("vip_default", "VIP connection"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
    },
)
def quarantine_replay() -> None:
    @task
    def replay(**context: object) -> dict[str, int]:
        from contentops.pipelines.runtime import PipelineRun
        from contentops.quarantine import replay_rows

        return replay_rows(PipelineRun.from_context(context, default_span=timedelta(minutes=15)))

    @task(trigger_rule="all_done")
    def report(counts: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=timedelta(minutes=15))
        notes = [", ".join(f"{k} {v}" for k, v in sorted((counts or {}).items())) or "Nothing to replay."]
        return run.write_report("Quarantine replay", notes=notes)

    report(replay())


seal(quarantine_replay())
