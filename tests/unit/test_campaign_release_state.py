"""When is a campaign release complete? (contentops.pipelines.campaign.mark_released / released)

On a throwaway SQLite ledger, without any partner system: the ledger's clearances and deliveries
decide whether a release is recorded as complete, and the record counts only for its release
date and targets — what a run selecting by date (X-1) relies on to leave a campaign alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contentops.ledger import Ledger
from contentops.models.smintio import Asset
from contentops.pipelines.campaign import CLEARED, REFUSED, ReleasePlan, mark_released, released
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow

pytestmark = pytest.mark.unit

END = datetime(2026, 11, 25, 4, tzinfo=UTC)
LAUNCH = END + timedelta(days=2, hours=5)
PLAN = ReleasePlan(
    campaign="x",
    release_date=LAUNCH,
    on_date=LAUNCH,
    targets=("vip", "exstream"),
    regions=("emea",),
    embargo_until=LAUNCH,
)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    found = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    found.migrate()
    return found


def _run(ledger: Ledger, run_id: str = "r-1", **params: object) -> PipelineRun:
    return PipelineRun("campaign_release", run_id, RunWindow(END - timedelta(days=1), END), params, ledger=ledger)


def _asset(asset_id: str, status: str = "approved") -> Asset:
    return Asset.model_validate({"id": asset_id, "approval_status": status, "version": 1})


def _cleared(run: PipelineRun, asset_id: str, target: str) -> None:
    run.record(asset_id, target, CLEARED, "cleared for emea", campaign="x", asset_version=1, regions=["emea"])


def _deliver(run: PipelineRun, asset_id: str, target: str) -> None:
    run.deliver_once(asset_id, 1, target, lambda _plan: f"remote-{asset_id}")


def test_a_release_is_complete_only_when_every_clearance_is_delivered(ledger: Ledger) -> None:
    run = _run(ledger)
    assets = [_asset("a-1"), _asset("a-2"), _asset("a-3", "rejected")]  # a rejected asset never goes out
    for asset_id in ("a-1", "a-2"):
        _cleared(run, asset_id, "vip:ITM-1")
        _cleared(run, asset_id, "exstream:retail")
    _deliver(run, "a-1", "vip:ITM-1")
    _deliver(run, "a-1", "exstream:retail")
    _deliver(run, "a-2", "vip:ITM-1")
    assert not mark_released(run, PLAN, assets)  # a-2 has not reached Exstream yet
    assert not released(run, "x", LAUNCH, PLAN.targets)

    _deliver(run, "a-2", "exstream:retail")
    assert mark_released(run, PLAN, assets)
    assert released(run, "x", LAUNCH, ["vip", "exstream"])
    assert not released(run, "x", LAUNCH, ["vip", "exstream", "trading_grid"])  # not released there
    assert not released(run, "x", LAUNCH + timedelta(days=7), ["vip"])  # moved to another date: due again
    entry = [e for e in ledger.audit_trail(subject="campaign:x") if e.action == "released"]
    assert len(entry) == 1 and (entry[0].details or {})["targets"] == ["vip", "exstream"]


def test_an_open_approval_or_an_asset_the_gate_never_saw_keeps_the_release_due(ledger: Ledger) -> None:
    run = _run(ledger)
    _cleared(run, "a-1", "vip:ITM-1")
    _deliver(run, "a-1", "vip:ITM-1")
    assert not mark_released(run, PLAN, [_asset("a-1"), _asset("a-2", "in_review")])  # still under approval
    assert not mark_released(run, PLAN, [_asset("a-1"), _asset("a-3")])  # a-3 approved, not gated by this run
    # refused everywhere by the rights gate (with its reason) is settled: nothing left to send
    run.record("a-3", "vip:ITM-1", REFUSED, "emea: license expired", campaign="x", region="emea")
    assert mark_released(run, PLAN, [_asset("a-1"), _asset("a-3")])


def test_a_dry_run_records_no_release(ledger: Ledger) -> None:
    run = _run(ledger, dry_run=True)
    _cleared(run, "a-1", "vip:ITM-1")
    _deliver(_run(ledger, "r-0"), "a-1", "vip:ITM-1")
    assert not mark_released(run, PLAN, [_asset("a-1")])
    assert not released(run, "x", LAUNCH, ["vip"])
