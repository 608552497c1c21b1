"""May a copy already delivered stay where it is? The re-decision ``delivery_compliance`` makes.

A copy is one delivery: an asset on a VIP catalog item, in a Trading Grid community or case,
an Exstream domain, a Consonance title. It stays only while the asset is still approved in
Smint.io **and** its current license allows it for the copy's channel in its regions on the
day. Pure: the caller passes the asset, the license's rights (``None`` = no license known) and
the day, so a re-run on the same inputs decides the same.

Why the day and not the moment: expiry fails closed *on the expiry day*. The caller passes the
end of the run's day, so a license whose last day is today is already treated as ended — the
copy is taken back on that day, not the day after a human answers a renewal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from contentops.models.domain import IntendedUse, ReasonCode, UsageRights
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.rights.decisions import evaluate

__all__ = ["CAUSE_APPROVAL", "CAUSE_RIGHTS", "CopyStanding", "copy_standing"]

#: why a copy is taken back: the asset is no longer approved / its license no longer allows it
CAUSE_APPROVAL = "approval"
CAUSE_RIGHTS = "rights"
_ENDED = frozenset({ReasonCode.EXPIRED, ReasonCode.USE_PERIOD_ENDED})


@dataclass(frozen=True)
class CopyStanding:
    """The answer for one copy.

    ``outcome`` is ``keep``, ``narrow`` (keep it, but only in ``regions``), ``expired`` (the
    license ended) or ``withdrawn`` (any other reason it may not stay); ``cause`` says whether
    approval or rights decided it, ``reason`` is what the report and the partner read.
    """

    outcome: str
    reason: str = ""
    cause: str = ""
    regions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def keep(self) -> bool:
        return self.outcome in ("keep", "narrow")


def copy_standing(
    asset: Asset | None,
    usage: UsageRights | None,
    *,
    on_date: datetime,
    channel: str | None,
    regions: Sequence[str | None],
    no_license: str = "no license is known for the asset",
) -> CopyStanding:
    """May this copy stay? See the module docstring. ``regions`` are the copy's regions (``None``
    for a copy that names none: only the date, the channel and the license as a whole count)."""
    if asset is None:
        return CopyStanding("withdrawn", "the asset is no longer in Smint.io", CAUSE_APPROVAL)
    if asset.approval_status is not ApprovalStatus.APPROVED:
        return CopyStanding(
            "withdrawn", f"the asset is {asset.approval_status.value} in Smint.io, no longer approved", CAUSE_APPROVAL
        )
    if usage is None:
        return CopyStanding("withdrawn", no_license, CAUSE_RIGHTS)
    wanted = list(dict.fromkeys(regions)) or [None]
    decisions = {
        region: evaluate(usage, IntendedUse(on_date=on_date, channel=channel, region=region)) for region in wanted
    }
    allowed = tuple(region for region, decision in decisions.items() if decision.allowed and region is not None)
    if any(decision.allowed for decision in decisions.values()):
        if None in wanted or len(allowed) == len(wanted):
            return CopyStanding("keep", regions=allowed)
        refused = [r for r in wanted if r not in allowed]
        return CopyStanding(
            "narrow", f"the license no longer covers {', '.join(str(r) for r in refused)}", CAUSE_RIGHTS, allowed
        )
    codes = frozenset().union(*(decision.codes for decision in decisions.values()))
    summary = "; ".join(dict.fromkeys(decision.summary() for decision in decisions.values()))
    if codes & _ENDED:
        return CopyStanding("expired", summary, CAUSE_RIGHTS)
    return CopyStanding("withdrawn", summary, CAUSE_RIGHTS)
