"""Working the quarantine: resolve a row with a note, replay it, export the list.

A quarantined row is a partner record a pipeline could not use, kept verbatim with the reason.
An operator has three things to do with it, from the ledger CLI or the Airflow UI page alike:

- **resolve** it with a note (fixed by hand, or not ours to fix): the row leaves the open list
  and the note says why;
- **replay** it: the record is read again from the partner by the reference its row keeps and
  put through the same validation and the same pipeline step that first refused it, once. One
  that now validates is taken in (a case is answered, a license lands in the index, a localized
  return becomes a Smint.io variant in regional review) and its row
  resolved; one that fails again stays quarantined with the new reason. Delivery goes through
  the pipeline's own ledger slots, so a replay that passes delivers exactly once, however often
  it is asked for, and a later scheduled run does not deliver it again;
- **export** the rows as CSV or JSON.

Which step takes a row in is decided here, by the row's source and kind (:data:`REPLAYERS`),
for the CLI and the UI alike. The UI does not replay inside the web server: it records the
request in the ledger and triggers the :data:`REPLAY_DAG_ID` DAG, whose task replays in a worker
with the partner connections and rotating tokens every other task uses. Kinds no step re-reads
(the partner has to send the record again) cannot be replayed: they are resolved with a note.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from contentops.ledger import Ledger, QuarantineRecord
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow

#: the DAG that replays rows in a worker (the UI and a scheduled run trigger it)
REPLAY_DAG_ID = "quarantine_replay"
#: audit actions of the replay queue (pipeline = REPLAY_DAG_ID, subject = "quarantine #<id>")
REQUESTED = "replay_requested"
#: the window a replayed step decides in (rights as of its end: now)
REPLAY_WINDOW = timedelta(minutes=30)
EXPORT_FIELDS = ("id", "created_at", "source", "kind", "ref", "reason", "run_id", "resolved_at", "raw")


class Outcome(StrEnum):
    TAKEN_IN = "taken_in"
    STILL_INVALID = "still_invalid"
    NOT_REPLAYABLE = "not_replayable"
    ALREADY_RESOLVED = "already_resolved"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class ReplayResult:
    quarantine_id: int
    outcome: Outcome
    detail: str

    @property
    def action(self) -> str:
        """The audit action of this result."""
        return f"replay_{self.outcome.value}"


@dataclass(frozen=True)
class Replayer:
    """The pipeline step that takes one kind of quarantined record in."""

    #: the DAG whose ledger slots the replay delivers into (so a scheduled run of it skips them)
    pipeline: str
    #: what the replay does, in a sentence (shown in the UI)
    describes: str
    replay: Callable[[PipelineRun, QuarantineRecord], ReplayResult]


def subject(quarantine_id: int) -> str:
    return f"quarantine #{quarantine_id}"


# -- reading and changing rows -------------------------------------------------------------------
def find(ledger: Ledger, quarantine_id: int) -> QuarantineRecord | None:
    """One row, resolved or not."""
    return next((r for r in ledger.quarantined(include_resolved=True) if r.id == quarantine_id), None)


def resolution_of(ledger: Ledger, quarantine_id: int) -> str | None:
    """The note a resolved row was closed with (the ledger's records do not carry it)."""
    with ledger.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT resolution FROM co_quarantine WHERE id = :id"), {"id": quarantine_id}
        ).scalar_one_or_none()


def _set_reason(ledger: Ledger, quarantine_id: int, reason: str) -> None:
    """A row that failed its replay keeps its place in the queue with the reason it failed now."""
    with ledger.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE co_quarantine SET reason = :reason WHERE id = :id AND resolved_at IS NULL"),
            {"reason": reason, "id": quarantine_id},
        )


def resolve(ledger: Ledger, quarantine_id: int, note: str, *, by: str) -> bool:
    """Close an open row with a note saying why; False when it is not open (or does not exist)."""
    note = note.strip()
    if not note:
        raise ValueError("a resolution needs a note saying why")
    done = ledger.resolve_quarantine(quarantine_id, f"{note} (resolved by {by})")
    if done:
        ledger.audit(REPLAY_DAG_ID, "resolved", subject(quarantine_id), {"reason": note, "by": by})
    return done


