"""When a license lapses, and what the rights expiry sweep must do about an asset on a given day.

Terms are alternatives: :func:`expiry` is the first change (for reminders), :func:`usable_until`
the date after which nothing is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from contentops.models.common import as_utc
from contentops.models.domain import (
    Reason,
    ReasonCode,
    SweepAssessment,
    SweepStatus,
    UsageRights,
    Verdict,
)
from contentops.models.smintio import Asset
from contentops.rights.compliance import missing_metadata
from contentops.rights.license import COUNTERS, license_outcome
from contentops.rights.terms import check_dates, term_end, term_number


def expiry(rights: UsageRights) -> datetime | None:
    """The first date any term lapses: the earliest ``valid_until`` / ``to_be_used_until``.

    Conservative on purpose (reminders and partner guidance want the first change). Because
    terms are alternatives, a use may still be allowed after this date through another term;
    :func:`usable_until` is the date after which *nothing* is allowed. ``None`` = no term has an end.
    """
    ends = [end for term in rights.terms if (end := term_end(term)) is not None]
    return min(ends) if ends else None


def usable_until(rights: UsageRights) -> datetime | None:
    """The date after which no term grants a new use (latest term end).

    ``None`` when at least one term has no end (perpetual) or there are no terms (nothing known).
    """
    if not rights.terms:
        return None
    ends = [term_end(term) for term in rights.terms]
    if any(end is None for end in ends):
        return None
    return max(end for end in ends if end is not None)


def expires_within(rights: UsageRights, as_of: datetime, days: int) -> bool:
    """Does some term lapse on or before ``as_of + days`` (including terms that already lapsed)?"""
    first = expiry(rights)
    return first is not None and first <= as_utc(as_of) + timedelta(days=days)


def assess_for_sweep(
    rights: UsageRights,
    as_of: datetime,
    horizon_days: int,
    *,
    asset: Asset | None = None,
    required_metadata: Sequence[str] = (),
) -> SweepAssessment:
    """What the rights expiry sweep must do about one asset on ``as_of``.

    Findings (all are reported; the headline status is the most severe):

    * ``expired`` - no term grants a new use any more (every term ended), or the license is no
      longer in the completed state;
    * ``limit_reached`` - a counter reached its cap (``current >= max``: no further use fits);
    * ``expiring`` - a term still in force ends within ``horizon_days``;
    * ``metadata_missing`` - no terms, unknown license state or counter, or a ``required_metadata``
      key missing on ``asset``;
    * ``ok`` - none of these.

    ``expires_at`` is the next end of a term still in force, or when everything ended, the last end.
    """
    as_of = as_utc(as_of)
    findings: set[SweepStatus] = set()
    reasons: list[Reason] = []
    expires_at: datetime | None = None

    license_state = license_outcome(rights)
    if license_state.verdict is Verdict.REFUSED:
        findings.add(SweepStatus.EXPIRED)
    elif license_state.verdict is Verdict.UNKNOWN:
        findings.add(SweepStatus.METADATA_MISSING)
    reasons.extend(license_state.reasons)

    if not rights.terms:
        findings.add(SweepStatus.METADATA_MISSING)
        reasons.append(Reason(code=ReasonCode.NO_LICENSE_TERMS, message="the license carries no terms"))
    else:
        running = [
            (term_number(term, index), end)
            for index, term in enumerate(rights.terms)
            if (end := term_end(term)) is None or end >= as_of
        ]
        if not running:
            findings.add(SweepStatus.EXPIRED)
            expires_at = usable_until(rights)
            reasons.extend(
                reason
                for index, term in enumerate(rights.terms)
                for reason in check_dates(term, as_of, term_number(term, index)).reasons
            )
        else:
            ends = [(end, number) for number, end in running if end is not None]
            if ends:
                expires_at, number = min(ends)
                if expires_at <= as_of + timedelta(days=horizon_days):
                    findings.add(SweepStatus.EXPIRING)
                    reasons.append(
                        Reason(
                            code=ReasonCode.EXPIRING,
                            message=f"term {number} ends on {expires_at.date().isoformat()}, "
                            f"within {horizon_days} days of {as_of.date().isoformat()}",
                            term=number,
                            dimension="valid_until",
                            wanted=as_of.isoformat(),
                            listed=(expires_at.isoformat(),),
                        )
                    )

    # current >= max: no room for one more use, whatever this run plans.
    for name, max_field, current_field, limit_code, unknown_code in COUNTERS:
        cap, current = getattr(rights, max_field), getattr(rights, current_field)
        if cap is None:
            continue
        if current is None:
            findings.add(SweepStatus.METADATA_MISSING)
            reasons.append(
                Reason(
                    code=unknown_code,
                    message=f"the license caps {name} at {cap} but the current count is not known",
                    dimension=name,
                    listed=(str(cap),),
                )
            )
        elif current >= cap:
            findings.add(SweepStatus.LIMIT_REACHED)
            reasons.append(
                Reason(
                    code=limit_code,
                    message=f"{name}: {current} used, the cap of {cap} is reached",
                    dimension=name,
                    wanted=str(current),
                    listed=(str(cap),),
                )
            )

    if required_metadata:
        if asset is None:
            raise ValueError("required_metadata needs the asset to check")
        for key in missing_metadata(asset, required_metadata):
            findings.add(SweepStatus.METADATA_MISSING)
            reasons.append(
                Reason(code=ReasonCode.METADATA_MISSING, message=f"metadata '{key}' is missing", dimension=key)
            )

    return SweepAssessment.from_findings(
        findings,
        reasons,
        expires_at,
        rights.asset_id if rights.asset_id is not None else (asset.id if asset else None),
    )
