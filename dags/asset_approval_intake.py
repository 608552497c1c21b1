"""
### Asset approval intake

Every 10 minutes: each **draft asset version** in Smint.io — newly uploaded, or changed (a change
makes a new version) — gets its approval workflow in OpenText Workflow Service as it appears
(OWS-1), not only when its campaign is released: the approval model of its campaign's agency
client, or the default model (legal review, brand review, marketing sign-off), once per asset
version, under the same business key campaign release uses (so the two never start a second one).

Selection is by state — every draft version without an approval process in the ledger — so a
skipped or failed run loses nothing. The run does not wait for reviewers: the workflow-outcomes
pipeline applies each approval as soon as it ends (approved or rejected, written back to
Smint.io) and keeps comments and status in step while it runs (OWS-5). When the run started
workflows it emits the Asset `contentops://opentext-workflow/started`.

`dry_run` reports what would start and starts nothing. Every run writes a report (the run's
**Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.assets import WORKFLOWS_STARTING
from contentops.params import conn_id_param
from contentops.retries import task_defaults
from contentops.verdict import seal

SPAN = timedelta(minutes=10)


@dag(
    dag_id="asset_approval_intake",
    schedule=CronDataIntervalTimetable("*/10 * * * *", timezone="UTC"),
    start_date=datetime(2026, 12, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "opentext-workflow", "smintio", "approval"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "dry_run": Param(False, type="boolean", description="Report what would start; start nothing"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
    },
)
def asset_approval_intake() -> None:
    @task(outlets=[WORKFLOWS_STARTING])
    def start_approvals(**context: object) -> dict[str, int]:
        from contentops.assets import announce_started
        from contentops.pipelines.asset_approvals import start_draft_approvals
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        counts = start_draft_approvals(run)
        announce_started(context["outlet_events"], counts.get("started", 0), dry_run=run.dry_run)
        return counts

    @task(trigger_rule="all_done")
    def report(counts: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        notes = ["Approvals: " + (", ".join(f"{k} {v}" for k, v in sorted((counts or {}).items())) or "none")]
        return run.write_report("Asset approval intake", notes=notes)

    report(start_approvals())


seal(asset_approval_intake())
