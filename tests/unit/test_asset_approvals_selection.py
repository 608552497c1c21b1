"""Which draft asset versions get an approval workflow, and in which model (OWS-1).

Selection is by state: every draft version whose business key has no instance in the ledger,
in the approval model of its campaign's agency client (the default model otherwise) — the same
key campaign release uses, so neither pipeline starts a second workflow for the same version.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contentops.assets import WORKFLOWS_STARTED, WORKFLOWS_STARTING, announce_started
from contentops.ledger import Ledger
from contentops.models.smintio import Asset
from contentops.pipelines.asset_approvals import (
    APPROVAL_HANDLER,
    DraftApproval,
    _started,
    approval_definitions,
    approvals_due,
)
from contentops.pipelines.campaign.settings import ApprovalRouting
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow

pytestmark = pytest.mark.unit

ROUTING = ApprovalRouting.model_validate(
    {
        "default_workflow": "asset_approval",
        "clients": {
            "northwind": {"approval": "client_approval_northwind", "usage_review": "client_usage_review_northwind"},
            "contoso": "client_approval_contoso",
        },
    }
)
NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
CLIENTS = {"spring": None, "holiday": "northwind", "brochures": "contoso", "pilot": "unknown-client"}


def _asset(asset_id: str, status: str = "draft", version: int = 1, campaign: str | None = None) -> Asset:
    return Asset.model_validate({"id": asset_id, "approval_status": status, "version": version, "campaign": campaign})


def _due(assets: list[Asset], started: set[str] | None = None) -> list[DraftApproval]:
    return approvals_due(assets, CLIENTS, ROUTING, lambda key: key in (started or set()))


def test_only_draft_versions_are_selected() -> None:
    assets = [_asset(f"a-{status}", status) for status in ("draft", "in_review", "approved", "rejected", "retired")]
    assert [d.asset_id for d in _due(assets)] == ["a-draft"]


def test_each_draft_goes_to_its_campaign_clients_model_or_the_default_one() -> None:
    due = _due(
        [
            _asset("upload"),  # no campaign
            _asset("s-1", campaign="spring"),  # a campaign without a client
            _asset("h-1", version=3, campaign="holiday"),  # northwind's own model
            _asset("b-1", campaign="brochures"),  # a client named with its approval model alone
            _asset("p-1", campaign="pilot"),  # a client without workflows of its own
            _asset("x-1", campaign="gone"),  # a campaign Smint.io no longer has
        ]
    )
    assert [d.key for d in due] == [
        "asset_approval:upload:v1",
        "asset_approval:s-1:v1",
        "client_approval_northwind:h-1:v3",
        "client_approval_contoso:b-1:v1",
        "asset_approval:p-1:v1",
        "asset_approval:x-1:v1",
    ]
    assert due[2] == DraftApproval("h-1", 3, "holiday", "northwind", "client_approval_northwind")


def test_a_started_version_is_left_alone_and_a_changed_one_is_due_again() -> None:
    started = {"asset_approval:a-1:v1", "client_approval_northwind:h-1:v2"}
    due = _due([_asset("a-1"), _asset("a-2"), _asset("h-1", version=2, campaign="holiday")], started)
    assert [d.key for d in due] == ["asset_approval:a-2:v1"]
    changed = _due([_asset("a-1", version=2)], started)  # the creative changed it: a new version
    assert [d.key for d in changed] == ["asset_approval:a-1:v2"]


def test_an_asset_listed_twice_is_selected_once() -> None:
    assert [d.key for d in _due([_asset("a-1"), _asset("a-1")])] == ["asset_approval:a-1:v1"]


def test_only_a_recorded_instance_counts_as_started_a_bare_claim_is_started_again(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    run = PipelineRun("asset_approval_intake", "r-1", RunWindow(NOW - timedelta(minutes=10), NOW), {}, ledger=ledger)
    ledger.claim_process("asset_approval:a-1:v1", "workflow", "asset_approval", run_id="crashed")
    ledger.release_claim("asset_approval:a-1:v1", run_id="crashed", error="PartnerServerError: 502")
    assert not _started(run, "asset_approval:a-1:v1")
    assert not _started(run, "asset_approval:a-2:v1")
    ledger.claim_process("asset_approval:a-2:v1", "workflow", "asset_approval", run_id="r-1")
    ledger.update_process("asset_approval:a-2:v1", instance_id="pi-1", status="running")
    assert _started(run, "asset_approval:a-2:v1")


def test_the_handler_owns_the_campaign_workflows_only() -> None:
    assert approval_definitions() == {"asset_approval", "client_approval_northwind"}  # the project's config
    for owned in ("asset_approval", "client_approval_northwind", "client_usage_review_northwind"):
        assert APPROVAL_HANDLER.owns(owned), owned
    for other in ("regional_localization_review", "rights_renewal", "dam_onboarding"):
        assert not APPROVAL_HANDLER.owns(other), other
    assert APPROVAL_HANDLER.while_open is not None


class _Events(dict):
    def __missing__(self, key: Any) -> Any:
        added: list[tuple[Any, dict[str, Any]]] = []

        class _Alias:
            def add(self, asset: Any, extra: dict[str, Any]) -> None:
                added.append((asset, extra))

        alias = _Alias()
        alias.added = added  # type: ignore[attr-defined]
        self[key] = alias
        return alias


def test_the_started_asset_is_announced_only_when_something_started() -> None:
    events = _Events()
    assert not announce_started(events, 0, dry_run=False)
    assert not announce_started(events, 2, dry_run=True)
    assert announce_started(events, 2, dry_run=False)
    assert events[WORKFLOWS_STARTING].added == [(WORKFLOWS_STARTED, {"open": 2})]
