"""The rights expiry sweep's finding on one license: what the index stores with its rights.

Apart from :mod:`contentops.pipelines.rights_sweep` (which starts workflows and so imports the
hooks, and Airflow with them) so that the license index sync's page worker
(:mod:`contentops.pipelines.page_worker`), a process that never imports Airflow, makes the
same finding of the same rights as the sweep's own assessment.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contentops import rights
from contentops.models.domain import Reason, ReasonCode, UsageRights

__all__ = ["assessment_key", "stated_reason", "sweep_finding"]

#: a finding about a date, as a reviewer reads it: the license's own date (``listed``), never
#: the day the sweep looked (``wanted``), so two runs starting the same workflow say the same
_DATED_REASONS: dict[ReasonCode, str] = {
    ReasonCode.EXPIRED: "term {term} ended on {date}",
    ReasonCode.EXPIRING: "term {term} ends on {date}",
    ReasonCode.USE_PERIOD_ENDED: "term {term}: no new use may start after {date}",
    ReasonCode.NOT_YET_VALID: "term {term} starts on {date}",
}


def stated_reason(reason: Reason) -> str:
    """What a workflow (and the report) says of one finding: dated findings by the license's
    date alone; every other finding by its message (a cap, missing terms: no date in them)."""
    template = _DATED_REASONS.get(reason.code)
    if template is None or reason.term is None or not reason.listed:
        return reason.message
    return template.format(term=reason.term, date=reason.listed[0][:10])


def assessment_key(as_of: datetime, horizon_days: int) -> str:
    """Names one sweep assessment: what a license's finding depends on besides its rights."""
    return f"{as_of.astimezone(UTC).isoformat()}+{int(horizon_days)}d"


def sweep_finding(usage: UsageRights, as_of: datetime, horizon_days: int) -> dict[str, str] | None:
    """The sweep's finding on one license's rights as of a moment (``None``: no action needed),
    as the index stores it: its status, the reasons as a workflow states them, the expiry date."""
    assessment = rights.assess_for_sweep(usage, as_of, horizon_days)
    if not assessment.needs_action:
        return None
    return {
        "status": assessment.status.value,
        "reasons": "; ".join(dict.fromkeys(stated_reason(reason) for reason in assessment.reasons)),
        "expiry": assessment.expires_at.date().isoformat() if assessment.expires_at else "",
    }
