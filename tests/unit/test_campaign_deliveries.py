"""Each target system of a campaign release has exactly one delivery class, found by its system."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from contentops.pipelines.campaign import (
    DELIVERIES,
    TARGETS,
    CampaignReleaseSettings,
    ExstreamDelivery,
    TargetDelivery,
    TradingGridDelivery,
    VipDelivery,
    delivery_for,
    license_summary,
)
from contentops.targets import TargetSystem

pytestmark = pytest.mark.unit

RUN = SimpleNamespace(dry_run=False)  # the classes keep the run; nothing here calls a system


def test_every_release_target_has_its_own_delivery_class() -> None:
    assert set(DELIVERIES) == set(TARGETS)
    assert DELIVERIES[TargetSystem.VIP] is VipDelivery
    assert DELIVERIES[TargetSystem.TRADING_GRID] is TradingGridDelivery
    assert DELIVERIES[TargetSystem.EXSTREAM] is ExstreamDelivery
    for system, cls in DELIVERIES.items():
        assert issubclass(cls, TargetDelivery) and cls.system == system


def test_a_system_nobody_delivers_to_is_refused_by_name() -> None:
    settings = CampaignReleaseSettings()
    assert isinstance(delivery_for("exstream", RUN, settings), ExstreamDelivery)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no campaign delivery to 'consonance'"):
        delivery_for("consonance", RUN, settings)  # type: ignore[arg-type]


def test_only_trading_grid_has_containers_to_open() -> None:
    settings = CampaignReleaseSettings()
    assert not delivery_for("vip", RUN, settings).ensure_containers({})  # type: ignore[arg-type]
    assert not delivery_for("exstream", RUN, settings).ensure_containers({})  # type: ignore[arg-type]
    assert TradingGridDelivery.ensure_containers is not TargetDelivery.ensure_containers


def test_the_license_summary_says_where_how_and_until_when() -> None:
    assert license_summary(None, "online", ["emea"]) == "no license on record"
    usage = SimpleNamespace(provider="Getty Images", license_purchase_transaction_uuid="lpt-1", terms=[])
    summary = license_summary(usage, "online", ["emea", "dach"])  # type: ignore[arg-type]
    assert summary == "Getty Images license lpt-1: online in emea, dach; no end date"
    assert license_summary(usage, None, ["apac"]).startswith("Getty Images license lpt-1: any channel in apac")  # type: ignore[arg-type]
