"""smintio_license_sync runs hourly *and* on Smint.io's push (X-5): the schedule names the push
Asset, whose watcher is the Smint.io push trigger on the default connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.dags

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "smintio_license_sync.py"


@pytest.fixture(scope="module")
def dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["smintio_license_sync"]


def test_the_license_sync_runs_hourly_and_on_the_push_asset(dag: Any) -> None:
    from datetime import timedelta

    from airflow.sdk import Asset, AssetOrTimeSchedule, DeltaDataIntervalTimetable

    schedule = dag.timetable
    assert isinstance(schedule, AssetOrTimeSchedule)
    assert isinstance(schedule.timetable, DeltaDataIntervalTimetable)
    assert schedule.timetable.delta == timedelta(hours=1)  # polling stays the fallback
    assert isinstance(schedule.asset_condition, Asset)
    assert schedule.asset_condition.uri == "contentops://smintio/license-push"


def test_the_push_asset_is_watched_by_the_smintio_push_trigger(dag: Any) -> None:
    (watcher,) = dag.timetable.asset_condition.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "contentops.triggers.smintio_push.SmintioLicensePushTrigger"
    assert kwargs["conn_id"] == "smintio_default"
    # the triggerer rebuilds it from the serialized kwargs
    from airflow.triggers.base import BaseEventTrigger

    from contentops.triggers.smintio_push import SmintioLicensePushTrigger

    rebuilt = SmintioLicensePushTrigger(**kwargs)
    assert isinstance(rebuilt, BaseEventTrigger) and rebuilt.serialize() == (classpath, kwargs)
