"""
### Market readiness check (example)

An example of composing contentops operators for a use the project's scenarios do not cover:
before a brand enters a new market, which of its approved Smint.io assets may already be used
there? Nothing is delivered: the license index is brought up to date, every asset named in the
form is put through the rights gate for the market's channel and regions as of the planned
launch date, and the run report lists each clearance and refusal with its reasons.

Trigger it from the form with the asset ids, the target (e.g. `vip:ITM-1001` or
`exstream:retail-banking`), the channel, the regions and the launch date.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from contentops.operators.rights import RightsGateOperator
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param, names_param
from contentops.retries import task_defaults
from contentops.verdict import seal


@dag(
    dag_id="market_readiness_check",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "example", "rights", "smintio"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "asset_ids": names_param(["asset-spring-01", "asset-spring-02"], "Smint.io assets to check"),
        "target": Param("vip:ITM-1001", type="string", maxLength=255, description="Where they would go"),
        "channel": Param("online", type="string", maxLength=64, description="License distribution channel"),
        "regions": names_param(["de", "fr"], "Regions of the new market"),
        "launch_date": Param(
            "", type="string", maxLength=32, description="Planned launch (ISO date); empty = the run's date"
        ),
        "smintio_conn_id": conn_id_param("smintio_default"),
    },
)
def market_readiness_check() -> None:
    licenses = SmintioLicenseSyncOperator(task_id="sync_licenses")
    gate = RightsGateOperator(
        task_id="gate",
        asset_ids="{{ params.asset_ids }}",
        target="{{ params.target }}",
        channel="{{ params.channel }}",
        regions="{{ params.regions }}",
        on_date="{{ params.launch_date }}",
    )

    @task(trigger_rule="all_done")
    def report(decided: dict[str, object], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        cleared = (decided or {}).get("cleared") or []
        run = PipelineRun.from_context(context)
        return run.write_report("Market readiness check", notes=[f"May be used there: {len(cleared)} asset(s)."])

    licenses >> gate
    report(gate.output)


seal(market_readiness_check())
