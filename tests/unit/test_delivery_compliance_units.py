"""delivery_compliance's rules without the partners: which copy may stay (pure), and that one
failing partner write neither stops the other copies nor lets the run pass."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from contentops import rights
from contentops.ledger import Ledger
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset, LicensePurchaseTransaction
from contentops.models.vip import ItemMedia
from contentops.pipelines import delivery_compliance
from contentops.pipelines.licenses import license_row
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
#: the seed's license kinds: 0 = worldwide, online + print, ends in 7 days; 1 = europe, online,
#: 30 days; 3 = ended 10 days ago; 9 = worldwide, any channel, perpetual
ENDING, EUROPE, ENDED, PERPETUAL = 0, 1, 3, 9


def _lpt(index: int) -> LicensePurchaseTransaction:
    return LicensePurchaseTransaction.model_validate(seed.make_lpt(index, NOW))


def _usage(index: int) -> UsageRights:
    return UsageRights.from_lpt(_lpt(index))


def _asset(status: str = "approved", license_index: int = PERPETUAL) -> Asset:
    (raw,) = [
        a for a in seed.make_assets(NOW, [seed.stable_uuid("lpt", license_index)]) if a["id"] == "asset-spring-01"
    ]
    return Asset.model_validate({**raw, "approval_status": status})


def _end_of(day: datetime) -> datetime:
    return datetime.combine(day.date(), time.max, tzinfo=UTC)


def test_an_approved_and_licensed_copy_stays() -> None:
    standing = rights.copy_standing(
        _asset(), _usage(PERPETUAL), on_date=_end_of(NOW), channel="online", regions=["emea", "apac"]
    )
    assert standing.outcome == "keep" and standing.keep and standing.regions == ("emea", "apac")


@pytest.mark.parametrize("status", ["retired", "in_review", "rejected", "draft"])
def test_a_copy_of_an_asset_no_longer_approved_is_taken_back(status: str) -> None:
    standing = rights.copy_standing(
        _asset(status), _usage(PERPETUAL), on_date=_end_of(NOW), channel=None, regions=[None]
    )
    assert standing.outcome == "withdrawn" and standing.cause == "approval" and status in standing.reason


def test_a_copy_without_a_known_license_is_taken_back() -> None:
    standing = rights.copy_standing(_asset(), None, on_date=_end_of(NOW), channel=None, regions=[None], no_license="x")
    assert (standing.outcome, standing.cause, standing.reason) == ("withdrawn", "rights", "x")


def test_expiry_takes_a_copy_back_on_its_expiry_day_not_the_day_after() -> None:
    usage = _usage(ENDING)
    expiry = rights.expiry(usage)
    assert expiry is not None
    day_before = rights.copy_standing(
        _asset(), usage, on_date=_end_of(expiry - timedelta(days=1)), channel="online", regions=["emea"]
    )
    on_the_day = rights.copy_standing(_asset(), usage, on_date=_end_of(expiry), channel="online", regions=["emea"])
    assert day_before.keep
    assert on_the_day.outcome == "expired" and on_the_day.cause == "rights"
    ended = rights.copy_standing(_asset(), _usage(ENDED), on_date=_end_of(NOW), channel="online", regions=[None])
    assert ended.outcome == "expired"


def test_a_narrowed_license_keeps_only_the_regions_it_still_covers() -> None:
    usage = _usage(EUROPE)  # europe, online
    narrowed = rights.copy_standing(_asset(), usage, on_date=_end_of(NOW), channel="online", regions=["de", "apac"])
    assert narrowed.outcome == "narrow" and narrowed.regions == ("de",) and "apac" in narrowed.reason
    outside = rights.copy_standing(_asset(), usage, on_date=_end_of(NOW), channel="online", regions=["apac"])
    assert outside.outcome == "withdrawn" and outside.cause == "rights"
    wrong_channel = rights.copy_standing(_asset(), usage, on_date=_end_of(NOW), channel="print", regions=["de"])
    assert not wrong_channel.keep


class FakeSmintio:
    def __init__(self, asset: Asset) -> None:
        self.asset = asset

    def get_asset(self, asset_id: str) -> Asset:
        return self.asset.model_copy(update={"id": asset_id})


class FakeVip:
    """VIP media on two items; withdrawing on ``broken`` fails until it is mended."""

    def __init__(self, broken: str | None) -> None:
        self.broken = broken
        self.withdrawn: list[str] = []

    def get_media(self, item_id: str, media_ref: str) -> ItemMedia:
        return ItemMedia.model_validate(
            {
                "ref": media_ref,
                "item_id": item_id,
                "asset_id": media_ref,
                "version": 1,
                "file_name": "a.png",
                "content_type": "image/png",
                "usage_controls": {"regions": ["emea"], "channels": ["online"]},
                "approval_status": "approved",
                "status": "withdrawn" if item_id in self.withdrawn else "active",
            }
        )

    def withdraw_media(self, item_id: str, media_ref: str, reason: str) -> Any:
        if item_id == self.broken:
            raise ConnectionError("VIP answered 503 three times")
        self.withdrawn.append(item_id)
        return self.get_media(item_id, media_ref)


def _run(ledger: Ledger, run_id: str, vip: FakeVip, asset: Asset) -> PipelineRun:
    run = PipelineRun("delivery_compliance", run_id, RunWindow(NOW - timedelta(hours=1), NOW), {}, ledger=ledger)
    run._hooks.update(smintio=FakeSmintio(asset), vip=vip)  # no partner here: the rules and the ledger only
    return run


def test_one_failing_partner_write_does_not_stop_the_others_and_fails_the_run(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_compliance, "_channels", lambda: {"vip": "online"})
    ledger.upsert_licenses([license_row(_lpt(PERPETUAL))])
    for item in ("ITM-1", "ITM-2"):
        plan = ledger.plan("campaign_release", "asset-x", 1, f"vip:{item}")
        ledger.begin(plan)
        ledger.complete(plan.key, "asset-x")
    retired = _asset("retired")
    vip = FakeVip(broken="ITM-1")
    with pytest.raises(delivery_compliance.ComplianceRunFailed, match="asset-x on vip:ITM-1"):
        delivery_compliance.enforce(_run(ledger, "run-1", vip, retired))
    assert vip.withdrawn == ["ITM-2"]  # the other copy was taken back all the same
    slots = {d.target: d.status for d in ledger.where_did_it_go("asset-x")}
    assert slots == {"vip:ITM-1": "delivered", "vip:ITM-2": "withdrawn"}
    errors = [e for e in ledger.audit_trail(run_id="run-1") if e.action == "error"]
    assert [(e.details or {}).get("target") for e in errors] == ["vip:ITM-1"]
    assert {h.target for h in ledger.holds(asset_id="asset-x")} == {"vip:ITM-1", "vip:ITM-2"}

    vip.broken = None  # the next run finishes what is left, and repeats nothing
    counts = delivery_compliance.enforce(_run(ledger, "run-2", vip, retired))
    assert vip.withdrawn == ["ITM-2", "ITM-1"] and counts.get("vip_withdrawn") == 1
    assert {d.status for d in ledger.where_did_it_go("asset-x")} == {"withdrawn"}
    assert delivery_compliance.enforce(_run(ledger, "run-3", vip, retired)) == {}


class FakeSmintioAssets:
    def __init__(self, *assets: Asset) -> None:
        self.assets = {a.id: a for a in assets}

    def get_asset(self, asset_id: str) -> Asset:
        return self.assets[asset_id]


@pytest.mark.parametrize(("master_license", "kept"), [(PERPETUAL, True), (None, False)])
def test_a_variant_without_a_license_of_its_own_is_decided_on_its_masters(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, master_license: int | None, kept: bool
) -> None:
    monkeypatch.setattr(delivery_compliance, "_channels", lambda: {"vip": "online"})
    ledger.upsert_licenses([license_row(_lpt(PERPETUAL))])
    master = _asset().model_copy(
        update={
            "id": "master-1",
            "license_purchase_transaction_uuid": seed.stable_uuid("lpt", master_license)
            if master_license is not None
            else None,
        }
    )
    variant = _asset().model_copy(
        update={"id": "variant-1", "master_asset_id": "master-1", "license_purchase_transaction_uuid": None}
    )
    plan = ledger.plan("localization_return_loop", "variant-1", 1, "vip:ITM-1")
    ledger.begin(plan)
    ledger.complete(plan.key, "variant-1")
    vip = FakeVip(broken=None)
    run = PipelineRun("delivery_compliance", "run-1", RunWindow(NOW - timedelta(hours=1), NOW), {}, ledger=ledger)
    run._hooks.update(smintio=FakeSmintioAssets(master, variant), vip=vip)
    delivery_compliance.enforce(run)
    assert vip.withdrawn == ([] if kept else ["ITM-1"])  # no license anywhere: fails closed
