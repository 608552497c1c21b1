"""Rights first: an asset's license comes from the ledger's license index, and an unknown license
allows nothing (fail closed), whichever pipeline asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contentops import rights
from contentops.ledger import Ledger
from contentops.models.domain import IntendedUse, UsageRights
from contentops.models.smintio import Asset, LicensePurchaseTransaction
from contentops.pipelines.licenses import license_row
from contentops.pipelines.rights_first import (
    asset_license,
    asset_rights,
    known_license,
    no_license_reason,
    rights_or_unknown,
)
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.unit

NOW = datetime.now(UTC).replace(microsecond=0)
FINE = 9  # the seed's perpetual license that allows its uses


def _run(ledger: Ledger) -> PipelineRun:
    return PipelineRun("rights_first_test", "run-1", RunWindow(NOW - timedelta(days=1), NOW), {}, ledger=ledger)


def _asset(lpt: str | None) -> Asset:
    return Asset.model_validate(
        {"id": "asset-1", "approval_status": "approved", "license_purchase_transaction_uuid": lpt}
    )


def test_an_indexed_license_gives_its_rights_and_version(ledger: Ledger) -> None:
    lpt = LicensePurchaseTransaction.model_validate(seed.make_lpt(FINE, NOW))
    ledger.upsert_licenses([license_row(lpt)], run_id="sync")
    run = _run(ledger)

    known = asset_license(run, _asset(lpt.uuid))
    assert known is not None
    assert (known.ref, known.version) == (lpt.uuid, lpt.version)
    assert known.rights == UsageRights.from_lpt(lpt)  # the feed's rights, read back from the index
    assert asset_rights(run, _asset(lpt.uuid)) == known.rights
    assert rights_or_unknown(run, _asset(lpt.uuid)) == known.rights
    assert known.rights.license_purchase_transaction_uuid == lpt.uuid


@pytest.mark.parametrize("lpt", [None, "", "lpt-not-synced-yet"])
def test_without_a_known_license_nothing_is_allowed(ledger: Ledger, lpt: str | None) -> None:
    run = _run(ledger)
    asset = _asset(lpt)

    assert asset_license(run, asset) is None
    assert asset_rights(run, asset) is None
    assert known_license(run, lpt) is None
    unknown = rights_or_unknown(run, asset)
    decision = rights.evaluate(unknown, IntendedUse(on_date=NOW, region="DE", channel="web"))
    assert not decision.allowed
    assert no_license_reason(asset).startswith(f"no license known for asset-1 (license {lpt or 'missing'} ")


def test_no_asset_has_no_license(ledger: Ledger) -> None:
    assert asset_license(_run(ledger), None) is None
