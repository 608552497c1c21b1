"""PipelineRun: exactly-once sends, quarantine, and the report built from the audit trail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contentops.ledger import Action, DeliveryPlan, Ledger
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow

pytestmark = pytest.mark.unit

END = datetime(2026, 11, 24, tzinfo=UTC)


def _run(ledger: Ledger, run_id: str = "run-1", **params: object) -> PipelineRun:
    return PipelineRun("campaign_release", run_id, RunWindow(END - timedelta(days=1), END), params, ledger=ledger)


class FakePartner:
    """Stands in for a partner write (this is pure orchestration logic, no HTTP)."""

    def __init__(self, fail_times: int = 0) -> None:
        self.calls: list[DeliveryPlan] = []
        self.fail_times = fail_times

    def send(self, plan: DeliveryPlan) -> str:
        self.calls.append(plan)
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("partner down")
        return plan.remote_id or f"item-{len(self.calls)}"


def test_deliver_once_sends_once_and_updates_on_new_version(ledger: Ledger) -> None:
    partner = FakePartner()
    first = _run(ledger).deliver_once("a-1", 1, "vip:emea", partner.send)
    again = _run(ledger, "run-2").deliver_once("a-1", 1, "vip:emea", partner.send)
    update = _run(ledger, "run-3").deliver_once("a-1", 2, "vip:emea", partner.send)
    assert [first.action, again.action, update.action] == [Action.CREATE, Action.SKIP, Action.UPDATE]
    assert len(partner.calls) == 2
    assert partner.calls[1].remote_id == first.remote_id == update.remote_id


def test_failed_send_is_retried_with_the_same_key(ledger: Ledger) -> None:
    partner = FakePartner(fail_times=1)
    with pytest.raises(ConnectionError):
        _run(ledger).deliver_once("a-1", 1, "vip:emea", partner.send)
    retried = _run(ledger).deliver_once("a-1", 1, "vip:emea", partner.send)
    assert retried.action is Action.CREATE
    assert partner.calls[0].key == partner.calls[1].key
    assert len(ledger.effects(asset_id="a-1")) == 1


def test_dry_run_sends_nothing(ledger: Ledger) -> None:
    partner = FakePartner()
    outcome = _run(ledger, dry_run=True).deliver_once("a-1", 1, "vip:emea", partner.send)
    assert outcome.action is Action.SKIP and partner.calls == []
    assert ledger.effects(asset_id="a-1") == []


def test_quarantine_and_report(ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    run = _run(ledger)
    run.quarantine_callback("smintio", "license_purchase_transaction")("uuid: missing", {"id": "bad-1", "x": 1})
    run.record("a-1", "vip:emea", "delivered", license="getty/lpt-1")
    run.record("a-2", "vip:emea", "refused", "region_restricted")
    _run(ledger, "other-run").record("a-3", "vip:emea", "delivered")
    result = run.write_report("Campaign release")
    assert result["counts"] == {"delivered": 1, "quarantined": 1, "refused": 1}
    page = Path(result["report"]).read_text()
    assert "region_restricted" in page and "a-3" not in page
    (row,) = ledger.quarantined(run_id="run-1")
    assert row.ref == "bad-1" and '"x": 1' in row.raw
    assert ledger.run_summary("campaign_release", "run-1")["counts"] == result["counts"]


def test_each_system_hook_is_typed_as_the_class_it_builds() -> None:
    """``run.hook("vip")`` reads as a VipHook to an IDE: one overload per system, naming the class
    HOOKS builds, so the two can never drift apart."""
    import typing

    from contentops.pipelines.runtime import HOOKS, PipelineRun

    typed: dict[str, str] = {}
    for overload in typing.get_overloads(PipelineRun.hook):
        system, returned = overload.__annotations__["system"], overload.__annotations__["return"]
        if system.startswith("Literal["):  # annotations are strings here (postponed evaluation)
            typed[system.removeprefix("Literal[").removesuffix("]").strip("'\"")] = returned
    assert {system: path.rpartition(".")[2] for system, (path, _) in HOOKS.items()} == typed


def test_unknown_conf_keys_are_reported_once_in_one_bounded_row(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    caplog.set_level(logging.WARNING, logger="contentops.pipelines.runtime")
    declared = {"dry_run", "targets"}
    conf = {"targets": ["vip"], "dry_rn": True, **{f"junk-{n}": n for n in range(5000)}}
    run = _run(ledger)
    assert run.report_unknown_conf(conf, declared)[:2] == ["dry_rn", "junk-0"]
    assert len(run.report_unknown_conf(conf, declared)) == 5001  # another task of the run: logged, not re-recorded
    assert run.report_unknown_conf({"targets": []}, declared) == []
    (row,) = [e for e in ledger.audit_trail(run_id="run-1") if e.action == "unknown_conf_keys"]
    reason = (row.details or {})["reason"]
    assert "'dry_rn'" in reason and "and 4981 more" in reason and len(reason) < 2000
    assert run.write_report("Campaign release")["counts"] == {"unknown_conf_keys": 1}
    assert "not Params of campaign_release; they are ignored: 'dry_rn'" in caplog.text
