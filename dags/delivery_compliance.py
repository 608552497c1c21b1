"""
### Delivery compliance

Hourly, and as soon as rights change or an asset is removed (the Assets
`contentops://rights-changes`, `contentops://smintio/licenses` and `contentops://asset-removals`):
the license index is brought up to date, then **every copy
already delivered** — VIP media, Trading Grid launch kits and partner cases, Exstream images,
Consonance title attachments — is decided again: is the asset still approved in Smint.io, and
does its current license allow it for that copy's channel and regions on the run's day?

A copy that may not stay is taken back in its partner, once: VIP media withdrawn (or
re-restricted to the regions the license still covers), the Trading Grid community told at once
and the partner case replied to, the Exstream image moved out of APPROVED, the title's license
terms recorded as ended. Expiry fails closed: on its expiry day an asset leaves every partner
with no human answer; a later renewal gives back what this pipeline took, once.

Every removal source feeds it through Smint.io's state (retired or no longer approved assets)
and the license index (lapsed or narrowed licenses); the pipelines that remove an asset at its
source (an Exstream retirement, a title refresh, a VIP withdrawal) also emit
`contentops://asset-removals`, so this runs right after them. One failing partner write does not stop
the others; the run fails at the end. `dry_run` decides and reports without changing anything.
Every run writes a report (the run's **Run report** tab) with each decision and its reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronDataIntervalTimetable, Param, dag, task

from contentops.assets import ASSET_REMOVALS, RIGHTS_CHANGES, SMINTIO_LICENSES
from contentops.operators.rights import DeliveryComplianceOperator
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param
from contentops.retries import task_defaults
from contentops.verdict import seal

#: the look-back of a run without a data interval (a manual or Asset-triggered one)
HOURLY = timedelta(hours=1)


@dag(
    dag_id="delivery_compliance",
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
        assets=(RIGHTS_CHANGES | SMINTIO_LICENSES | ASSET_REMOVALS),
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "rights", "compliance", "vip", "trading-grid", "exstream", "consonance"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "vip_conn_id": conn_id_param("vip_default"),
        "trading_grid_conn_id": conn_id_param("opentext_trading_grid_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
        "consonance_conn_id": conn_id_param("consonance_default"),
    },
)
def delivery_compliance() -> None:
    @task(trigger_rule="all_done")
    def report(_: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        return PipelineRun.from_context(context, default_span=HOURLY).write_report("Delivery compliance")

    sync_licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", default_span=HOURLY)
    enforce = DeliveryComplianceOperator(task_id="enforce", default_span=HOURLY)
    sync_licenses >> enforce
    report(enforce.output)


seal(delivery_compliance())
