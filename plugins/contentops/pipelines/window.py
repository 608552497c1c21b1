"""The time window a run works on: its data interval, never "now".

Backfills and re-runs must reproduce the decisions of the day they stand for, so every
rights decision is taken as of the window's end. Manual runs in Airflow 3 may carry no data
interval (or an empty one, as with trigger timetables); they fall back to the run's
``run_after`` (or an explicit ``as_of`` Param) with a default span.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class RunWindow:
    """[start, end) of a run, timezone-aware UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.start > self.end:
            raise ValueError(f"window starts after it ends: {self.start} > {self.end}")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> str:
        return f"{self.start.isoformat()} .. {self.end.isoformat()}"


def _as_datetime(value: Any) -> datetime | None:
    """A plain stdlib aware UTC datetime (Airflow hands out pendulum objects; the domain rules
    compare with stdlib datetimes, and the two do not always mix)."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment.timestamp(), UTC)


def as_utc(value: Any) -> datetime | None:
    """A moment given as text (an operator's templated date) or a datetime, as an aware UTC
    datetime; empty is ``None``. A date without a time is its midnight UTC."""
    return _as_datetime(value)


def _asset_triggered(dag_run: Any) -> bool:
    run_type = getattr(dag_run, "run_type", None)
    return getattr(run_type, "value", run_type) == "asset_triggered"


def run_window(context: Mapping[str, Any], *, default_span: timedelta = timedelta(days=1)) -> RunWindow:
    """The window of the running task's DAG run.

    Order of preference: an explicit ``as_of`` Param (end of the window, for manual runs
    from the UI form), the data interval when it is not empty, then the run's
    ``run_after`` / logical date with ``default_span`` before it.

    A run started by an Asset event ignores its data interval: Airflow spans it between the
    first and the last triggering event, and the changes that led to the first event lie
    before it. Such a run looks back ``default_span`` from when it was started.
    """
    params = context.get("params") or {}
    as_of = _as_datetime(params.get("as_of"))
    if as_of is not None:
        return RunWindow(as_of - default_span, as_of)
    dag_run = context.get("dag_run")
    start = _as_datetime(context.get("data_interval_start"))
    end = _as_datetime(context.get("data_interval_end"))
    run_after = _as_datetime(getattr(dag_run, "run_after", None))
    if _asset_triggered(dag_run):
        end = None
    elif start is not None and end is not None and start < end:
        return RunWindow(start, end)
    anchor = end or run_after or _as_datetime(context.get("logical_date"))
    if anchor is None:
        anchor = datetime.now(UTC)
    return RunWindow(anchor - default_span, anchor)
