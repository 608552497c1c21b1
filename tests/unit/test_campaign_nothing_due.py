"""When may a campaign_release run skip its stages? (contentops.pipelines.campaign.nothing_due)

On a throwaway SQLite ledger; the partner reads (the campaign's listing, the Trading Grid map,
Exstream's embargoed images) and the rights decision are stood in for, so each condition is
checked alone: only a release recorded complete, whose approved assets' cleared targets all hold
their version, with nothing pending, is "nothing due" — anything else runs every stage.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contentops.ledger import Ledger
from contentops.models.smintio import Asset
from contentops.pipelines.campaign import (
    PLANNED,
    RELEASED,
    CampaignReleaseSettings,
    Clearance,
    ReleasePlan,
    TargetMap,
    nothing_due,
)
from contentops.pipelines.campaign.plan import campaign_subject
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow
from contentops.targets import Target, TargetSystem

pytestmark = pytest.mark.unit

END = datetime(2026, 11, 25, 4, tzinfo=UTC)
LAUNCH = END - timedelta(hours=1)
PLAN = ReleasePlan(
    campaign="x",
    release_date=LAUNCH,
    on_date=END,
    targets=("vip", "exstream"),
    regions=("emea",),
    exstream_domains=("retail",),
)
TARGETS = [Target.parse("vip:ITM-1"), Target.parse("exstream:retail")]
#: the module (the package exports the function under the same name)
ND = importlib.import_module("contentops.pipelines.campaign.nothing_due")


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    found = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    found.migrate()
    return found


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the partners would answer: the campaign's assets, no embargo due; every asset cleared
    for both targets."""
    state: dict[str, Any] = {"assets": [_asset("a-1"), _asset("a-2")], "embargoes": []}

    def assets(_run: PipelineRun, _campaign: str) -> Iterator[Asset]:
        yield from state["assets"]

    monkeypatch.setattr(ND, "campaign_assets", assets)
    monkeypatch.setattr(ND, "target_map", lambda *_: TargetMap(kit="kit-x", communities={}, partners={}))
    monkeypatch.setattr(ND, "usage_rights", lambda *_: None)
    monkeypatch.setattr(ND, "decide", lambda *_: [Clearance(t, ("emea",)) for t in TARGETS])
    monkeypatch.setattr(ND, "embargoes_due", lambda _run, _domains: iter(state["embargoes"]))
    return state


def _asset(asset_id: str, status: str = "approved", version: int = 1) -> Asset:
    return Asset.model_validate({"id": asset_id, "approval_status": status, "version": version})


def _run(ledger: Ledger, run_id: str, **params: object) -> PipelineRun:
    return PipelineRun("campaign_release", run_id, RunWindow(END - timedelta(days=1), END), params, ledger=ledger)


def _released_earlier(ledger: Ledger, targets: tuple[str, ...] = PLAN.targets) -> None:
    """A previous run delivered both assets everywhere and recorded the release complete."""
    earlier = _run(ledger, "r-0")
    for asset in ("a-1", "a-2"):
        for target in TARGETS:
            earlier.deliver_once(asset, 1, target, lambda _plan, a=asset: f"remote-{a}")
    earlier.record(
        campaign_subject("x"),
        TargetSystem.CAMPAIGN,
        RELEASED,
        "released",
        release_date=LAUNCH.isoformat(),
        targets=list(targets),
    )


def _planned(ledger: Ledger, **params: object) -> PipelineRun:
    run = _run(ledger, "r-1", **params)
    run.record(campaign_subject("x"), TargetSystem.CAMPAIGN, PLANNED, "planned", plan=PLAN.details())
    return run


def test_a_released_campaign_held_everywhere_with_nothing_pending_is_nothing_due(
    ledger: Ledger, world: dict[str, Any]
) -> None:
    _released_earlier(ledger)
    world["assets"].append(_asset("a-3", "rejected"))  # settled: never goes out
    found = nothing_due(_planned(ledger), CampaignReleaseSettings())
    assert found == {"x": {"assets": 3, "held": 2, "settled": 1}}


def test_not_recorded_released_for_these_targets_runs_every_stage(ledger: Ledger, world: dict[str, Any]) -> None:
    _released_earlier(ledger, targets=("vip",))  # released to VIP alone: Exstream still to decide
    assert nothing_due(_planned(ledger), CampaignReleaseSettings()) is None


def test_a_new_version_or_asset_runs_every_stage(ledger: Ledger, world: dict[str, Any]) -> None:
    _released_earlier(ledger)
    world["assets"][1] = _asset("a-2", version=2)
    assert nothing_due(_planned(ledger), CampaignReleaseSettings()) is None
    world["assets"][1] = _asset("a-2")
    world["assets"].append(_asset("a-4"))  # added to the campaign since the release
    assert nothing_due(_planned(ledger), CampaignReleaseSettings()) is None


def test_an_asset_waiting_for_approval_runs_every_stage(ledger: Ledger, world: dict[str, Any]) -> None:
    _released_earlier(ledger)
    world["assets"].append(_asset("a-5", "in_review"))
    assert nothing_due(_planned(ledger), CampaignReleaseSettings()) is None


def test_a_failed_delivery_runs_every_stage(ledger: Ledger, world: dict[str, Any]) -> None:
    _released_earlier(ledger)
    world["assets"].append(_asset("a-6"))
    earlier = _run(ledger, "r-0")
    earlier.deliver_once("a-6", 1, TARGETS[0], lambda _plan: "remote-a-6")

    def down(_plan: Any) -> str:
        raise RuntimeError("exstream down")

    with pytest.raises(RuntimeError):
        earlier.deliver_once("a-6", 1, TARGETS[1], down)
    assert nothing_due(_planned(ledger), CampaignReleaseSettings()) is None


def test_an_embargo_come_due_runs_every_stage(ledger: Ledger, world: dict[str, Any]) -> None:
    _released_earlier(ledger)
    world["embargoes"].append(("retail", object(), {}, END))  # finalize has an image to approve
    assert nothing_due(_planned(ledger), CampaignReleaseSettings()) is None


def test_a_dry_run_runs_every_stage(ledger: Ledger, world: dict[str, Any]) -> None:
    _released_earlier(ledger)
    assert nothing_due(_planned(ledger, dry_run=True), CampaignReleaseSettings()) is None


def test_a_scheduled_run_with_nothing_planned_is_nothing_due_unless_an_embargo_is(
    ledger: Ledger, world: dict[str, Any]
) -> None:
    run = _run(ledger, "r-2", exstream_domains=["retail"])
    assert nothing_due(run, CampaignReleaseSettings()) == {}
    world["embargoes"].append(("retail", object(), {}, END))
    assert nothing_due(run, CampaignReleaseSettings()) is None


def test_the_plan_skips_only_tasks_downstream_of_it_and_says_so_first(ledger: Ledger) -> None:
    from airflow.sdk import DAG

    from contentops.operators.campaign import CampaignCollectOperator, CampaignPlanOperator

    with DAG("skips", schedule=None, start_date=END):
        plan = CampaignPlanOperator(task_id="plan", skip_when_nothing_due=["collect", "report"])
        plan >> CampaignCollectOperator(task_id="collect")
    run = _planned(ledger)
    with pytest.raises(ValueError, match=r"\['report'\]"):
        plan._skip_the_rest({}, run, {"x": {"assets": 1, "held": 1}}, {"campaigns": ["x"], "count": 1})  # type: ignore[arg-type]
    assert [e for e in ledger.audit_trail(run_id="r-1") if e.action == "nothing_due"] == []
