"""Checks on the license as a whole, whatever its terms say: its purchase state and its counters
(downloads, users, reuses) against their caps.
"""

from __future__ import annotations

from collections.abc import Callable

from contentops.models.domain import (
    Reason,
    ReasonCode,
    UsageRights,
    Verdict,
)
from contentops.models.smintio import COMPLETED_STATE
from contentops.rights.catalogues import normalize_key
from contentops.rights.outcomes import ALLOWED, Outcome, worst


def license_outcome(rights: UsageRights) -> Outcome:
    state = rights.license_state
    if state is None:
        return Outcome(
            Verdict.UNKNOWN,
            (
                Reason(
                    code=ReasonCode.UNKNOWN_LICENSE_STATE, message="the license state is not stated", dimension="state"
                ),
            ),
        )
    if normalize_key(state) != COMPLETED_STATE:
        return Outcome(
            Verdict.REFUSED,
            (
                Reason(
                    code=ReasonCode.LICENSE_NOT_COMPLETED,
                    message=f"the license purchase is '{state}', not '{COMPLETED_STATE}'",
                    dimension="state",
                    wanted=COMPLETED_STATE,
                    listed=(state,),
                ),
            ),
        )
    return ALLOWED


COUNTERS: tuple[tuple[str, str, str, ReasonCode, ReasonCode], ...] = (
    (
        "downloads",
        "max_downloads",
        "current_downloads",
        ReasonCode.DOWNLOAD_LIMIT_REACHED,
        ReasonCode.UNKNOWN_DOWNLOAD_COUNT,
    ),
    ("users", "max_users", "current_users", ReasonCode.USER_LIMIT_REACHED, ReasonCode.UNKNOWN_USER_COUNT),
    ("reuses", "max_reuses", "current_reuses", ReasonCode.REUSE_LIMIT_REACHED, ReasonCode.UNKNOWN_REUSE_COUNT),
)


def counter_outcome(rights: UsageRights, planned: Callable[[str], int]) -> Outcome:
    """``current + planned > max`` refuses; a cap with an unknown counter is unknown."""
    outcomes: list[Outcome] = []
    for name, max_field, current_field, limit_code, unknown_code in COUNTERS:
        cap = getattr(rights, max_field)
        if cap is None:
            continue
        current = getattr(rights, current_field)
        if current is None:
            outcomes.append(
                Outcome(
                    Verdict.UNKNOWN,
                    (
                        Reason(
                            code=unknown_code,
                            message=f"the license caps {name} at {cap} but the current count is not known",
                            dimension=name,
                            listed=(str(cap),),
                        ),
                    ),
                )
            )
            continue
        wanted = current + planned(name)
        if wanted > cap:
            outcomes.append(
                Outcome(
                    Verdict.REFUSED,
                    (
                        Reason(
                            code=limit_code,
                            message=f"{name}: {current} used + {planned(name)} planned exceeds the cap of {cap}",
                            dimension=name,
                            wanted=str(wanted),
                            listed=(str(cap),),
                        ),
                    ),
                )
            )
    return worst(outcomes)
