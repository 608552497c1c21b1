"""The campaign release's rights gate (contentops.pipelines.campaign.decide), without any system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset, LicensePurchaseTransaction
from contentops.pipelines.campaign import (
    ApprovalRouting,
    CampaignReleaseSettings,
    ReleasePlan,
    TargetMap,
    decide,
)
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 25, 4, tzinfo=UTC)
TARGETS = TargetMap(
    package="campaign-x",
    kit="kit-x",
    communities={"emea": "community-emea", "dach": "community-dach"},
    partners={},
)


def _rights(kind: int) -> UsageRights:
    """The rights of a seeded license of the given situation (see the Smint.io seed table)."""
    return UsageRights.from_lpt(LicensePurchaseTransaction.model_validate(seed.make_lpt(kind, NOW)))


def _asset(**fields: object) -> Asset:
    return Asset.model_validate({"id": "a-1", "approval_status": "approved", **fields})


def _plan(
    *, regions: tuple[str, ...] = ("emea", "dach"), on: datetime = NOW, domains: tuple[str, ...] = ("retail",)
) -> ReleasePlan:
    return ReleasePlan(
        campaign="x",
        release_date=on,
        on_date=on,
        targets=("vip", "trading_grid", "exstream"),
        regions=regions,
        exstream_domains=domains,
    )


def _by_target(clearances: list) -> dict[str, object]:
    return {c.target: c for c in clearances}


def test_a_worldwide_license_clears_every_target_in_every_region() -> None:
    gate = _by_target(decide(_asset(), _rights(2), _plan(), TARGETS, CampaignReleaseSettings()))
    assert set(gate) == {
        "vip:campaign-x",
        "trading_grid:community-emea",
        "trading_grid:community-dach",
        "exstream:retail",
    }
    assert all(c.allowed and not c.refused for c in gate.values())
    assert gate["vip:campaign-x"].regions == ("emea", "dach")


def test_a_europe_only_license_clears_dach_but_not_emea_with_the_reason() -> None:
    gate = _by_target(decide(_asset(), _rights(1), _plan(), TARGETS, CampaignReleaseSettings()))
    assert gate["vip:campaign-x"].regions == ("dach",)
    assert "emea" in gate["vip:campaign-x"].refused and "region" in gate["vip:campaign-x"].refused["emea"]
    assert gate["trading_grid:community-dach"].allowed and not gate["trading_grid:community-emea"].allowed
    assert not gate["exstream:retail"].allowed  # online only: not for printed correspondence


def test_the_release_date_decides_not_today() -> None:
    soon = _rights(0)  # ends in 7 days
    assert all(c.allowed for c in decide(_asset(), soon, _plan(), TARGETS, CampaignReleaseSettings()))
    later = decide(_asset(), soon, _plan(on=NOW + timedelta(days=10)), TARGETS, CampaignReleaseSettings())
    assert not any(c.allowed for c in later)


def test_unknown_or_missing_rights_are_never_cleared() -> None:
    assert not any(c.allowed for c in decide(_asset(), _rights(8), _plan(), TARGETS, CampaignReleaseSettings()))
    missing = decide(_asset(), None, _plan(), TARGETS, CampaignReleaseSettings())
    assert not any(c.allowed for c in missing)
    assert "license index" in missing[0].refused["emea"]


def test_a_regulated_domain_needs_the_compliance_criteria() -> None:
    plan = _plan(domains=("retail", "insurance"))
    visual = _by_target(
        decide(_asset(categories=["campaign_visual"]), _rights(2), plan, TARGETS, CampaignReleaseSettings())
    )
    assert visual["exstream:retail"].allowed and not visual["exstream:insurance"].allowed
    assert "compliance" in visual["exstream:insurance"].refused
    disclosure = _asset(categories=["disclosure_graphic"], compliance_status="compliant")
    cleared = _by_target(decide(disclosure, _rights(2), plan, TARGETS, CampaignReleaseSettings()))
    assert cleared["exstream:insurance"].allowed


def test_an_agency_client_gets_its_own_approval_model() -> None:
    routing = ApprovalRouting(clients={"northwind": "client_approval_northwind"})
    assert routing.workflow_for("northwind") == "client_approval_northwind"
    assert routing.workflow_for("someone-else") == routing.workflow_for(None) == "asset_approval"
