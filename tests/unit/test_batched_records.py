"""A step's audit entries written in batches (PipelineRun.batched_records, Ledger.audit_many)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contentops.ledger import Ledger
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow

pytestmark = pytest.mark.unit

END = datetime(2026, 11, 25, 4, tzinfo=UTC)


@pytest.fixture
def run(tmp_path: Path) -> PipelineRun:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    return PipelineRun("campaign_release", "r-1", RunWindow(END - timedelta(days=1), END), {}, ledger=ledger)


def _trail(run: PipelineRun) -> list[tuple[str, str, str]]:
    return [(e.subject, e.action, (e.details or {})["reason"]) for e in run.ledger.audit_trail(run_id=run.run_id)]


def test_batched_entries_land_in_order_as_one_by_one_entries_do(
    run: PipelineRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PipelineRun, "RECORD_BATCH", 3)
    with run.batched_records():
        for n in range(7):
            run.record(f"a-{n}", "vip:ITM-1", "cleared", f"#{n}", campaign="x")
            if n == 3:  # three written already, the fourth still held
                assert [s for s, _, _ in _trail(run)] == ["a-0", "a-1", "a-2"]
    run.record("a-7", "vip:ITM-1", "refused", "#7")  # outside the block: written at once
    assert _trail(run) == [(f"a-{n}", "cleared", f"#{n}") for n in range(7)] + [("a-7", "refused", "#7")]
    entry = run.ledger.audit_trail(subject="a-0")[0]
    assert entry.pipeline == "campaign_release" and entry.details == {
        "target": "vip:ITM-1",
        "reason": "#0",
        "campaign": "x",
    }


def test_what_a_failing_step_recorded_is_written_all_the_same(run: PipelineRun) -> None:
    with pytest.raises(RuntimeError), run.batched_records():
        run.record("a-1", "vip:ITM-1", "refused", "region")
        with run.batched_records():  # nested: the outer block writes
            run.record("a-2", "vip:ITM-1", "refused", "channel")
        assert _trail(run) == []
        raise RuntimeError("partner down")
    assert _trail(run) == [("a-1", "refused", "region"), ("a-2", "refused", "channel")]
    run.record("a-3", "vip:ITM-1", "cleared", "emea")  # and recording is one by one again
    assert _trail(run)[-1] == ("a-3", "cleared", "emea")