def export(records: Iterable[QuarantineRecord], fmt: str) -> str:
    """The rows as CSV (one line per row, raw payload included) or as a JSON array."""
    rows = [
        {
            "id": r.id,
            "created_at": r.created_at.isoformat(),
            "source": r.source,
            "kind": r.kind,
            "ref": r.ref or "",
            "reason": r.reason,
            "run_id": r.run_id or "",
            "resolved_at": r.resolved_at.isoformat() if r.resolved_at else "",
            "raw": r.raw,
        }
        for r in records
    ]
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r} (csv or json)")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_FIELDS))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# -- the replayers -------------------------------------------------------------------------------
def _replay_license_record(run: PipelineRun, row: QuarantineRecord) -> ReplayResult:
    from contentops.pipelines.licenses import heal_quarantined

    reasons: dict[int, str] = {}
    heal_quarantined(run, only=row.id, on_still_malformed=lambda qid, reason: reasons.__setitem__(qid, reason))
    return _after(run, row, reasons.get(row.id), "taken into the license index")


def _replay_case(run: PipelineRun, row: QuarantineRecord) -> ReplayResult:
    from contentops.pipelines.partner_cases import handle_cases, heal_quarantined_cases

    reasons: dict[int, str] = {}
    grid = run.hook("trading_grid")
    case_ids = heal_quarantined_cases(
        run, grid, only=row.id, on_still_malformed=lambda qid, reason: reasons.__setitem__(qid, reason)
    )
    if case_ids:
        from contentops.pipelines.licenses import sync_license_index

        sync_license_index(run)  # as the intake does first: rights are decided on current licenses
        counts = handle_cases(run, case_ids)
        done = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing left to do"
        return ReplayResult(row.id, Outcome.TAKEN_IN, f"case {', '.join(case_ids)} handled: {done}")
    return _after(run, row, reasons.get(row.id), "nothing left to do")


def _replay_localized_return(run: PipelineRun, row: QuarantineRecord) -> ReplayResult:
    from contentops.pipelines.localization_replay import replay_return

    taken_in, detail = replay_return(run, row.ref)
    if not taken_in:
        return ReplayResult(row.id, Outcome.STILL_INVALID, detail)
    run.ledger.resolve_quarantine(row.id, f"replayed: {detail}")
    return ReplayResult(row.id, Outcome.TAKEN_IN, detail)


def _after(run: PipelineRun, row: QuarantineRecord, new_reason: str | None, done: str) -> ReplayResult:
    """The result of a healing path run for one row: resolved by it, or still open (new reason)."""
    current = find(run.ledger, row.id)
    if current is None or current.resolved_at is not None:
        return ReplayResult(row.id, Outcome.TAKEN_IN, resolution_of(run.ledger, row.id) or done)
    reason = new_reason or "the partner no longer serves this record where it was read"
    return ReplayResult(row.id, Outcome.STILL_INVALID, reason)


#: (source, kind) of a quarantined row -> the step that takes it in
REPLAYERS: dict[tuple[str, str], Replayer] = {
    ("smintio", "license_purchase_transaction"): Replayer(
        "smintio_license_sync",
        "reads its Smint.io license feed page again; a valid record goes into the license index",
        _replay_license_record,
    ),
    ("trading_grid", "case"): Replayer(
        "partner_case_intake",
        "fetches the Trading Grid case again; a valid open case is routed and answered",
        _replay_case,
    ),
    **{
        (source, "localized_return"): Replayer(
            "localization_return_loop",
            f"reads the {name} again; one that passes the loop's checks now is downloaded, "
            "uploaded to Smint.io as a variant and put in regional review",
            _replay_localized_return,
        )
        for source, name in (("vip", "VIP return"), ("trading_grid", "Trading Grid submission"))
    },
}


def replayer_for(row: QuarantineRecord) -> Replayer | None:
    return REPLAYERS.get((row.source, row.kind))


