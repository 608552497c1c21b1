"""The replay queue: a request stays pending until a replay answers it, or its row is resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentops import quarantine
from contentops.ledger import Ledger

pytestmark = pytest.mark.unit


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger.migrate()
    return ledger


def test_requests_stay_pending_until_answered(ledger: Ledger) -> None:
    first = ledger.quarantine("trading_grid", "case", "bad", {"id": "C-1"}, ref="C-1@r1")
    second = ledger.quarantine("trading_grid", "case", "bad", {"id": "C-2"}, ref="C-2@r1")
    third = ledger.quarantine("trading_grid", "case", "bad", {"id": "C-3"}, ref="C-3@r1")
    for row in (first, second, third):
        quarantine.request_replay(ledger, row, by="ops")
    assert quarantine.pending_requests(ledger) == [first, second, third]

    # a replay that failed at a partner stays pending; one that ran is answered
    ledger.audit(quarantine.REPLAY_DAG_ID, "replay_failed", quarantine.subject(first))
    ledger.audit(quarantine.REPLAY_DAG_ID, "replay_still_invalid", quarantine.subject(second))
    quarantine.resolve(ledger, third, "withdrawn by the partner", by="ops")
    assert quarantine.pending_requests(ledger) == [first]

    # asked again after an answer: pending again
    quarantine.request_replay(ledger, second, by="ops")
    assert quarantine.pending_requests(ledger) == [first, second]


def test_replay_of_what_cannot_be_replayed_changes_nothing(ledger: Ledger) -> None:
    row = ledger.quarantine("vip", "catalog_entry", "price is not a number", {"id": "ITM-9"}, ref="ITM-9")
    result = quarantine.replay(ledger, row, by="ops")
    assert result.outcome is quarantine.Outcome.NOT_REPLAYABLE
    assert quarantine.find(ledger, row).reason == "price is not a number"
    assert quarantine.replay(ledger, 999, by="ops").outcome is quarantine.Outcome.NOT_FOUND
    with pytest.raises(ValueError, match="note"):
        quarantine.resolve(ledger, row, " ", by="ops")
    with pytest.raises(ValueError, match="format"):
        quarantine.export(ledger.quarantined(), "xml")
