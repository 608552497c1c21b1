"""Production usage compared with the license and review thresholds (usage reconciliation).

Asks :func:`~contentops.rights.decisions.evaluate` one dimension at a time, so each finding
carries the license's own reasons.
"""

from __future__ import annotations

from collections.abc import Sequence

from contentops.models.common import as_utc
from contentops.models.domain import (
    IntendedUse,
    Reason,
    ReasonCode,
    UsageReconciliation,
    UsageRights,
    UsageThresholds,
    UsageVolume,
    Verdict,
)
from contentops.rights.catalogues import KeyCatalogue
from contentops.rights.decisions import evaluate

_DATE_CODES = frozenset({ReasonCode.EXPIRED, ReasonCode.USE_PERIOD_ENDED, ReasonCode.NOT_YET_VALID})
_REGION_CODES = frozenset({ReasonCode.REGION_NOT_ALLOWED, ReasonCode.REGION_RESTRICTED})


def reconcile_usage(
    rights: UsageRights | None,
    usages: Sequence[UsageVolume],
    thresholds: UsageThresholds,
    *,
    asset_id: str | None = None,
    regions: KeyCatalogue | None = None,
) -> UsageReconciliation:
    """Compare an asset's production usage in a period with its license and the thresholds (EXS-7, OWS-8).

    Findings, each with its reason:

    * ``usage_over_threshold`` - more uses in the period than ``thresholds.max_volume``;
    * ``usage_after_expiry`` - a day on which no license term allowed a use (ended, or not yet
      valid): the license was *refused* for that date, not merely unknown;
    * ``usage_outside_region`` - usage in a region every term refuses (not allowed or restricted);
      an unknown region key is not a finding (it cannot be told apart from a catalogue gap);
    * ``downloads_over_threshold`` - the license's download counter exceeds ``thresholds.max_downloads``;
    * ``no_license_known`` - usage of an asset whose license we do not know.

    The date and region checks ask :func:`evaluate` one dimension at a time, so a usage outside the
    regions on an expired license yields both findings, each with the license's own reasons.
    """
    by_day: dict[str, dict[str, int]] = {}
    for usage in usages:
        day = as_utc(usage.on_date).date().isoformat()
        streams = by_day.setdefault(day, {})
        streams[usage.stream] = streams.get(usage.stream, 0) + usage.volume
    total = sum(usage.volume for usage in usages)
    findings: list[Reason] = []
    if thresholds.max_volume is not None and total > thresholds.max_volume:
        findings.append(
            Reason(
                code=ReasonCode.USAGE_OVER_THRESHOLD,
                message=f"{total} uses in the period exceed the review threshold of {thresholds.max_volume}",
                dimension="volume",
                wanted=str(total),
                listed=(str(thresholds.max_volume),),
            )
        )
    if rights is None:
        if usages:
            findings.append(
                Reason(
                    code=ReasonCode.NO_LICENSE_KNOWN,
                    message=f"{total} uses of an asset whose license is not known",
                    wanted=str(total),
                )
            )
        return UsageReconciliation(asset_id=asset_id, total_volume=total, by_day=by_day, findings=tuple(findings))

    if thresholds.check_expiry:
        refused_days: dict[str, tuple[int, tuple[Reason, ...]]] = {}
        for usage in usages:
            day = as_utc(usage.on_date).date().isoformat()
            decision = evaluate(rights, IntendedUse(on_date=usage.on_date))
            dated = tuple(r for r in decision.reasons if r.code in _DATE_CODES)
            if decision.verdict is Verdict.REFUSED and dated:
                volume, _ = refused_days.get(day, (0, dated))
                refused_days[day] = (volume + usage.volume, dated)
        for day, (volume, reasons) in sorted(refused_days.items()):
            findings.append(
                Reason(
                    code=ReasonCode.USAGE_AFTER_EXPIRY,
                    message=f"{volume} uses on {day}, when no license term allowed a use ({reasons[0].message})",
                    term=reasons[0].term,
                    dimension="on_date",
                    wanted=day,
                    listed=reasons[0].listed,
                )
            )
    if thresholds.check_regions:
        refused_regions: dict[str, tuple[int, tuple[Reason, ...]]] = {}
        for usage in usages:
            if not usage.region:
                continue
            decision = evaluate(rights, IntendedUse(on_date=usage.on_date, region=usage.region), regions)
            placed = tuple(r for r in decision.reasons if r.code in _REGION_CODES)
            if decision.verdict is Verdict.REFUSED and placed:
                volume, _ = refused_regions.get(usage.region, (0, placed))
                refused_regions[usage.region] = (volume + usage.volume, placed)
        for region, (volume, reasons) in sorted(refused_regions.items()):
            findings.append(
                Reason(
                    code=ReasonCode.USAGE_OUTSIDE_REGION,
                    message=f"{volume} uses in region '{region}', outside the licensed regions ({reasons[0].message})",
                    term=reasons[0].term,
                    dimension="region",
                    wanted=region,
                    listed=reasons[0].listed,
                )
            )
    if (
        thresholds.max_downloads is not None
        and rights.current_downloads is not None
        and rights.current_downloads > thresholds.max_downloads
    ):
        findings.append(
            Reason(
                code=ReasonCode.DOWNLOADS_OVER_THRESHOLD,
                message=f"the license was downloaded {rights.current_downloads} times, "
                f"over the review threshold of {thresholds.max_downloads}",
                dimension="downloads",
                wanted=str(rights.current_downloads),
                listed=(str(thresholds.max_downloads),),
            )
        )
    return UsageReconciliation(asset_id=asset_id, total_volume=total, by_day=by_day, findings=tuple(findings))
