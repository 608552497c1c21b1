"""Workflow claims in the ledger: held by a run for a lease, never a wedge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from legacy_ledger import create_legacy_ledger

from contentops.ledger import LATEST_VERSION, Ledger, processes

pytestmark = pytest.mark.unit

KEY = "asset_approval:a-1:v1"


def test_a_claim_is_held_by_its_run_for_its_lease(ledger: Ledger) -> None:
    assert ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r1", lease=timedelta(minutes=5))
    assert not ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r2")  # r1's lease runs
    assert ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r1")  # r1's retry renews it
    (claim,) = ledger.claims()
    assert claim.run_id == "r1" and claim.lease_until is not None
    assert claim.lease_until > datetime.now(UTC) + timedelta(minutes=9)  # renewed for the default lease


def test_a_claim_past_its_lease_is_taken_over_by_exactly_one_run(ledger: Ledger) -> None:
    assert ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r1", lease=timedelta(seconds=-1))
    assert ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r2")
    assert not ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r3")  # r2 holds it now
    record = ledger.process(KEY)
    assert record is not None and record.run_id == "r2" and record.status == "starting"


def test_a_released_claim_is_taken_over_at_once_and_keeps_the_error(ledger: Ledger) -> None:
    assert ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r1")
    assert not ledger.release_claim(KEY, run_id="r2")  # only r1 (or an operator) releases r1's claim
    assert ledger.release_claim(KEY, run_id="r1", error="PartnerServerError: 503")
    (claim,) = ledger.claims()
    assert claim.last_error == "PartnerServerError: 503" and claim.lease_over(datetime.now(UTC))
    assert ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r2")


def test_a_key_with_an_instance_is_never_claimed_again_nor_released(ledger: Ledger) -> None:
    assert ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r1", lease=timedelta(seconds=-1))
    ledger.update_process(KEY, instance_id="pi-1", status="running")
    assert not ledger.claim_process(KEY, "workflow", "asset_approval", run_id="r2")
    assert not ledger.release_claim(KEY)
    assert ledger.claims() == []
    assert ledger.process(KEY).instance_id == "pi-1"  # type: ignore[union-attr]


def test_a_claim_left_before_leases_existed_is_recoverable_after_the_upgrade(ledger_url: str) -> None:
    create_legacy_ledger(ledger_url, version=3)
    old = Ledger(ledger_url)
    assert old.schema_version() == 3
    now = datetime.now(UTC)
    with old.engine.begin() as conn:  # what schema 3 wrote: no lease, no instance, the failed run's id
        conn.execute(
            sa.text(
                "INSERT INTO co_processes (business_key, system, definition, instance_id, status, run_id, "
                "created_at, updated_at) VALUES (:k, 'opentext_workflow', 'asset_approval', NULL, 'starting', "
                "'failed-run', :now, :now)"
            ),
            {"k": KEY, "now": now},
        )
    assert old.migrate() == LATEST_VERSION
    with old.engine.connect() as conn:
        assert {"lease_until", "last_error"} <= {c["name"] for c in sa.inspect(conn).get_columns(processes.name)}
    (claim,) = old.claims()
    assert claim.run_id == "failed-run" and claim.lease_until is None
    assert old.claim_process(KEY, "opentext_workflow", "asset_approval", run_id="next-run")
    old.dispose()
