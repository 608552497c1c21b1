"""Working the quarantine from the ledger CLI, against the sandboxes (real HTTP).

A partner files a case the intake cannot route (quarantined with its reason), fixes it at the
partner, and the operator replays the row: the case is read again, routed and answered once —
a second replay and the next scheduled intake change nothing. A case still malformed stays
quarantined with the reason it fails now. Rows are resolved with a note and exported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contentops import quarantine
from contentops.ledger import Ledger
from contentops.ledger_cli import main
from contentops.pipelines import partner_cases
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow

pytestmark = pytest.mark.e2e

DACH = "GC00000001PT"  # the sandbox's partner directory: a DACH partner


@pytest.fixture
def env(connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    # rotated refresh tokens outlive a hook, as the Airflow Variable keeps them for every task
    from contentops.hooks.base import RefreshTokenStore

    tokens: dict[str, str] = {}
    monkeypatch.setattr(RefreshTokenStore, "load", lambda self: tokens.get(self.key))
    monkeypatch.setattr(RefreshTokenStore, "reload", lambda self: tokens.get(self.key))
    monkeypatch.setattr(RefreshTokenStore, "save", lambda self, token: tokens.__setitem__(self.key, token))
    smintio = connect("smintio", options={"seeded_transactions": 40})
    connect("workflow")
    grid = connect("trading_grid")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    return {"grid": grid, "smintio": smintio, "ledger": ledger, "url": ledger_url}


def _intake(ledger: Ledger, run_id: str) -> None:
    """One scheduled partner_case_intake run's work: collect, then handle every batch."""
    now = datetime.now(UTC)
    run = PipelineRun("partner_case_intake", run_id, RunWindow(now - timedelta(hours=1), now), ledger=ledger)
    for batch in partner_cases.collect(run)["batches"]:
        partner_cases.handle_cases(run, batch)


def _file(grid: Any, **body: Any) -> str:
    base = {"type": "asset_request", "partner_company_id": DACH, "subject": "Logos for the shop", "details": {}}
    return str(grid.admin("POST", "trading_grid/cases", json={**base, **body})["id"])


def _writes(grid: Any, ledger: Ledger) -> tuple[int, int, int]:
    return (
        len(grid.context.store.history(kind="case")),
        len(grid.context.store.all("case_comment")),
        len(ledger.effects()),
    )


def _row(ledger: Ledger, case_id: str) -> Any:
    return next(r for r in ledger.quarantined(include_resolved=True) if (r.ref or "").startswith(f"{case_id}@"))


