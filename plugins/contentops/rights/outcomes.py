"""How partial answers combine: all must allow (:func:`worst`), or one alternative is enough (:func:`best`).

Kept separate because every rule (terms, license, compliance) folds its findings the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from contentops.models.domain import (
    Reason,
    Verdict,
)


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reasons: tuple[Reason, ...] = ()


ALLOWED = Outcome(Verdict.ALLOWED)


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """All must allow: refused beats unknown beats allowed; reasons of the non-allowed kept."""
    outcomes = list(outcomes)
    reasons = tuple(reason for outcome in outcomes for reason in outcome.reasons)
    verdicts = {outcome.verdict for outcome in outcomes}
    if Verdict.REFUSED in verdicts:
        return Outcome(Verdict.REFUSED, reasons)
    if Verdict.UNKNOWN in verdicts:
        return Outcome(Verdict.UNKNOWN, reasons)
    return ALLOWED


def best(outcomes: Sequence[Outcome]) -> Outcome:
    """Alternatives: one allowing is enough; else unknown if any is undecided; refused only if all refuse."""
    verdicts = {outcome.verdict for outcome in outcomes}
    if Verdict.ALLOWED in verdicts:
        return ALLOWED
    reasons = tuple(reason for outcome in outcomes for reason in outcome.reasons)
    return Outcome(Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts else Verdict.REFUSED, reasons)


def fmt_keys(keys: Sequence[str]) -> str:
    return "[" + ", ".join(keys) + "]"
