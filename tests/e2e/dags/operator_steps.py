"""Small DAGs that run the OpenText / campaign operators one step at a time
(tests/unit/test_operators_opentext_campaign.py): each step twice where a re-run must write nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from contentops.operators.campaign import CampaignPlanOperator
from contentops.operators.opentext_workflow import DamOnboardingStartOperator
from contentops.operators.trading_grid import TradingGridSignoffAnswersOperator, TradingGridSignoffPostOperator

START = datetime(2026, 1, 1)

with DAG("operator_steps_plan", schedule=None, start_date=START, params={"campaign": "a-campaign-the-form-named"}):
    CampaignPlanOperator(task_id="plan", campaign="spring-launch-2027", regions=["dach"], targets=["exstream"])
    CampaignPlanOperator(task_id="plan_a_typo", campaign="no-such-campaign", retries=0)

with DAG("operator_steps_onboarding", schedule=None, start_date=START):
    SPAN = timedelta(hours=1)
    (
        DamOnboardingStartOperator(task_id="dry", dry_run=True, default_span=SPAN)
        >> DamOnboardingStartOperator(task_id="start", default_span=SPAN)
        >> DamOnboardingStartOperator(task_id="start_again", default_span=SPAN)
    )


@task
def sync_licenses(**context: object) -> None:
    from contentops.pipelines.licenses import sync_license_index
    from contentops.pipelines.runtime import PipelineRun

    sync_license_index(PipelineRun.from_context(context))


with DAG(
    "operator_steps_signoff", schedule=None, start_date=START, params={"kit_tag": "brand", "kit_name": "brand-kit"}
):
    (
        sync_licenses()
        >> TradingGridSignoffPostOperator(task_id="dry", communities=["community-dach"], dry_run=True)
        >> TradingGridSignoffPostOperator(task_id="post", communities=["community-dach"])
        >> TradingGridSignoffPostOperator(task_id="post_again", communities=["community-dach"])
        >> TradingGridSignoffAnswersOperator(task_id="answers")
    )
