"""The rights side of an attachment (CON-1, CON-6): the usage-rights summary a title keeps, and
the gate an asset passes before it is attached (every territory x channel x date must be allowed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from contentops import rights
from contentops.mapping.titles.pairing import FormatPairing, PairingRules
from contentops.mapping.titles.records import TitleRecord
from contentops.models.common import as_utc
from contentops.models.domain import IntendedUse, Reason, ReasonCode, RightsDecision, UsageRights, Verdict


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _keys(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def _union(lists: Iterable[Sequence[str] | None]) -> list[str] | None:
    """Union of key lists; ``None`` (unknown) as soon as one list is unknown."""
    merged: dict[str, None] = {}
    for values in lists:
        if values is None:
            return None
        merged.update(dict.fromkeys(values))
    return list(merged)


def rights_summary(usage: UsageRights | None, *, license_version: int | None = None) -> dict[str, Any]:
    """The usage-rights summary attached to a title: license, terms, territories, channels, expiry.

    ``None`` in a list means the license does not say (unknown), never "anything goes".
    """
    if usage is None:
        return {"license": None, "known": False}
    terms = [
        {
            "term": term.sequence_number,
            "territories": _keys(term.allowed_geographies),
            "restricted_territories": _keys(term.restricted_geographies),
            "channels": _keys(term.allowed_distributions),
            "restricted_channels": _keys(term.restricted_distributions),
            "languages": _keys(term.allowed_languages),
            "usage_limits": _keys(term.usage_limits),
            "valid_from": _iso(term.valid_from),
            "valid_until": _iso(term.valid_until),
            "to_be_used_until": _iso(term.to_be_used_until),
            "editorial_use": term.is_editorial_use,
        }
        for term in usage.terms
    ]
    return {
        "license": usage.license_purchase_transaction_uuid,
        "license_version": license_version,
        "known": bool(usage.terms),
        "provider": usage.provider,
        "license_state": usage.license_state,
        "territories": _union(term.allowed_geographies for term in usage.terms) if usage.terms else None,
        "channels": _union(term.allowed_distributions for term in usage.terms) if usage.terms else None,
        "expires": _iso(rights.expiry(usage)),
        "usable_until": _iso(rights.usable_until(usage)),
        "editorial_only": usage.editorial_only,
        "max_downloads": usage.max_downloads,
        "max_users": usage.max_users,
        "max_reuses": usage.max_reuses,
        "terms": terms,
    }


def rights_gate(
    usage: UsageRights | None,
    title: TitleRecord,
    pairing: FormatPairing,
    as_of: datetime,
    rules: PairingRules | None = None,
    *,
    regions: rights.KeyCatalogue | None = None,
    asset_id: str | None = None,
) -> RightsDecision:
    """May the asset be attached to the title for this pairing?

    Every territory the edition is sold in (worldwide when the title states none) x the
    channel of each format concerned x the run's date and the release date when it is later:
    all must be allowed. One refusal refuses; otherwise anything undecidable is unknown.
    """
    rules = rules or PairingRules()
    if usage is None or not usage.terms:
        reason = Reason(code=ReasonCode.NO_LICENSE_TERMS, message="no license terms are known for the asset")
        return RightsDecision(verdict=Verdict.UNKNOWN, reasons=(reason,), asset_id=asset_id)
    as_of = as_utc(as_of)
    if pairing.format is not None:
        product = next((p for p in title.products if p.product_id == pairing.product_id), None)
        formats = [pairing.format]
    else:
        product = None
        formats = title.formats or [None]  # type: ignore[list-item]
    channels = sorted({rules.channels.get(fmt) for fmt in formats if fmt is not None} - {None}) or [None]  # type: ignore[arg-type]
    territories = title.territories_of(product) or ("worldwide",)
    dates = [as_of]
    if pairing.release_date is not None:
        release = datetime.combine(pairing.release_date, datetime.min.time(), tzinfo=UTC)
        if release > as_of:
            dates.append(release)
    refused: list[Reason] = []
    unknown: list[Reason] = []
    for on_date in dates:
        for territory in territories:
            for channel in channels:
                decision = rights.evaluate(
                    usage, IntendedUse(on_date=on_date, region=territory, channel=channel), regions
                )
                if decision.verdict is Verdict.REFUSED:
                    refused.extend(decision.reasons)
                elif decision.verdict is Verdict.UNKNOWN:
                    unknown.extend(decision.reasons)
    if refused:
        return RightsDecision(verdict=Verdict.REFUSED, reasons=_distinct(refused), asset_id=asset_id)
    if unknown:
        return RightsDecision(verdict=Verdict.UNKNOWN, reasons=_distinct(unknown), asset_id=asset_id)
    return RightsDecision(verdict=Verdict.ALLOWED, asset_id=asset_id)


def _distinct(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    seen: dict[tuple[str, str], Reason] = {}
    for reason in reasons:
        seen.setdefault((reason.code.value, reason.message), reason)
    return tuple(seen.values())