def replay(
    ledger: Ledger,
    quarantine_id: int,
    *,
    run_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    by: str = "operator",
) -> ReplayResult:
    """Read the row's record again and put it through its pipeline step, once.

    ``params`` name connections as the pipeline's Params do (default: each hook's default
    connection). The outcome is kept in the audit trail (:data:`REPLAY_DAG_ID`)."""
    row = find(ledger, quarantine_id)
    if row is None:
        return ReplayResult(quarantine_id, Outcome.NOT_FOUND, f"no quarantine row #{quarantine_id}")
    if row.resolved_at is not None:
        result = ReplayResult(row.id, Outcome.ALREADY_RESOLVED, resolution_of(ledger, row.id) or "resolved")
        return _audited(ledger, result, run_id, by)
    replayer = replayer_for(row)
    if replayer is None:
        result = ReplayResult(
            row.id,
            Outcome.NOT_REPLAYABLE,
            f"no pipeline step reads a {row.source} {row.kind} again by its reference: "
            "have the partner send it again, then resolve this row with a note",
        )
        return _audited(ledger, result, run_id, by)
    now = datetime.now(UTC)
    run_id = run_id or f"replay__{now:%Y%m%dT%H%M%S}__q{row.id}"
    run = PipelineRun(replayer.pipeline, run_id, RunWindow(now - REPLAY_WINDOW, now), params, ledger=ledger)
    result = replayer.replay(run, row)
    if result.outcome is Outcome.STILL_INVALID:
        _set_reason(ledger, row.id, result.detail)
    return _audited(ledger, result, run_id, by)


def _audited(ledger: Ledger, result: ReplayResult, run_id: str | None, by: str) -> ReplayResult:
    ledger.audit(
        REPLAY_DAG_ID,
        result.action,
        subject(result.quarantine_id),
        {"target": "quarantine", "reason": result.detail, "by": by},
        run_id=run_id,
    )
    return result


# -- the replay queue (UI -> DAG) ----------------------------------------------------------------
#: audit actions that answer a replay request
_ANSWERED = frozenset({f"replay_{outcome.value}" for outcome in Outcome} | {"resolved"})


def request_replay(ledger: Ledger, quarantine_id: int, *, by: str) -> None:
    """Ask for a replay in a worker: the next :data:`REPLAY_DAG_ID` run takes it."""
    ledger.audit(REPLAY_DAG_ID, REQUESTED, subject(quarantine_id), {"target": "quarantine", "by": by})


def pending_requests(ledger: Ledger) -> list[int]:
    """Rows asked to be replayed, still open, not replayed since the request (oldest first)."""
    pending: dict[int, bool] = {}
    for entry in ledger.audit_trail(pipeline=REPLAY_DAG_ID):
        if not entry.subject.startswith("quarantine #"):
            continue
        quarantine_id = int(entry.subject.removeprefix("quarantine #"))
        if entry.action == REQUESTED:
            pending[quarantine_id] = True
        elif entry.action in _ANSWERED:  # a replay that failed at a partner stays pending
            pending.pop(quarantine_id, None)
    open_ids = {r.id for r in ledger.quarantined()}
    return [qid for qid in pending if qid in open_ids]


class ReplayFailed(RuntimeError):
    """A partner failed while rows were replayed: the task fails so Airflow retries them (a row
    taken in before the failure is resolved and is not replayed again)."""


def replay_rows(run: PipelineRun) -> dict[str, int]:
    """The replay DAG's task: the rows its Params name, else every pending request. Returns
    counts per outcome (small, for XCom)."""
    from collections import Counter

    ids = [int(i) for i in run.params.get("quarantine_ids") or []] or pending_requests(run.ledger)
    counts: Counter[str] = Counter()
    failed: list[str] = []
    for quarantine_id in ids:
        try:
            result = replay(run.ledger, quarantine_id, run_id=run.run_id, params=run.params, by=run.dag_id)
        except Exception as exc:  # one partner's failure must not hold up the other rows
            run.record(subject(quarantine_id), "quarantine", "replay_failed", f"{type(exc).__name__}: {exc}")
            failed.append(f"#{quarantine_id}")
            continue
        counts[result.outcome.value] += 1
    if failed:
        raise ReplayFailed(f"replaying {', '.join(failed)} failed at a partner; retried")
    return dict(counts)
