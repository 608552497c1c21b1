"""Which licenses the rights sweep looks at, and what its workflows are told of them.

A sweep that synced (or healed) a license and then failed before its workflows started must
leave that license to the next run: the review set is "ending within the horizon, or written
since the sweep last finished a review", never "written by this very run". And the words a
workflow gets are the license's own dates, so the run that starts it does not change them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contentops import rights
from contentops.ledger import Ledger
from contentops.models.domain import UsageRights
from contentops.models.smintio import LicensePurchaseTransaction
from contentops.pipelines import rights_sweep
from contentops.pipelines.licenses import license_row
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.sweep_findings import stated_reason
from contentops.pipelines.window import RunWindow
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.unit

NOW = datetime.now(UTC).replace(microsecond=0)
#: the seed's license kinds: 6 = download cap reached (no end date), 3 = ended 10 days ago,
#: 0 = ends in 7 days, 9 = perpetual and fine
AT_LIMIT, ENDED, ENDING, FINE = 6, 3, 0, 9


def _lpt(index: int) -> LicensePurchaseTransaction:
    return LicensePurchaseTransaction.model_validate(seed.make_lpt(index, NOW))


def _run(ledger: Ledger, run_id: str, *, day: int = 0, **params: object) -> PipelineRun:
    end = NOW + timedelta(days=day)
    return PipelineRun("rights_expiry_sweep", run_id, RunWindow(end - timedelta(days=1), end), params, ledger=ledger)


def _reviewed(run: PipelineRun, **kwargs: object) -> dict[str, str]:
    affected, _ = rights_sweep.assess_licenses(run, horizon_days=30, **kwargs)  # type: ignore[arg-type]
    return {uuid: finding[0].value for uuid, finding in affected.items()}


@pytest.fixture(autouse=True)
def _no_clock_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    # writes and reviews here are milliseconds apart; the margin is for real workers' clocks
    monkeypatch.setattr(rights_sweep, "CLOCK_MARGIN", timedelta(0))


def test_a_license_a_failed_run_synced_is_reviewed_by_the_next_run(ledger: Ledger) -> None:
    at_limit, fine = _lpt(AT_LIMIT), _lpt(FINE)
    ledger.upsert_licenses([license_row(at_limit), license_row(fine)], run_id="run-1")
    # run-1 assessed, then its workflow starts failed: finish_review never ran
    assert _reviewed(_run(ledger, "run-1")) == {at_limit.uuid: "limit_reached"}

    # run-2 synced nothing new; the capped license (no end date) is still reviewed
    second = _run(ledger, "run-2", day=1)
    assert _reviewed(second) == {at_limit.uuid: "limit_reached"}
    assert rights_sweep.finish_review(second)

    # once a run finished its review, what it saw is not reviewed again; a change is
    assert _reviewed(_run(ledger, "run-3", day=2)) == {}
    changed = at_limit.model_copy(update={"version": 2})
    ledger.upsert_licenses([license_row(changed)], run_id="license-sync-run")  # written by another DAG
    assert _reviewed(_run(ledger, "run-4", day=3)) == {at_limit.uuid: "limit_reached"}


def test_a_dry_run_or_a_partial_review_finishes_nothing(ledger: Ledger) -> None:
    at_limit = _lpt(AT_LIMIT)
    ledger.upsert_licenses([license_row(at_limit)], run_id="run-1")
    dry = _run(ledger, "dry", dry_run=True)
    _reviewed(dry)
    assert not rights_sweep.finish_review(dry)
    partial = _run(ledger, "partial")
    _reviewed(partial, providers=["getty"])
    assert not rights_sweep.finish_review(partial)
    assert _reviewed(_run(ledger, "run-2")) == {at_limit.uuid: "limit_reached"}


def test_the_review_mark_never_moves_back(ledger: Ledger) -> None:
    early, late = _run(ledger, "early"), _run(ledger, "late")
    _reviewed(early)
    _reviewed(late)
    assert rights_sweep.finish_review(late)
    mark = rights_sweep.reviewed_until(late)
    assert not rights_sweep.finish_review(early)
    assert rights_sweep.reviewed_until(early) == mark


@pytest.mark.parametrize("kind", [ENDED, ENDING])
def test_a_workflow_is_told_the_same_whichever_day_starts_it(kind: int) -> None:
    usage = UsageRights.from_lpt(_lpt(kind))
    said = {
        "; ".join(stated_reason(r) for r in rights.assess_for_sweep(usage, NOW + timedelta(days=d), 30).reasons)
        for d in (0, 1, 2)
    }
    assert len(said) == 1, said
    (text,) = said
    expiry = rights.expiry(usage)
    assert expiry is not None and expiry.date().isoformat() in text
    assert NOW.date().isoformat() not in text  # the day a sweep looked is not part of it
