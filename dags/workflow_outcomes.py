"""
### Workflow outcomes

Applies each human answer as soon as its OpenText workflow ends — per instance, never after the
slowest. `rights_expiry_sweep`, `campaign_release`, `workflow_intake` and `asset_approval_intake`
start their workflows (once per business key, recorded in the ledger) and finish without
waiting; this DAG polls every process of ours the ledger holds as started and not yet applied:

- **ended**: applied once by the handler that owns its definition — a renewal's renew / replace /
  takedown (with every partner's withdrawal or re-restriction), a compliance exception's cleared /
  removed, a campaign approval (written to Smint.io; the usage review kept for the gate), an
  onboarding (published in Smint.io if approved and rights-cleared) — and recorded `applied` in
  the ledger. Two overlapping runs never apply one twice (the ledger hands each outcome to one run).
- **open**: the handler's `while_open` runs (a client's approval past its SLA escalates), and a
  renewal open longer than `include/config/workflow_outcomes.yaml` says (default 3 days) starts
  one `rights_renewal_escalation` workflow.
- **owned by no handler**: reported, never dropped silently — except the reviews the pipeline
  that started them applies on its own runs (localization, Exstream template and usage compliance
  reviews, partner requests routed to triage), which are left to it.

Every 10 minutes, and at once on `contentops://opentext-workflow/started` (emitted by the DAGs
above when they leave workflows open). Emits `contentops://rights-changes` when it applied a
disposition and `contentops://opentext-workflow/campaign-approvals` when it applied a campaign
approval (`campaign_release` then delivers what was approved). `dry_run` reads and reports only.
Every run writes a report (the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronDataIntervalTimetable, Param, dag, task

from contentops.assets import WORKFLOW_OUTCOMES, WORKFLOWS_STARTED
from contentops.params import conn_id_param
from contentops.retries import task_defaults
from contentops.verdict import seal

#: the window of a run without a data interval (a manual or Asset-triggered one)
SPAN = timedelta(minutes=10)


@dag(
    dag_id="workflow_outcomes",
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("*/10 * * * *", timezone="UTC"), assets=WORKFLOWS_STARTED
    ),
    start_date=datetime(2026, 12, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "opentext-workflow", "rights", "campaign", "smintio"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "dry_run": Param(False, type="boolean", description="Read and report; apply and start nothing"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "vip_conn_id": conn_id_param("vip_default"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
        "consonance_conn_id": conn_id_param("consonance_default"),
    },
)
def workflow_outcomes() -> None:
    @task(outlets=[WORKFLOW_OUTCOMES])
    def apply_outcomes(**context: object) -> dict[str, int]:
        from contentops.assets import announce_outcomes
        from contentops.pipelines import workflow_outcomes as outcomes
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        try:
            counts = outcomes.apply_outcomes(run)
        except outcomes.OutcomesFailed as failed:  # what was applied is still announced; the task fails
            announce_outcomes(context["outlet_events"], failed.counts, dry_run=run.dry_run)
            raise
        announce_outcomes(context["outlet_events"], counts, dry_run=run.dry_run)
        return counts

    @task(trigger_rule="all_done")
    def report(counts: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines import workflow_outcomes as outcomes
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        return run.write_report("Workflow outcomes", notes=outcomes.report_notes(counts or {}))

    report(apply_outcomes())


seal(workflow_outcomes())
