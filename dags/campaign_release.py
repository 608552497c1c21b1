"""
### Campaign release

Releases a campaign's approved, rights-cleared content to its partners: a **VIP** distribution
package, a **Trading Grid** launch kit for the authorized partners of each region's community,
and **Exstream** image resources for customer correspondence.

Triggered from this form (campaign, targets, regions, release date — left empty, the regions
and release date the campaign has in Smint.io), daily on its data interval, and when an approval
was applied (a run started by that Asset selects by state, like a scheduled one). A scheduled run
(or one without a campaign) selects by state: every campaign whose release date is within
`lead_days` (default 3, `include/config/campaign_release.yaml`) after the interval's end and
that the ledger does not hold as fully released goes out **ahead of its date, under embargo**
until then — VIP media with an availability date, the Trading Grid launch kit embargoed until
the date, the Exstream image with `valid_from` and kept in REVIEW (moved to APPROVED by the first
run at or after the date); an overdue campaign never released is caught up and reported as
**late**. A skipped interval loses nothing. Rights are decided for the release date.

1. The campaign's assets and licensed stock are collected from Smint.io (the license index is
   brought up to date first).
2. Assets not yet approved go through an approval workflow in OpenText Workflow Service — the
   agency client's own model where configuration names one — started once; the run does **not**
   wait for it. `workflow_outcomes` writes each outcome back to Smint.io as soon as that
   approval ends and emits `contentops://opentext-workflow/campaign-approvals`, on which this DAG
   is also scheduled: the next run delivers what was approved (the campaign stays due until
   then). For an agency client, assets whose license carries restrictions also go through the
   client's usage review, and an approval still open after the client's SLA starts its
   escalation workflow (checked at start and on each poll of `workflow_outcomes`).
3. Every approved asset passes the rights gate for each target's channel, region and the
   release date; regulated Exstream domains also need the compliance criteria. Refusals are
   recorded with their reasons. In VIP an asset becomes media of the catalog items it shows,
   for the retailer-data parties of its regions; agencies' final deliverables (derived from
   approved masters, whose rights they inherit) go only to publishers, media partners and
   franchise networks.
4. Deliveries run in mapped batches per target; each is sent exactly once (a retry or re-run
   sends only what is missing; a new asset version updates what was delivered). A batch that
   created or updated something emits its target's Asset (``contentops://campaign-release/vip``,
   ``…/trading-grid``, ``…/exstream``) for the DAGs that follow a target's releases.

A run with nothing left to do — every campaign released, every approved asset's cleared targets
holding its version, no approval, launch kit or embargo pending — is recognised by the plan,
which skips collect, the hand-over, the gate and finalize (the report says **nothing due**).

`dry_run` decides and reports without starting or sending anything. Every run writes a report
(the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronDataIntervalTimetable, Param, dag, task

from contentops.assets import CAMPAIGN_APPROVALS, CAMPAIGN_RELEASE, WORKFLOWS_STARTING
from contentops.operators.campaign import (
    CampaignCollectOperator,
    CampaignDeliverOperator,
    CampaignFinalizeOperator,
    CampaignGateOperator,
    CampaignPlanOperator,
)
from contentops.operators.opentext_workflow import CampaignApprovalStartOperator
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param, names_param
from contentops.retries import task_defaults
from contentops.verdict import seal

TARGETS = ["vip", "trading_grid", "exstream"]
REGIONS = ["emea", "dach", "north_america", "apac", "latam", "uk_and_ireland"]


@dag(
    dag_id="campaign_release",
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 4 * * *", timezone="UTC"), assets=CAMPAIGN_APPROVALS
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "campaign", "smintio", "vip", "trading-grid", "exstream", "opentext-workflow"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(seconds=30)),
    params={
        "campaign": Param(
            "spring-launch-2027",
            type=["null", "string"],
            maxLength=128,
            description="Campaign id in Smint.io; empty = every campaign releasing in the run's interval",
        ),
        "targets": Param(
            TARGETS,
            type="array",
            items={"type": "string", "enum": TARGETS},
            uniqueItems=True,
            maxItems=len(TARGETS),
            description="Where the campaign goes",
        ),
        "regions": Param(
            [],
            type="array",
            items={"type": "string", "enum": REGIONS},
            uniqueItems=True,
            maxItems=len(REGIONS),
            description="Regions to release in; empty = the campaign's own regions",
        ),
        "release_date": Param(
            None,
            type=["null", "string"],
            format="date",
            maxLength=10,
            description="Release date (YYYY-MM-DD); empty = the campaign's own release date",
        ),
        "exstream_domains": names_param(
            ["retail"], "Exstream domains to publish the images into (regulated ones apply compliance criteria)"
        ),
        # release ahead (issue 13 item 1): how far ahead of its date a run selecting by date releases
        "lead_days": Param(
            None,
            type=["null", "integer"],
            minimum=0,
            maximum=365,
            description="Days ahead of a campaign's release date it goes out (under embargo); empty = the config's",
        ),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "batch_size": Param(50, type="integer", minimum=1, maximum=1000, description="Assets per mapped task"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
        "vip_conn_id": conn_id_param("vip_default"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
    },
)
def campaign_release() -> None:
    # no approval started (the mapped starts all skipped): nothing to hand over, no task to start
    @task(trigger_rule="none_failed_min_one_success", outlets=[WORKFLOWS_STARTING])
    def hand_over_approvals(started: list[list[str]], **context: object) -> dict[str, int]:
        """The approvals started or still open go to workflow_outcomes; this run does not wait."""
        from contentops.assets import announce_started
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context)
        open_workflows = sum(len(batch or []) for batch in started or [])
        announce_started(context["outlet_events"], open_workflows, dry_run=run.dry_run)
        return {"approvals_open": open_workflows}

    @task(trigger_rule="all_done")
    def report(_: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines import campaign
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context)
        return run.write_report("Campaign release", notes=campaign.report_notes(run))

    # a run with nothing left to do (every campaign released and held, nothing pending) is
    # decided by the plan, which then skips the stages that would each start only to find nothing
    plan = CampaignPlanOperator(
        task_id="plan", skip_when_nothing_due=["collect", "hand_over_approvals", "gate", "finalize"]
    )
    collect = CampaignCollectOperator(task_id="collect")
    sync_licenses = SmintioLicenseSyncOperator(task_id="sync_licenses")
    sync_licenses >> plan >> collect
    started = CampaignApprovalStartOperator.partial(task_id="start_approvals").expand(batch=collect.output)
    hand_over_approvals(started.output)  # beside the gate: the run does not wait for approvals
    gate = CampaignGateOperator(task_id="gate", trigger_rule="none_failed")
    deliveries = CampaignDeliverOperator.partial(task_id="deliver", outlets=[CAMPAIGN_RELEASE]).expand_kwargs(
        gate.output
    )
    finalize = CampaignFinalizeOperator(task_id="finalize", trigger_rule="all_done")
    started >> gate
    deliveries >> finalize
    report(finalize.output)


seal(campaign_release())