def test_a_fixed_case_replayed_from_the_cli_is_answered_once(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    grid, ledger, url = env["grid"], env["ledger"], env["url"]
    case_id = _file(grid)  # no asset kind: the intake cannot route it
    _intake(ledger, "scheduled__1")
    row = _row(ledger, case_id)
    assert row.resolved_at is None and "which kind of asset" in row.reason

    assert main(["--url", url, "quarantine"]) == 0
    listed = capsys.readouterr().out
    assert f"#{row.id} " in listed and "[replayable]" in listed and "which kind of asset" in listed

    # still malformed: the replay leaves the row open, and nothing is written to the partner
    before = _writes(grid, ledger)
    assert main(["--url", url, "replay", str(row.id), "--here"]) == 1
    assert "still invalid" in capsys.readouterr().out
    assert _row(ledger, case_id).resolved_at is None
    assert _writes(grid, ledger) == before

    # the partner fixes the case; the operator replays it: routed and answered
    grid.admin("PATCH", f"trading_grid/cases/{case_id}", json={"details": {"asset_kind": "logo"}})
    assert main(["--url", url, "replay", str(row.id), "--here"]) == 0
    assert "taken in" in capsys.readouterr().out
    case = grid.context.store.get("case", case_id)
    comments = [c for c in grid.context.store.all("case_comment") if c["case_id"] == case_id]
    assert comments, "the replayed case was answered"
    assert case["status"] in ("resolved", "in_progress")
    assert _row(ledger, case_id).resolved_at is not None

    # exactly once: a second replay and the next scheduled run write nothing more
    after = _writes(grid, ledger)
    assert main(["--url", url, "replay", str(row.id), "--here"]) == 1
    assert "already resolved" in capsys.readouterr().out
    _intake(ledger, "scheduled__2")
    assert _writes(grid, ledger) == after
    outcomes = [e.action for e in ledger.audit_trail(subject=quarantine.subject(row.id))]
    assert outcomes == ["replay_still_invalid", "replay_taken_in", "replay_already_resolved"]


def test_a_replay_that_fails_again_keeps_the_row_with_the_new_reason(env: Any) -> None:
    grid, ledger = env["grid"], env["ledger"]
    case_id = _file(grid)
    _intake(ledger, "scheduled__1")
    row = _row(ledger, case_id)
    # the partner "fixes" it into another malformed case: a report that names no asset
    grid.admin("PATCH", f"trading_grid/cases/{case_id}", json={"type": "missing_file"})

    result = quarantine.replay(ledger, row.id, by="test")

    assert result.outcome is quarantine.Outcome.STILL_INVALID
    again = _row(ledger, case_id)
    assert again.resolved_at is None
    assert "must name the asset" in again.reason and "which kind of asset" not in again.reason
    assert [r.id for r in ledger.quarantined()] == [row.id]  # the same row, not a second one


def test_resolve_with_a_note_and_export(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    grid, ledger, url = env["grid"], env["ledger"], env["url"]
    first, second = _file(grid), _file(grid, subject="Banner")
    ledger.quarantine("vip", "catalog_entry", "price is not a number", {"id": "ITM-9", "price": "x"}, ref="ITM-9")
    _intake(ledger, "scheduled__1")
    other = next(r for r in ledger.quarantined() if r.kind == "catalog_entry")

    with pytest.raises(SystemExit):  # a note is required
        main(["--url", url, "resolve", str(_row(ledger, first).id), "--note", "  "])
    assert main(["--url", url, "resolve", str(_row(ledger, first).id), "--note", "partner withdrew it"]) == 0
    assert main(["--url", url, "resolve", str(_row(ledger, first).id), "--note", "twice"]) == 1
    assert quarantine.resolution_of(ledger, _row(ledger, first).id).startswith("partner withdrew it (resolved by ")
    # a kind no step reads again: replay says so and leaves the row alone
    assert main(["--url", url, "replay", str(other.id), "--here"]) == 1
    assert "not replayable" in capsys.readouterr().out
    assert quarantine.find(ledger, other.id).resolved_at is None

    capsys.readouterr()
    assert main(["--url", url, "quarantine", "--export", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["ref"] for r in rows} == {f"{second}@r1", "ITM-9"}
    assert json.loads(next(r["raw"] for r in rows if r["ref"] == "ITM-9")) == {"id": "ITM-9", "price": "x"}
    assert main(["--url", url, "quarantine", "--all", "--export", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert {r["ref"] for r in exported} == {f"{first}@r1", f"{second}@r1", "ITM-9"}
    assert next(r for r in exported if r["ref"] == f"{first}@r1")["resolved_at"]


def test_a_queued_license_record_is_replayed_by_the_replay_step_and_only_its_row_resolved(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from contentops.pipelines.licenses import sync_license_index

    smintio, ledger, url = env["smintio"], env["ledger"], env["url"]
    smintio.set_faults(malformed_rate=0.2, seed=5)
    now = datetime.now(UTC)
    window = RunWindow(now - timedelta(hours=1), now)
    sync_license_index(PipelineRun("smintio_license_sync", "scheduled__1", window, ledger=ledger), page_size=7)
    rows = ledger.quarantined(source="smintio")
    assert len(rows) >= 2
    indexed = ledger.count_licenses()
    smintio.set_faults()  # the feed serves every record correctly again

    # queued from the shell; the replay DAG's step takes the queue
    assert main(["--url", url, "replay", str(rows[0].id)]) == 0
    assert "queued" in capsys.readouterr().out
    assert quarantine.pending_requests(ledger) == [rows[0].id]
    replay_run = PipelineRun(quarantine.REPLAY_DAG_ID, "manual__replay", window, ledger=ledger)
    assert quarantine.replay_rows(replay_run) == {"taken_in": 1}

    assert quarantine.pending_requests(ledger) == []
    assert [r.id for r in ledger.quarantined(source="smintio")] == [r.id for r in rows[1:]]
    assert ledger.count_licenses() == indexed + 1
    (entry,) = [e for e in ledger.audit_trail(run_id="manual__replay") if e.pipeline == quarantine.REPLAY_DAG_ID]
    assert entry.action == "replay_taken_in" and "license index" in entry.details["reason"]
