"""A run's window comes from its data interval, its as_of Param, or its run_after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from contentops.pipelines.window import RunWindow, run_window

pytestmark = pytest.mark.unit

DAY = datetime(2026, 11, 23, tzinfo=UTC)


def test_data_interval_wins_when_not_empty() -> None:
    window = run_window({"data_interval_start": DAY, "data_interval_end": DAY + timedelta(days=1), "params": {}})
    assert window == RunWindow(DAY, DAY + timedelta(days=1))


def test_as_of_param_overrides_for_manual_runs() -> None:
    window = run_window(
        {"params": {"as_of": "2026-11-10T00:00:00"}, "data_interval_start": DAY, "data_interval_end": DAY},
        default_span=timedelta(hours=6),
    )
    assert window.end == datetime(2026, 11, 10, tzinfo=UTC)
    assert window.start == window.end - timedelta(hours=6)


def test_empty_interval_falls_back_to_run_after() -> None:
    run = SimpleNamespace(run_after=DAY)
    window = run_window({"data_interval_start": None, "data_interval_end": None, "dag_run": run})
    assert window == RunWindow(DAY - timedelta(days=1), DAY)


def test_window_rejects_naive_and_reversed_bounds() -> None:
    with pytest.raises(ValueError):
        RunWindow(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError):
        RunWindow(DAY, DAY - timedelta(seconds=1))
    assert RunWindow(DAY, DAY + timedelta(hours=1)).contains(DAY)
    assert not RunWindow(DAY, DAY + timedelta(hours=1)).contains(DAY + timedelta(hours=1))


def test_a_run_started_by_asset_events_looks_back_from_when_it_started() -> None:
    """Its data interval only spans the triggering events; what led to them came before."""
    run = SimpleNamespace(run_after=DAY, run_type="asset_triggered")
    first_event, last_event = DAY - timedelta(minutes=30), DAY - timedelta(minutes=5)
    window = run_window(
        {"data_interval_start": first_event, "data_interval_end": last_event, "dag_run": run},
        default_span=timedelta(hours=6),
    )
    assert window == RunWindow(DAY - timedelta(hours=6), DAY)
    scheduled = SimpleNamespace(run_after=DAY, run_type="scheduled")
    window = run_window({"data_interval_start": first_event, "data_interval_end": last_event, "dag_run": scheduled})
    assert window == RunWindow(first_event, last_event)
