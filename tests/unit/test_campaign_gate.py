"""The campaign release's rights gate (contentops.pipelines.campaign.decide), without any system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from contentops import rights
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset, LicensePurchaseTransaction
from contentops.pipelines.campaign import (
    ApprovalRouting,
    CampaignReleaseSettings,
    ClientWorkflows,
    DeliverableSettings,
    ReleasePlan,
    TargetMap,
    VipSettings,
    decide,
    decide_deliverable,
    usage_review_key,
)
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 25, 4, tzinfo=UTC)
TARGETS = TargetMap(
    kit="kit-x",
    communities={"emea": "community-emea", "dach": "community-dach"},
    partners={},
)


SETTINGS = CampaignReleaseSettings(vip=VipSettings(campaign_items={"x": ["ITM-1"]}))


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
    """The clearances by the ledger's text of their target (what the audit trail records)."""
    return {str(c.target): c for c in clearances}


def test_a_worldwide_license_clears_every_target_in_every_region() -> None:
    gate = _by_target(decide(_asset(), _rights(2), _plan(), TARGETS, SETTINGS))
    assert set(gate) == {
        "vip:ITM-1",
        "trading_grid:community-emea",
        "trading_grid:community-dach",
        "exstream:retail",
    }
    assert all(c.allowed and not c.refused for c in gate.values())
    assert gate["vip:ITM-1"].regions == ("emea", "dach")


def test_a_europe_only_license_clears_dach_but_not_emea_with_the_reason() -> None:
    gate = _by_target(decide(_asset(), _rights(1), _plan(), TARGETS, SETTINGS))
    assert gate["vip:ITM-1"].regions == ("dach",)
    assert "emea" in gate["vip:ITM-1"].refused and "region" in gate["vip:ITM-1"].refused["emea"]
    assert gate["trading_grid:community-dach"].allowed and not gate["trading_grid:community-emea"].allowed
    assert not gate["exstream:retail"].allowed  # online only: not for printed correspondence


def test_the_release_date_decides_not_today() -> None:
    soon = _rights(0)  # ends in 7 days
    assert all(c.allowed for c in decide(_asset(), soon, _plan(), TARGETS, SETTINGS))
    later = decide(_asset(), soon, _plan(on=NOW + timedelta(days=10)), TARGETS, SETTINGS)
    assert not any(c.allowed for c in later)


def test_unknown_or_missing_rights_are_never_cleared() -> None:
    assert not any(c.allowed for c in decide(_asset(), _rights(8), _plan(), TARGETS, SETTINGS))
    missing = decide(_asset(), None, _plan(), TARGETS, SETTINGS)
    assert not any(c.allowed for c in missing)
    assert "license index" in missing[0].refused["emea"]


def test_a_regulated_domain_needs_the_compliance_criteria() -> None:
    plan = _plan(domains=("retail", "insurance"))
    visual = _by_target(decide(_asset(categories=["campaign_visual"]), _rights(2), plan, TARGETS, SETTINGS))
    assert visual["exstream:retail"].allowed and not visual["exstream:insurance"].allowed
    assert "compliance" in visual["exstream:insurance"].refused
    disclosure = _asset(categories=["disclosure_graphic"], compliance_status="compliant")
    cleared = _by_target(decide(disclosure, _rights(2), plan, TARGETS, SETTINGS))
    assert cleared["exstream:insurance"].allowed


def test_an_agency_client_gets_its_own_approval_model() -> None:
    routing = ApprovalRouting(clients={"northwind": "client_approval_northwind"})
    assert routing.workflow_for("northwind") == "client_approval_northwind"
    assert routing.workflow_for("someone-else") == routing.workflow_for(None) == "asset_approval"


def test_an_agency_client_gets_its_own_usage_review_and_escalation_models() -> None:
    routing = ApprovalRouting.model_validate(
        {
            "clients": {
                "northwind": {
                    "approval": "client_approval_northwind",
                    "usage_review": "client_usage_review_northwind",
                    "escalation": "client_escalation_northwind",
                    "escalate_after_hours": 24,
                },
                "contoso": "client_approval_contoso",  # an approval model alone
            }
        }
    )
    assert routing.workflow_for("northwind") == "client_approval_northwind"
    assert routing.usage_review_for("northwind") == "client_usage_review_northwind"
    assert routing.workflow_for("contoso") == "client_approval_contoso"
    assert routing.usage_review_for("contoso") is None and routing.usage_review_for(None) is None
    contoso = routing.client("contoso")
    assert contoso is not None and not contoso.escalation_due(NOW - timedelta(days=30), NOW)


