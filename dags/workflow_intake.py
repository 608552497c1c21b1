"""
### Workflow intake

Hourly, on its data interval: what arrived through OpenText Workflow Service and needs Smint.io.

Selection is by state, not by the interval: every request still open and every ingest batch
not yet handed over (up to the interval's end) is handled, so an interval that was skipped or
failed loses nothing.

**Creative requests (OWS-3).** Each open `creative_request_intake` request the ledger has not
answered yet (campaign type, region, format, deadline) is answered with the approved Smint.io assets of that
campaign type and format whose rights cover the request's region **on the interval's end and on
the deadline**. The matches are written onto the request (variables and a comment) and its task
is completed with `matched` or `no_match`; creatives see them as the request's Smint.io
collection, which a match leaves once its rights stop covering the request. Unreadable requests
are quarantined and the requester is told why; requests a contentops pipeline started itself
(partner requests routed to triage by `partner_case_intake`) are left to that pipeline.

**DAM onboarding (OWS-6).** Each asset of a `dam_ingest` batch (content arriving from Bynder,
Brandfolder…; listed in the batch or read from the source DAM's listing) gets one
`dam_onboarding` workflow — enrichment, rights validation, categorization — and the run
finishes: it does not wait. `workflow_outcomes` applies each onboarding as soon as it ends
(scheduled also on the Asset `contentops://opentext-workflow/started` this DAG emits): only
assets the workflow approves *and* whose license clears a commercial use are published in
Smint.io (approved, with their categories and tags, their access permissions, and their
license, which every rights gate reads); the others are not exposed, and its report says why.

`dry_run` decides and reports without writing or starting anything. Every run writes a report
(the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.assets import WORKFLOWS_STARTING
from contentops.operators.opentext_workflow import CreativeRequestMatchOperator, DamOnboardingStartOperator
from contentops.params import conn_id_param, moment_param
from contentops.retries import task_defaults
from contentops.verdict import seal

SPAN = timedelta(hours=1)


@dag(
    dag_id="workflow_intake",
    schedule=CronDataIntervalTimetable("40 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "opentext-workflow", "smintio"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "max_matches": Param(20, type="integer", minimum=1, maximum=200, description="Assets offered per request"),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "as_of": moment_param("End of the window for a manual run (ISO date-time); empty = the run's data interval"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
        "source_dam_conn_id": conn_id_param("source_dam_default"),
    },
)
def workflow_intake() -> None:
    @task
    def sync_licenses(**context: object) -> dict[str, object]:
        from contentops.pipelines.licenses import sync_license_index
        from contentops.pipelines.runtime import PipelineRun

        return sync_license_index(PipelineRun.from_context(context, default_span=SPAN))

    @task(trigger_rule="all_done")
    def report(requests: dict[str, int], onboarding: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        notes = [
            "Creative requests: " + (", ".join(f"{k} {v}" for k, v in sorted((requests or {}).items())) or "none"),
            "DAM onboarding: " + (", ".join(f"{k} {v}" for k, v in sorted((onboarding or {}).items())) or "none"),
        ]
        return run.write_report("Workflow intake", notes=notes)

    matched = CreativeRequestMatchOperator(task_id="match_requests", default_span=SPAN)
    sync_licenses() >> matched
    started = DamOnboardingStartOperator(task_id="start_onboarding", default_span=SPAN)

    @task(outlets=[WORKFLOWS_STARTING])
    def hand_over_onboarding(instance_ids: list[str], **context: object) -> dict[str, int]:
        """The onboardings started or still open go to workflow_outcomes; this run does not wait."""
        from contentops.assets import announce_started
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        announce_started(context["outlet_events"], len(instance_ids or []), dry_run=run.dry_run)
        return {"onboarding_open": len(instance_ids or [])}

    report(matched.output, hand_over_onboarding(started.output))


seal(workflow_intake())
