"""
### VIP catalogue sync

Hourly, on its data interval. Two directions, one rule: every write happens once.

**VIP → Smint.io (VIP-2).** Content VIP holds as media on its catalog items — master packages,
localized versions, approved deliverables — that changed in the interval is registered in
Smint.io as an asset under its VIP reference (metadata, tags, and the file streamed from VIP to
Smint.io), so designers find and reuse it there. A new version of an entry updates that asset;
it never adds a second one. Drafts are left out; malformed entries are quarantined with their reason.

**Both ways (VIP-4).** A Smint.io master that changed in the interval (new file, name, metadata,
tags, approval status: each is a new version) brings the VIP media `campaign_release` delivered
along, once per version. Approved, the media is put again with the new version's attributes and
campaign tags, the end date and license summary of its current license, and its file when that
changed — if its rights still allow the media's regions and channels **as of the interval's end**.
No longer approved, the media is withdrawn through `delivery_compliance`'s re-decision (held, and
given back by `delivery_compliance` once approved again). An approved replacement held in VIP
supersedes the Smint.io master it replaces: the master's metadata names it, its file becomes the
master's new version, and the master's media on the other catalog items follow at once.

`dry_run` decides and reports without changing anything. Every run writes a report (the run's
**Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.assets import REMOVALS
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.operators.vip import VipCatalogRegisterOperator, VipItemUpdateOperator
from contentops.params import conn_id_param, moment_param
from contentops.retries import task_defaults
from contentops.verdict import seal


@dag(
    dag_id="vip_catalog_sync",
    schedule=CronDataIntervalTimetable("20 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "vip", "smintio"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "page_size": Param(50, type="integer", minimum=1, maximum=100, description="Catalogue entries per page"),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "as_of": moment_param("End of the window for a manual run (ISO date-time); empty = the run's data interval"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "vip_conn_id": conn_id_param("vip_default"),
    },
)
def vip_catalog_sync() -> None:
    hourly = timedelta(hours=1)  # a run without a data interval looks back one schedule interval
    sync_licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", default_span=hourly)
    register_catalogue = VipCatalogRegisterOperator(
        task_id="register_catalogue", page_size="{{ params.page_size }}", default_span=hourly, outlets=[REMOVALS]
    )
    update_vip_items = VipItemUpdateOperator(task_id="update_vip_items", default_span=hourly)

    @task(trigger_rule="all_done")
    def report(catalogue: dict[str, int], items: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=timedelta(hours=1))
        notes = [
            "VIP catalogue: " + (", ".join(f"{k} {v}" for k, v in sorted((catalogue or {}).items())) or "no changes"),
            "VIP items: " + (", ".join(f"{k} {v}" for k, v in sorted((items or {}).items())) or "nothing to update"),
        ]
        return run.write_report("VIP catalogue sync", notes=notes)

    [sync_licenses, register_catalogue] >> update_vip_items
    report(register_catalogue.output, update_vip_items.output)


seal(vip_catalog_sync())