def test_escalation_is_due_by_the_run_window_not_the_wall_clock() -> None:
    client = ClientWorkflows(approval="a", escalation="e", escalate_after_hours=48)
    started = datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert not client.escalation_due(started, started + timedelta(hours=47))  # a backfill of that day
    assert client.escalation_due(started, started + timedelta(hours=48))
    assert not client.escalation_due(None, NOW)  # an instance that does not say when it started
    with pytest.raises(ValidationError):
        ClientWorkflows(approval="a", escalate_after_hours=0)
    with pytest.raises(ValidationError):
        CampaignReleaseSettings.model_validate({"approval": {"clients": {"x": {"approval": "a", "sla": 1}}}})


def test_restrictions_a_client_signs_off() -> None:
    assert "editorial" in " ".join(rights.sign_off_restrictions(_rights(10)))
    assert "social_media" in " ".join(rights.sign_off_restrictions(_rights(5)))  # one channel only
    assert rights.sign_off_restrictions(_rights(2)) == ()  # worldwide, any channel
    restricted = _rights(2).model_copy(
        update={"terms": [t.model_copy(update={"restricted_usages": ["no_derivatives"]}) for t in _rights(2).terms]}
    )
    assert "no_derivatives" in " ".join(rights.sign_off_restrictions(restricted))
    a, b = usage_review_key("m", "a-1", ["x", "y"]), usage_review_key("m", "a-1", ["y", "x"])
    assert a == b != usage_review_key("m", "a-1", ["x"])  # the same restrictions, the same review


def test_a_final_deliverable_inherits_every_masters_rights_as_a_derivative() -> None:
    plan = _plan()
    both = decide_deliverable({"m-1": _rights(2), "m-2": _rights(1)}, plan, "ITM-1", "online")
    assert str(both.target) == "vip:ITM-1"
    assert both.regions == ("dach",) and "m-2" in both.refused["emea"]  # the europe-only master decides
    editorial = decide_deliverable({"m-1": _rights(10)}, plan, "ITM-1", "online")
    assert not editorial.allowed and "derivative" in editorial.refused["emea"]
    assert not decide_deliverable({"m-1": None}, plan, "ITM-1", "online").allowed
    assert not decide_deliverable({}, plan, "ITM-1", "online").allowed  # no master named


def test_final_deliverables_are_recognised_by_tag_with_their_masters_and_agency() -> None:
    settings = DeliverableSettings()
    deliverable = _asset(
        tags=["deliverable:final"],
        master_asset_id="m-1",
        metadata={"agency": "Bluefin", "master_asset_ids": ["m-2", "m-1"]},
    )
    assert settings.is_deliverable(deliverable) and not settings.is_deliverable(_asset(master_asset_id="m-1"))
    assert settings.masters_of(deliverable) == ["m-1", "m-2"]
    assert settings.agency_of(deliverable) == "Bluefin" and settings.agency_of(_asset()) is None


def test_vip_targets_are_the_catalog_items_an_asset_shows() -> None:
    named = _asset(metadata={"vip_items": ["ITM-7", "ITM-8", "ITM-7"]})
    assert SETTINGS.vip.items_of(named, "x") == ["ITM-7", "ITM-8"]  # its own metadata first
    assert SETTINGS.vip.items_of(_asset(metadata={"vip_items": "ITM-9"}), "x") == ["ITM-9"]
    assert SETTINGS.vip.items_of(_asset(), "x") == ["ITM-1"]  # else its campaign's
    gate = _by_target(decide(named, _rights(2), _plan(), TARGETS, SETTINGS))
    assert {t for t in gate if t.startswith("vip")} == {"vip:ITM-7", "vip:ITM-8"}
    # an asset showing no known item is refused for VIP with the reason, the other targets go on
    elsewhere = _plan().model_copy(update={"campaign": "y"})
    gate = _by_target(decide(_asset(), _rights(2), elsewhere, TARGETS, SETTINGS))
    assert not gate["vip"].allowed and "no VIP catalog item" in gate["vip"].refused["item"]
    assert gate["exstream:retail"].allowed
