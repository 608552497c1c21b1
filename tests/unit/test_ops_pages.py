"""The quarantine and "where did it go" pages render what the ledger holds, escaped, with links."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentops import quarantine
from contentops.ledger import Ledger
from contentops.ops_pages import quarantine_page, where_page

pytestmark = pytest.mark.unit

PREFIX = "/contentops"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger.migrate()
    return ledger


def _deliver(ledger: Ledger, pipeline: str, asset: str, version: int, target: str, run_id: str) -> None:
    plan = ledger.plan(pipeline, asset, version, target)
    ledger.begin(plan, run_id=run_id, license_ref="lpt-7")
    ledger.complete(plan.key, f"remote-{version}", license_ref="lpt-7")


def test_the_quarantine_page_offers_replay_only_where_a_step_reads_the_record_again(ledger: Ledger) -> None:
    case = ledger.quarantine(
        "trading_grid", "case", "invalid case: <script>alert(1)</script>", {"id": "C-1"}, ref="C-1@r1"
    )
    entry = ledger.quarantine("vip", "catalog_entry", "price is not a number", {"id": "ITM-9"}, ref="ITM-9")
    done = ledger.quarantine("vip", "catalog_entry", "old", {"id": "ITM-1"}, ref="ITM-1")
    quarantine.resolve(ledger, done, "fixed in VIP by hand", by="ops")

    page = quarantine_page(ledger, prefix=PREFIX, flash="#3 resolved")

    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert f'action="{PREFIX}/quarantine/{case}/replay"' in page
    assert f'action="{PREFIX}/quarantine/{entry}/replay"' not in page  # nothing reads a catalog entry again
    assert f'action="{PREFIX}/quarantine/{entry}/resolve"' in page
    assert f'id="q-{done}"' not in page  # resolved rows only on asking
    assert 'id="flash"' in page and f"{PREFIX}/quarantine/export.csv" in page
    everything = quarantine_page(ledger, prefix=PREFIX, include_resolved=True)
    assert f'id="q-{done}"' in everything and "fixed in VIP by hand (resolved by ops)" in everything
    assert "source=vip" in quarantine_page(ledger, prefix=PREFIX, source="vip")  # exports keep the filter


def test_where_shows_each_delivery_per_partner_with_its_run_claims_and_quarantine(ledger: Ledger) -> None:
    _deliver(ledger, "campaign_release", "asset-1", 1, "vip:ITM-1001", "scheduled__2026-11-24")
    _deliver(ledger, "campaign_release", "asset-1", 2, "vip:ITM-1001", "manual__2")
    _deliver(ledger, "partner_case_intake", "asset-1", 1, "trading_grid_case:C-1", "manual__quarantine-4-x")
    ledger.audit(quarantine.REPLAY_DAG_ID, "replay_taken_in", "quarantine #4", run_id="manual__quarantine-4-x")
    ledger.claim_process("asset_approval:asset-1:v3", "opentext_workflow", "asset_approval", run_id="manual__3")
    ledger.quarantine("vip", "localized_return", "master license unknown", {"master_asset_id": "asset-1"}, ref="r-1")
    ledger.quarantine("vip", "localized_return", "other asset", {"master_asset_id": "asset-10"}, ref="r-2")

    page = where_page(ledger, "asset-1", prefix=PREFIX)

    assert 'data-partner="vip"' in page and 'data-partner="trading_grid_case"' in page
    assert page.count("<td>vip:ITM-1001</td>") == 2  # both versions, each with its run
    assert 'href="/dags/campaign_release/runs/manual__2"' in page
    assert f'href="{PREFIX}/reports/campaign_release/scheduled__2026-11-24"' in page
    assert "lpt-7" in page and "remote-2" in page
    # a replayed delivery links to the replay run that made it
    assert 'href="/dags/quarantine_replay/runs/manual__quarantine-4-x"' in page
    assert "asset_approval:asset-1:v3" in page and "manual__3" in page
    assert "master license unknown" in page and "other asset" not in page
    assert "knows of no delivery" in where_page(ledger, "asset-404", prefix=PREFIX)
    hostile = where_page(ledger, "<b>x", prefix=PREFIX)
    assert "<b>x" not in hostile and "&lt;b&gt;x" in hostile
