"""contentops.rights.reconcile_usage: production usage compared with the license and review thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contentops.models import LicenseTerm, ReasonCode, UsageRights
from contentops.models.domain import UsageThresholds, UsageVolume
from contentops.rights import reconcile_usage

pytestmark = pytest.mark.unit

DAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EVERYTHING = {
    "allowed_distributions": ["any"],
    "allowed_languages": ["any"],
    "allowed_industries": ["any"],
    "allowed_usages": ["any"],
    "allowed_sizes": ["any"],
    "allowed_placements": ["any"],
}


def licensed(**term: Any) -> UsageRights:
    fields = {**EVERYTHING, "allowed_geographies": ["worldwide"], **term}
    return UsageRights(
        asset_id="asset-1",
        license_state="completed",
        content_is_editorial_use=False,
        terms=(LicenseTerm.model_validate({"sequence_number": 1, **fields}),),
        current_downloads=12,
    )


def used(volume: int, *, region: str | None = "de", stream: str = "statements", days_later: int = 0) -> UsageVolume:
    return UsageVolume(on_date=DAY + timedelta(days=days_later), stream=stream, volume=volume, region=region)


def test_volumes_are_summed_per_day_and_stream() -> None:
    result = reconcile_usage(
        licensed(), [used(5), used(7), used(3, stream="claims"), used(4, days_later=1)], UsageThresholds()
    )
    assert result.total_volume == 19
    assert result.by_day == {"2026-11-24": {"statements": 12, "claims": 3}, "2026-11-25": {"statements": 4}}
    assert not result.needs_review


@pytest.mark.parametrize(("max_volume", "flagged"), [(None, False), (100, False), (99, True), (0, True)], ids=str)
def test_volume_threshold(max_volume: int | None, flagged: bool) -> None:
    result = reconcile_usage(licensed(), [used(60), used(40)], UsageThresholds(max_volume=max_volume))
    assert (ReasonCode.USAGE_OVER_THRESHOLD in result.codes) is flagged


def test_usage_outside_the_licensed_regions_is_flagged_with_the_region_and_volume() -> None:
    europe_not_gb = licensed(allowed_geographies=["europe"], restricted_geographies=["gb"])
    result = reconcile_usage(
        europe_not_gb, [used(10, region="de"), used(30, region="gb"), used(5, region="gb")], UsageThresholds()
    )
    (finding,) = result.findings
    assert finding.code is ReasonCode.USAGE_OUTSIDE_REGION and finding.wanted == "gb"
    assert finding.message.startswith("35 uses in region 'gb'")
    assert not reconcile_usage(europe_not_gb, [used(30, region="gb")], UsageThresholds(check_regions=False)).findings


def test_an_unreported_or_unknown_region_is_not_a_finding() -> None:
    result = reconcile_usage(
        licensed(allowed_geographies=["europe"]), [used(3, region=None), used(3, region="atlantis")], UsageThresholds()
    )
    assert ReasonCode.USAGE_OUTSIDE_REGION not in result.codes


def test_usage_after_the_license_ended_is_flagged_per_day() -> None:
    ended = licensed(valid_until=(DAY - timedelta(days=2)).isoformat())
    result = reconcile_usage(ended, [used(4), used(6, days_later=1)], UsageThresholds())
    assert [f.wanted for f in result.findings if f.code is ReasonCode.USAGE_AFTER_EXPIRY] == [
        "2026-11-24",
        "2026-11-25",
    ]
    still_valid = licensed(valid_until=(DAY + timedelta(days=30)).isoformat())
    assert not reconcile_usage(still_valid, [used(4)], UsageThresholds()).findings
    assert not reconcile_usage(ended, [used(4)], UsageThresholds(check_expiry=False)).findings


def test_expired_and_outside_the_regions_gives_both_findings() -> None:
    rights = licensed(allowed_geographies=["europe"], valid_until=(DAY - timedelta(days=1)).isoformat())
    codes = reconcile_usage(rights, [used(2, region="us")], UsageThresholds()).codes
    assert codes == {ReasonCode.USAGE_AFTER_EXPIRY, ReasonCode.USAGE_OUTSIDE_REGION}


def test_download_history_over_the_threshold() -> None:
    assert (
        ReasonCode.DOWNLOADS_OVER_THRESHOLD in reconcile_usage(licensed(), [], UsageThresholds(max_downloads=10)).codes
    )
    assert not reconcile_usage(licensed(), [], UsageThresholds(max_downloads=12)).findings


def test_usage_without_a_known_license_needs_review_but_no_usage_does_not() -> None:
    assert reconcile_usage(None, [used(1)], UsageThresholds()).codes == {ReasonCode.NO_LICENSE_KNOWN}
    assert not reconcile_usage(None, [], UsageThresholds()).needs_review
