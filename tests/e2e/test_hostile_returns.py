"""Hostile and poison returns in a batch: each is quarantined with its reference, the rest of the
batch is processed, and later runs are not blocked (localization_return_loop, dag.test())."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.test_localization_return_loop import (  # noqa: F401 - fixtures used by name
    PNG,
    _next_slot,
    _quarantine_reasons,
    _run,
    _submissions,
    elsewhere,
    env,
    grid_submission,
)

from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e


def _variants(sandboxes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["metadata"]["localization_return"]: a
        for a in sandboxes["smintio"].context.store.all("asset")
        if a.get("master_asset_id") and "localization_return" in a.get("metadata", {})
    }


def test_bad_master_ids_and_a_gone_file_are_quarantined_while_the_rest_is_processed(
    airflow_db: Path,
    env: dict[str, Any],  # noqa: F811
) -> None:
    env["workflow"].admin(
        "PUT", "workflow/auto-complete", json={"regional_localization_review": {"outcome": "approved"}}
    )
    bad = {
        "empty_master": grid_submission(env, PNG, masterAssetId=""),
        "dot_master": grid_submission(env, PNG, masterAssetId="."),
        "blank_region": grid_submission(env, PNG, region="   ", language=None),
        "double_extension": grid_submission(env, PNG, file={"name": "fr.png.exe", "contentType": "image/png"}),
        "stream": grid_submission(env, PNG, file={"name": "fr.png:evil.exe", "contentType": "image/png"}),
        "lookalike_slash": grid_submission(env, PNG, file={"name": "..\u2215fr.png", "contentType": "image/png"}),
    }
    gone = grid_submission(env, PNG)
    assert env["grid"].context.store.delete("submission_file", gone)  # the file is gone: its download is a 404
    good = grid_submission(env, PNG)

    slot = _next_slot()
    run = _run(slot)  # success: nothing in the batch fails the run
    ledger: Ledger = env["ledger"]
    reasons = _quarantine_reasons(ledger)
    submissions = _submissions(env)
    expected = {
        "empty_master": "invalid_master_id",
        "dot_master": "invalid_master_id",
        "blank_region": "invalid_locale",
        "double_extension": "unsafe_file_name",
        "stream": "unsafe_file_name",
        "lookalike_slash": "unsafe_file_name",
    }
    for case, submission_id in bad.items():
        assert reasons[f"trading_grid:{submission_id}"].startswith(expected[case]), case
        assert submissions[submission_id]["status"] == "quarantined", case
    # the poison return: quarantined with its reference, its partner told, the run went on
    assert reasons[f"trading_grid:{gone}"].startswith("file_not_found")
    assert submissions[gone]["status"] == "rejected" and "gone" in submissions[gone]["replies"][-1]["message"]
    # the good one went all the way: variant, review, decision applied, partner answered
    variants = _variants(env)
    assert set(variants) == {f"trading_grid:{good}"}
    assert variants[f"trading_grid:{good}"]["approval_status"] == "approved"
    assert submissions[good]["status"] == "accepted"
    tasks = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert tasks["sync_reviews"] == tasks["apply_reviews"] == tasks["report"] == "success"
    assert ledger.run_summary("localization_return_loop", run.run_id)

    # the next run is not blocked by any of them, and quarantines nothing twice
    quarantined = len(ledger.quarantined())
    _run(slot + timedelta(minutes=15))
    assert len(ledger.quarantined()) == quarantined
