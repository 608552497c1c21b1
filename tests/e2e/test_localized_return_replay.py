"""Replaying a quarantined localized return (localization_return_loop + quarantine_replay with
dag.test(), against the Smint.io, VIP, Workflow, Trading Grid and Exstream sandboxes).

A regional team attaches a return VIP serves without the media it was made from: the loop
quarantines it and tells the team. The team "fixes" it into a return of an editorial-only master:
the replay refuses it again, and the same row stays open with the new reason. Fixed for real and
replayed as the Quarantine page does it (a request, then a quarantine_replay run), it is taken in
once: one Smint.io variant, one regional review, the team told it is in review; the loop's next
run applies the review and delivers the variant back once; a second replay changes nothing.
A Trading Grid submission whose file was gone is replayed the same way once its file is back.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e.project_dags import load_dag
from e2e.test_localization_return_loop import (  # noqa: F401 - fixtures used by name
    EDITORIAL_MASTER,
    GOOD_MASTER,
    ITEM,
    PNG,
    _next_slot,
    _partner_writes,
    _returns,
    _run,
    _submissions,
    elsewhere,
    env,
    grid_submission,
    vip_return,
)

from contentops import quarantine
from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e


def _replay(ledger: Ledger, **conf: Any) -> list[str]:
    """One quarantine_replay run (the DAG the Quarantine page triggers); the outcomes it recorded."""
    run = load_dag("quarantine_replay").test(run_conf=conf)
    assert run.state == "success"
    return [e.action for e in ledger.audit_trail(run_id=run.run_id) if e.pipeline == quarantine.REPLAY_DAG_ID]


def _variants(sandboxes: dict[str, Any], ref: str) -> list[dict[str, Any]]:
    return [
        a
        for a in sandboxes["smintio"].context.store.all("asset")
        if a.get("metadata", {}).get("localization_return") == ref
    ]


def _edit_return(sandboxes: dict[str, Any], return_id: str, **fields: Any) -> None:
    """The regional team changes its return in VIP."""
    store = sandboxes["vip"].context.store
    store.put("return", return_id, {**store.get("return", return_id), **fields})


def test_a_fixed_localized_return_replayed_from_the_quarantine_is_taken_in_once(
    airflow_db: Path,
    env: dict[str, Any],  # noqa: F811
) -> None:
    env["workflow"].admin(
        "PUT", "workflow/auto-complete", json={"regional_localization_review": {"outcome": "approved"}}
    )
    ledger: Ledger = env["ledger"]
    return_id = vip_return(env, PNG, source_media_ref=None)  # VIP serves it without its master
    ref = f"vip:{return_id}"
    slot = _next_slot()
    _run(slot)
    (row,) = [q for q in ledger.quarantined() if q.ref == ref]
    assert row.kind == "localized_return" and "source_media_ref" in row.reason
    assert _returns(env)[return_id]["review_status"] == "quarantined"
    assert quarantine.replayer_for(row) is not None  # the page offers Replay for it

    # fixed into another bad return: refused again, the same row stays open with the new reason
    _edit_return(env, return_id, source_media_ref=EDITORIAL_MASTER)
    assert _replay(ledger, quarantine_ids=[row.id]) == ["replay_still_invalid"]
    (again,) = ledger.quarantined()
    assert again.id == row.id and again.resolved_at is None
    assert again.reason.startswith("derivative_not_allowed") and "source_media_ref" not in again.reason
    assert _variants(env, ref) == []
    assert _returns(env)[return_id]["review_status"] == "rejected"  # its sender told why

    # fixed for real; replayed as the Quarantine page does it: a request, then a replay run
    _edit_return(env, return_id, source_media_ref=GOOD_MASTER)
    quarantine.request_replay(ledger, row.id, by="admin")
    assert _replay(ledger) == ["replay_taken_in"]
    assert ledger.quarantined() == []
    (variant,) = _variants(env, ref)
    assert variant["master_asset_id"] == GOOD_MASTER
    reviews = [
        i
        for i in env["workflow"].context.store.all("instance")
        if i["processDefinitionKey"] == "regional_localization_review"
    ]
    assert [i["variables"]["asset_id"] for i in reviews] == [variant["id"]]
    assert _returns(env)[return_id]["review_status"] == "in_review"

    # exactly once: a second replay writes nothing
    writes = _partner_writes(env)
    assert _replay(ledger, quarantine_ids=[row.id]) == ["replay_already_resolved"]
    assert _partner_writes(env) == writes

    # the loop's next run applies the review: the variant goes back to the team's item, once
    _run(slot + timedelta(minutes=15))
    (variant,) = _variants(env, ref)
    assert variant["approval_status"] == "approved"
    media = [m for m in env["vip"].context.store.all("media") if m["asset_id"] == variant["id"]]
    assert [m["item_id"] for m in media] == [ITEM]
    assert _returns(env)[return_id]["review_status"] == "accepted"
    outcomes = [e.action for e in ledger.audit_trail(subject=quarantine.subject(row.id))]
    assert outcomes == ["replay_still_invalid", "replay_requested", "replay_taken_in", "replay_already_resolved"]


def test_a_trading_grid_submission_whose_file_came_back_is_taken_in_by_a_replay(
    airflow_db: Path,
    env: dict[str, Any],  # noqa: F811
) -> None:
    ledger: Ledger = env["ledger"]
    submission = grid_submission(env, PNG)
    assert env["grid"].context.store.delete("submission_file", submission)  # its download is a 404
    ref = f"trading_grid:{submission}"
    _run(_next_slot())
    (row,) = ledger.quarantined()
    assert row.ref == ref and row.reason.startswith("file_not_found")
    assert _submissions(env)[submission]["status"] == "rejected"

    # the file is still gone: the same row stays open, nothing is uploaded
    assert _replay(ledger, quarantine_ids=[row.id]) == ["replay_still_invalid"]
    assert [q.id for q in ledger.quarantined()] == [row.id]
    assert _variants(env, ref) == []

    # the partner puts the file back: the replay takes the submission in, once
    requests.put(
        f"{env['grid'].url}/_sandbox/trading_grid/submissions/{submission}/file",
        data=PNG,
        headers={"Content-Type": "image/png"},
        timeout=10,
    ).raise_for_status()
    assert _replay(ledger, quarantine_ids=[row.id]) == ["replay_taken_in"]
    assert ledger.quarantined() == []
    (variant,) = _variants(env, ref)
    assert variant["master_asset_id"] == GOOD_MASTER and variant["language"] == "fr"
    assert _submissions(env)[submission]["status"] == "in_review"
    writes = _partner_writes(env)
    assert _replay(ledger, quarantine_ids=[row.id]) == ["replay_already_resolved"]
    assert _partner_writes(env) == writes
