"""The rights gate: may an asset be used (or a derivative made) like this on a given date?

License-level checks and the best of the alternative terms, combined into one
:class:`~contentops.models.domain.RightsDecision` that names the granting term or every reason.
"""

from __future__ import annotations

from datetime import datetime

from contentops.models.common import as_utc
from contentops.models.domain import (
    IntendedUse,
    Reason,
    ReasonCode,
    RightsDecision,
    UsageRights,
    Verdict,
)
from contentops.rights.catalogues import DEFAULT_CHANNELS, DEFAULT_REGIONS, LANGUAGES, KeyCatalogue
from contentops.rights.license import counter_outcome, license_outcome
from contentops.rights.outcomes import Outcome, best, worst
from contentops.rights.terms import term_number, term_outcome


def decide(
    rights: UsageRights,
    use: IntendedUse,
    regions: KeyCatalogue | None,
    channels: KeyCatalogue | None,
    *,
    derivative: bool = False,
) -> RightsDecision:
    catalogues: dict[str, KeyCatalogue] = {
        "region": regions or DEFAULT_REGIONS,
        "channel": channels or DEFAULT_CHANNELS,
        "language": LANGUAGES,
    }
    planned = {"downloads": use.planned_downloads, "users": use.planned_users, "reuses": use.planned_reuses}
    license_level = [license_outcome(rights), counter_outcome(rights, lambda name: planned[name] or 0)]

    granted_by: int | None = None
    if not rights.terms:
        terms_outcome = Outcome(
            Verdict.UNKNOWN,
            (
                Reason(
                    code=ReasonCode.NO_LICENSE_TERMS,
                    message="the license carries no terms (neither on the purchase nor on the offering)",
                ),
            ),
        )
    else:
        per_term = [
            (
                term_number(term, index),
                term_outcome(term, term_number(term, index), rights, use, catalogues, derivative),
            )
            for index, term in enumerate(rights.terms)
        ]
        granting = [number for number, outcome in per_term if outcome.verdict is Verdict.ALLOWED]
        if granting:
            granted_by = granting[0]
        terms_outcome = best([outcome for _, outcome in per_term])

    final = worst([*license_level, terms_outcome])
    return RightsDecision(
        verdict=final.verdict,
        reasons=final.reasons,
        asset_id=rights.asset_id,
        granted_by_term=granted_by if final.verdict is Verdict.ALLOWED else None,
    )


# =========================================================================== public rules


def evaluate(
    rights: UsageRights,
    use: IntendedUse,
    regions: KeyCatalogue | None = None,
    *,
    channels: KeyCatalogue | None = None,
) -> RightsDecision:
    """May ``rights`` be used for ``use``? See the module docstring for how each part is read.

    ``regions`` / ``channels`` default to the built-in catalogues; pass the ones loaded from
    config to override. The decision names the granting term, or every reason it was not granted.
    """
    return decide(rights, use, regions, channels)


def may_derive(
    rights: UsageRights,
    language: str | None,
    region: str | None,
    as_of: datetime,
    *,
    regions: KeyCatalogue | None = None,
) -> RightsDecision:
    """May a localized variant / derivative be made and used in ``language`` and ``region``?

    The same rules as :func:`evaluate` for a commercial use in that language and region on
    ``as_of``, plus: editorial-use-only content may not be altered, and a term whose
    ``restricted_usages`` contain a modification key (:data:`DERIVATIVE_RESTRICTION_KEYS`) grants nothing.
    """
    use = IntendedUse(on_date=as_utc(as_of), language=language, region=region)
    return decide(rights, use, regions, None, derivative=True)


def evaluate_derivative(
    rights: UsageRights,
    use: IntendedUse,
    regions: KeyCatalogue | None = None,
    *,
    channels: KeyCatalogue | None = None,
) -> RightsDecision:
    """May a derivative made from content under ``rights`` be used for ``use``?

    A derivative (an agency's final deliverable, a resize, a localized variant) carries its
    master's license: the same rules as :func:`evaluate`, plus the derivative rules of
    :func:`may_derive` (editorial-use-only content may not be altered; a modification key in
    ``restricted_usages`` grants nothing).
    """
    return decide(rights, use, regions, channels, derivative=True)
