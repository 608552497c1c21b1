"""Test DAG: scheduled on the sweep's Asset ``contentops://rights-changes``.

No project DAG consumes that Asset yet; this one proves the chaining mechanism with a real
scheduler (tests/e2e/test_backfill_and_assets.py). It reports which runs emitted the events
it was started by — ids and counts only.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, dag, task

RIGHTS_CHANGES = Asset("contentops://rights-changes")


@dag(dag_id="rights_changes_listener", schedule=[RIGHTS_CHANGES], start_date=datetime(2026, 1, 1), catchup=False)
def rights_changes_listener() -> None:
    @task
    def triggered_by(**context: object) -> dict[str, object]:
        events = context["triggering_asset_events"][RIGHTS_CHANGES]  # type: ignore[index]
        return {
            "events": len(events),
            "source_runs": sorted({str(e.source_run_id) for e in events}),
            "source_dags": sorted({str(e.source_dag_id) for e in events}),
        }

    triggered_by()


rights_changes_listener()
