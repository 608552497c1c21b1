"""usage_reconciliation: how the run's Params become review thresholds and review periods."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contentops.pipelines.usage_reconciliation import period_label, thresholds

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("granularity", "label"),
    [("day", "2026-12-31"), ("week", "2026-W53"), ("month", "2026-12"), ("anything else", "2026-12")],
)
def test_period_labels(granularity: str, label: str) -> None:
    assert period_label(datetime(2026, 12, 31, 23, 0, tzinfo=UTC), granularity) == label


def test_a_week_spanning_new_year_is_one_period() -> None:
    assert period_label(datetime(2027, 1, 1, tzinfo=UTC), "week") == period_label(
        datetime(2026, 12, 28, tzinfo=UTC), "week"
    )


def test_zero_switches_a_threshold_off_and_checks_default_on() -> None:
    off = thresholds({"volume_threshold": 0, "download_threshold": 0})
    assert off.max_volume is None and off.max_downloads is None and off.check_regions and off.check_expiry
    on = thresholds({"volume_threshold": 500, "download_threshold": 20, "check_regions": False, "check_expiry": False})
    assert (on.max_volume, on.max_downloads, on.check_regions, on.check_expiry) == (500, 20, False, False)
