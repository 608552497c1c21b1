"""
### Partner refresh (example)

An example of composing the contentops operators for a use the project's DAGs do not cover: a
regional team asks for **one region's approved images of a campaign to be re-published to
Exstream and announced to that region's Trading Grid community** — no approval workflows (only
assets already approved go; the gate refuses the others with the reason), no VIP.

The steps continue ``campaign_release``'s deliveries (``ledger_pipeline``): what that pipeline
already published in the same version is skipped, a newer version goes through Exstream's review
(EXS-8) or updates the kit, and nothing is sent twice, whichever of the two DAGs runs first.

Copy it into your DAGs folder and trigger it with the campaign and the region.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from contentops.operators.campaign import CampaignDeliverOperator, CampaignGateOperator, CampaignPlanOperator
from contentops.operators.exstream import ExstreamImagePublishOperator
from contentops.operators.trading_grid import TradingGridLaunchKitOperator
from contentops.params import conn_id_param, names_param
from contentops.retries import task_defaults

#: the pipeline whose deliveries these steps continue (the ledger's exactly-once scope)
PIPELINE = "campaign_release"


@dag(
    dag_id="partner_refresh_example",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "example", "exstream", "trading-grid"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "campaign": Param("spring-launch-2027", type="string", minLength=1, maxLength=128, description="Campaign id"),
        "region": Param(
            "dach",
            type="string",
            enum=["emea", "dach", "north_america", "apac", "latam", "uk_and_ireland"],
            description="The one region to refresh",
        ),
        "exstream_domains": names_param(["retail"], "Exstream domains to re-publish into"),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
    },
)
def partner_refresh_example() -> None:
    @task
    def sync_licenses(**context: object) -> dict[str, object]:
        """The gate decides on the license index: bring it up to date first."""
        from contentops.pipelines.licenses import sync_license_index
        from contentops.pipelines.runtime import PipelineRun

        return sync_license_index(PipelineRun.from_context(context))

    @task
    def batches_for(work: list[dict[str, object]], system: str) -> list[list[list[str]]]:
        """The gate's work for one target system (glue: the gate batches every target together)."""
        return [list(item["batch"]) for item in work if item["system"] == system]  # type: ignore[call-overload]

    plan = CampaignPlanOperator(
        task_id="plan",
        regions=["{{ params.region }}"],
        targets=["exstream", "trading_grid"],
        ledger_pipeline=PIPELINE,
    )
    gate = CampaignGateOperator(task_id="gate", ledger_pipeline=PIPELINE)
    sync_licenses() >> plan >> gate
    images = ExstreamImagePublishOperator.partial(task_id="publish_images", ledger_pipeline=PIPELINE).expand(
        batch=batches_for(gate.output, "exstream")
    )
    attachments = CampaignDeliverOperator.partial(
        task_id="attach_to_kit", system="trading_grid", ledger_pipeline=PIPELINE
    ).expand(batch=batches_for(gate.output, "trading_grid"))
    announce = TradingGridLaunchKitOperator(task_id="announce", ledger_pipeline=PIPELINE, trigger_rule="all_done")
    [images, attachments] >> announce


partner_refresh_example()
