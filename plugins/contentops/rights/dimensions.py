"""One usage dimension of one term (region, channel, language, ...): restricted wins, allowed
must cover, ``None`` is unknown. The seven dimensions differ only in data, so one function decides them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contentops.models.domain import (
    Reason,
    ReasonCode,
    Verdict,
)
from contentops.rights.catalogues import KeyCatalogue
from contentops.rights.outcomes import ALLOWED, Outcome, fmt_keys


@dataclass(frozen=True)
class Dimension:
    """One usage dimension: which IntendedUse field it reads and which term lists it checks."""

    name: str  # used in reasons: "region"
    use_field: str  # IntendedUse attribute
    lists: str  # term list suffix: allowed_<lists> / restricted_<lists>
    not_allowed: ReasonCode
    restricted: ReasonCode
    unknown: ReasonCode


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "region",
        "region",
        "geographies",
        ReasonCode.REGION_NOT_ALLOWED,
        ReasonCode.REGION_RESTRICTED,
        ReasonCode.UNKNOWN_REGION,
    ),
    Dimension(
        "channel",
        "channel",
        "distributions",
        ReasonCode.CHANNEL_NOT_ALLOWED,
        ReasonCode.CHANNEL_RESTRICTED,
        ReasonCode.UNKNOWN_CHANNEL,
    ),
    Dimension(
        "language",
        "language",
        "languages",
        ReasonCode.LANGUAGE_NOT_ALLOWED,
        ReasonCode.LANGUAGE_RESTRICTED,
        ReasonCode.UNKNOWN_LANGUAGE,
    ),
    Dimension(
        "industry",
        "industry",
        "industries",
        ReasonCode.INDUSTRY_NOT_ALLOWED,
        ReasonCode.INDUSTRY_RESTRICTED,
        ReasonCode.UNKNOWN_INDUSTRY,
    ),
    Dimension(
        "usage", "usage", "usages", ReasonCode.USAGE_NOT_ALLOWED, ReasonCode.USAGE_RESTRICTED, ReasonCode.UNKNOWN_USAGE
    ),
    Dimension(
        "size", "size", "sizes", ReasonCode.SIZE_NOT_ALLOWED, ReasonCode.SIZE_RESTRICTED, ReasonCode.UNKNOWN_SIZE
    ),
    Dimension(
        "placement",
        "placement",
        "placements",
        ReasonCode.PLACEMENT_NOT_ALLOWED,
        ReasonCode.PLACEMENT_RESTRICTED,
        ReasonCode.UNKNOWN_PLACEMENT,
    ),
)


def check_dimension(
    dimension: Dimension,
    wanted: str,
    allowed: list[str] | None,
    restricted: list[str] | None,
    catalogue: KeyCatalogue,
    term: int,
) -> Outcome:
    """Decide one dimension of one term: restricted wins, allowed must cover, None is unknown."""
    lists = dimension.lists

    def reason(code: ReasonCode, message: str, listed: Sequence[str]) -> Reason:
        return Reason(
            code=code,
            message=f"term {term}: {message}",
            term=term,
            dimension=dimension.name,
            wanted=wanted,
            listed=tuple(listed),
        )

    wanted_known = catalogue.is_known(wanted)
    wanted_leaves = catalogue.leaves(wanted)

    def overlaps(key: str) -> bool:
        return catalogue.is_wildcard(key) or bool(catalogue.leaves(key) & wanted_leaves)

    blocked = [key for key in restricted or () if overlaps(key)]
    if blocked:
        return Outcome(
            Verdict.REFUSED,
            (
                reason(
                    dimension.restricted,
                    f"{dimension.name} '{wanted}' falls under restricted_{lists} {fmt_keys(blocked)}",
                    restricted or (),
                ),
            ),
        )
    # Keys we cannot place: an unresolvable license key, or any key when the wanted value is unresolvable.
    undecided_restricted = [key for key in restricted or () if not (wanted_known and catalogue.is_known(key))]

    if allowed is None:
        return Outcome(
            Verdict.UNKNOWN,
            (
                reason(
                    dimension.unknown,
                    f"allowed_{lists} is not stated, so {dimension.name} '{wanted}' cannot be confirmed",
                    (),
                ),
            ),
        )
    covered: set[str] = set()
    for key in allowed:
        covered |= catalogue.leaves(key)
    if any(catalogue.is_wildcard(key) for key in allowed) or wanted_leaves <= covered:
        if not undecided_restricted:
            return ALLOWED
        return Outcome(
            Verdict.UNKNOWN,
            (
                reason(
                    dimension.unknown,
                    f"cannot tell whether {dimension.name} '{wanted}' falls under restricted_{lists} "
                    f"{fmt_keys(undecided_restricted)}",
                    restricted or (),
                ),
            ),
        )
    undecided_allowed = [key for key in allowed if not (wanted_known and catalogue.is_known(key))]
    if undecided_allowed:
        return Outcome(
            Verdict.UNKNOWN,
            (
                reason(
                    dimension.unknown,
                    f"cannot tell whether {dimension.name} '{wanted}' is within allowed_{lists} "
                    f"{fmt_keys(undecided_allowed)}",
                    allowed,
                ),
            ),
        )
    return Outcome(
        Verdict.REFUSED,
        (
            reason(
                dimension.not_allowed,
                f"{dimension.name} '{wanted}' is not within allowed_{lists} {fmt_keys(allowed)}",
                allowed,
            ),
        ),
    )
