"""One license term: its dates, its editorial flag, its derivative restrictions and its dimensions.

A term is one alternative grant; :mod:`contentops.rights.decisions` combines the terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from contentops.models.domain import (
    IntendedUse,
    Reason,
    ReasonCode,
    UsageRights,
    Verdict,
)
from contentops.models.smintio import LicenseTerm
from contentops.rights.catalogues import FLAT, KeyCatalogue, normalize_key
from contentops.rights.dimensions import DIMENSIONS, check_dimension
from contentops.rights.outcomes import ALLOWED, Outcome, fmt_keys, worst

#: ``restricted_usages`` keys that forbid altering the content (derivatives, localized variants). Modelled.
DERIVATIVE_RESTRICTION_KEYS: frozenset[str] = frozenset(
    {
        "modification",
        "modifications",
        "alteration",
        "alterations",
        "derivative",
        "derivatives",
        "derivative_works",
        "adaptation",
        "no_modification",
        "no_derivatives",
    }
)


def term_end(term: LicenseTerm) -> datetime | None:
    """When a term stops granting *new* use: the earlier of ``valid_until`` and ``to_be_used_until``."""
    ends = [end for end in (term.valid_until, term.to_be_used_until) if end is not None]
    return min(ends) if ends else None


def check_dates(term: LicenseTerm, on_date: datetime, number: int) -> Outcome:
    checks: list[tuple[bool, ReasonCode, str, str, datetime | None]] = [
        (
            term.valid_from is not None and on_date < term.valid_from,
            ReasonCode.NOT_YET_VALID,
            "valid_from",
            "is before the term starts",
            term.valid_from,
        ),
        (
            term.valid_until is not None and on_date > term.valid_until,
            ReasonCode.EXPIRED,
            "valid_until",
            "is after the term expired",
            term.valid_until,
        ),
        (
            term.to_be_used_until is not None and on_date > term.to_be_used_until,
            ReasonCode.USE_PERIOD_ENDED,
            "to_be_used_until",
            "is after the last date a use may start",
            term.to_be_used_until,
        ),
    ]
    reasons = tuple(
        Reason(
            code=code,
            message=f"term {number}: {on_date.date().isoformat()} {text} ({field} {limit.isoformat()})",
            term=number,
            dimension=field,
            wanted=on_date.isoformat(),
            listed=(limit.isoformat(),),
        )
        for failed, code, field, text, limit in checks
        if failed and limit is not None
    )
    return Outcome(Verdict.REFUSED, reasons) if reasons else ALLOWED


def editorial_flag(term: LicenseTerm, rights: UsageRights) -> bool | None:
    """Is this term editorial-use only? Any True wins; all unknown stays unknown."""
    flags = (term.is_editorial_use, rights.editorial_only)
    if any(flag is True for flag in flags):
        return True
    if any(flag is False for flag in flags):
        return False
    return None


def _check_editorial(
    term: LicenseTerm, rights: UsageRights, use: IntendedUse, number: int, derivative: bool
) -> Outcome:
    flag = editorial_flag(term, rights)
    if flag is True and derivative:
        return Outcome(
            Verdict.REFUSED,
            (
                Reason(
                    code=ReasonCode.DERIVATIVES_NOT_ALLOWED,
                    message=f"term {number}: editorial-use-only content may not be altered into a derivative",
                    term=number,
                    dimension="editorial",
                ),
            ),
        )
    if use.editorial:
        return ALLOWED
    if flag is True:
        return Outcome(
            Verdict.REFUSED,
            (
                Reason(
                    code=ReasonCode.EDITORIAL_ONLY,
                    message=f"term {number}: licensed for editorial use only; this use is commercial",
                    term=number,
                    dimension="editorial",
                ),
            ),
        )
    if flag is None:
        return Outcome(
            Verdict.UNKNOWN,
            (
                Reason(
                    code=ReasonCode.UNKNOWN_EDITORIAL_USE,
                    message=f"term {number}: the license does not say whether it is editorial-use only",
                    term=number,
                    dimension="editorial",
                ),
            ),
        )
    return ALLOWED


def _check_derivative_usages(term: LicenseTerm, number: int) -> Outcome:
    blocked = [key for key in term.restricted_usages or () if normalize_key(key) in DERIVATIVE_RESTRICTION_KEYS]
    if not blocked:
        return ALLOWED
    return Outcome(
        Verdict.REFUSED,
        (
            Reason(
                code=ReasonCode.DERIVATIVES_NOT_ALLOWED,
                message=f"term {number}: restricted_usages {fmt_keys(blocked)} forbid altering the content",
                term=number,
                dimension="usage",
                listed=tuple(term.restricted_usages or ()),
            ),
        ),
    )


def term_outcome(
    term: LicenseTerm,
    number: int,
    rights: UsageRights,
    use: IntendedUse,
    catalogues: Mapping[str, KeyCatalogue],
    derivative: bool,
) -> Outcome:
    outcomes = [check_dates(term, use.on_date, number), _check_editorial(term, rights, use, number, derivative)]
    if derivative:
        outcomes.append(_check_derivative_usages(term, number))
    for dimension in DIMENSIONS:
        wanted = getattr(use, dimension.use_field)
        if wanted is None or str(wanted).strip() == "":
            continue
        outcomes.append(
            check_dimension(
                dimension,
                str(wanted),
                getattr(term, f"allowed_{dimension.lists}"),
                getattr(term, f"restricted_{dimension.lists}"),
                catalogues.get(dimension.name, FLAT),
                number,
            )
        )
    return worst(outcomes)


def term_number(term: LicenseTerm, index: int) -> int:
    """The term's ``sequence_number``, else its 1-based position."""
    return term.sequence_number if term.sequence_number is not None else index + 1
