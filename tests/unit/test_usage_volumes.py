"""Usage reconciliation's per-day, per-stream volumes (EXS-7): the sums the audit trail and the
Smint.io figures are written from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contentops.models.exstream import UsageRecord
from contentops.pipelines.usage_reconciliation import unmatched_volumes, usage_frame, usage_volumes

pytestmark = pytest.mark.unit

MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def record(resource: str, volume: int, *, at: datetime = MORNING, **fields: Any) -> UsageRecord:
    body = {
        "id": f"u-{resource}-{volume}-{at.isoformat()}",
        "domain": "retail",
        "resourceId": resource,
        "communicationId": "comm-1",
        "stream": "statements",
        "region": "emea",
        "channel": "print",
        "volume": volume,
        "recordedAt": at.isoformat(),
        **fields,
    }
    return UsageRecord.model_validate(body)


def rows(frame: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in frame.itertuples(index=False)]


def test_volumes_are_summed_per_asset_stream_day_region_and_channel_with_the_latest_use() -> None:
    later = MORNING + timedelta(hours=5)
    usage = usage_frame(
        [
            ("asset-b", record("res-b", 7)),
            ("asset-a", record("res-a", 5, at=later)),
            ("asset-a", record("res-a", 3)),  # same sum, earlier: the latest use stays 14:00
            ("asset-a", record("res-a", 2, stream="claims")),
            ("asset-a", record("res-a", 4, at=MORNING + timedelta(days=1))),
            ("asset-a", record("res-a", 1, region="dach")),
        ]
    )
    volumes = usage_volumes(usage)
    assert [(r[0], r[2], r[3], r[4], r[6]) for r in rows(volumes)] == [
        ("asset-a", "claims", "2026-11-24", "emea", 2),
        ("asset-a", "statements", "2026-11-24", "dach", 1),
        ("asset-a", "statements", "2026-11-24", "emea", 8),
        ("asset-a", "statements", "2026-11-25", "emea", 4),
        ("asset-b", "statements", "2026-11-24", "emea", 7),
    ]
    eight = volumes[(volumes["asset_id"] == "asset-a") & (volumes["volume"] == 8)]
    assert eight["at"].iloc[0].to_pydatetime() == later


def test_a_record_without_region_or_channel_is_summed_not_dropped() -> None:
    # a null group key would make pandas drop the record: the frame holds "" instead
    usage = usage_frame(
        [
            ("asset-a", record("res-a", 5, region=None, channel=None)),
            ("asset-a", record("res-a", 6, region=None, channel=None)),
            ("asset-a", record("res-a", 1)),
        ]
    )
    volumes = usage_volumes(usage)
    assert int(volumes["volume"].sum()) == 12
    assert [(r[4], r[5], r[6]) for r in rows(volumes)] == [("", "", 11), ("emea", "print", 1)]


def test_the_day_is_the_utc_day_of_the_record() -> None:
    evening_in_new_york = record("res-a", 2)
    evening_in_new_york = UsageRecord.model_validate(
        {**evening_in_new_york.model_dump(by_alias=True), "recordedAt": "2026-11-24T20:30:00-05:00"}
    )
    usage = usage_frame([("asset-a", evening_in_new_york)])
    assert usage_volumes(usage)["day"].tolist() == ["2026-11-25"]


def test_usage_of_resources_never_delivered_is_summed_per_domain_and_resource() -> None:
    usage = usage_frame(
        [
            (None, record("res-x", 3)),
            (None, record("res-x", 4, stream="claims")),
            (None, record("res-x", 1, domain="insurance")),
            ("asset-a", record("res-a", 9)),
        ]
    )
    assert rows(unmatched_volumes(usage)) == [("insurance", "res-x", 1), ("retail", "res-x", 7)]
    assert usage_volumes(usage)["asset_id"].tolist() == ["asset-a"]


def test_no_usage_gives_empty_sums() -> None:
    usage = usage_frame([])
    assert usage_volumes(usage).empty and unmatched_volumes(usage).empty
