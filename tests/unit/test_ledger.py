"""The ledger on SQLite and on PostgreSQL: no lost rows, no duplicated effects."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from contentops.ledger import BASELINE_VERSION, LATEST_VERSION, Action, Ledger, idempotency_key

pytestmark = pytest.mark.unit

PIPELINE = "campaign_release"
TARGET = "vip:package-emea"


def deliver(ledger: Ledger, asset: str, version: int, target: str = TARGET, remote: str = "item-1") -> Action:
    """What a pipeline does: plan, begin, (send), complete. Returns the planned action."""
    plan = ledger.plan(PIPELINE, asset, version, target)
    if plan.action is not Action.SKIP:
        assert ledger.begin(plan, run_id="run-1", license_ref="getty/lpt-1")
        ledger.complete(plan.key, plan.remote_id or remote)
    return plan.action


def test_idempotency_key_is_stable_and_distinguishes_every_part() -> None:
    key = idempotency_key(PIPELINE, "a-1", 1, TARGET)
    assert key == idempotency_key(PIPELINE, "a-1", "1", TARGET)
    others = {
        idempotency_key("other", "a-1", 1, TARGET),
        idempotency_key(PIPELINE, "a-2", 1, TARGET),
        idempotency_key(PIPELINE, "a-1", 2, TARGET),
        idempotency_key(PIPELINE, "a-1", 1, "vip:x"),
    }
    assert key not in others and len(others) == 4
    # no ambiguity from joining: ("a|b", "c") vs ("a", "b|c")
    assert idempotency_key("p", "a|b", "c", "t") != idempotency_key("p", "a", "b|c", "t")


def test_first_delivery_creates_then_rerun_skips(ledger: Ledger) -> None:
    assert deliver(ledger, "a-1", 1) is Action.CREATE
    assert deliver(ledger, "a-1", 1) is Action.SKIP
    (record,) = ledger.where_did_it_go("a-1")
    assert (record.target, record.version, record.status, record.remote_id) == (TARGET, "1", "delivered", "item-1")
    assert record.license_ref == "getty/lpt-1"
    assert len(ledger.effects(asset_id="a-1")) == 1


def test_new_version_is_an_update_of_the_delivered_item(ledger: Ledger) -> None:
    deliver(ledger, "a-1", 1, remote="item-7")
    plan = ledger.plan(PIPELINE, "a-1", 2, TARGET)
    assert plan.action is Action.UPDATE and plan.remote_id == "item-7"
    ledger.begin(plan)
    ledger.complete(plan.key, "item-7")
    (record,) = ledger.where_did_it_go("a-1")
    assert record.version == "2" and record.remote_id == "item-7"
    assert [e["action"] for e in ledger.effects(asset_id="a-1")] == ["create", "update"]


def test_crash_between_begin_and_complete_is_retried_with_the_same_key(ledger: Ledger) -> None:
    plan = ledger.plan(PIPELINE, "a-1", 1, TARGET)
    assert ledger.begin(plan)
    # the worker died here: nothing completed
    again = ledger.plan(PIPELINE, "a-1", 1, TARGET)
    assert again.action is Action.CREATE and again.key == plan.key
    assert again.resumed and not plan.resumed  # the earlier attempt may have written already
    assert ledger.begin(again)
    ledger.complete(again.key, "item-1")
    (effect,) = ledger.effects(asset_id="a-1")
    assert effect["attempts"] == 2 and effect["status"] == "done"
    assert ledger.plan(PIPELINE, "a-1", 1, TARGET).action is Action.SKIP


def test_failed_effect_is_retried(ledger: Ledger) -> None:
    plan = ledger.plan(PIPELINE, "a-1", 1, TARGET)
    ledger.begin(plan)
    ledger.fail(plan.key, "503 from VIP")
    retry = ledger.plan(PIPELINE, "a-1", 1, TARGET)
    assert retry.action is Action.CREATE and retry.resumed
    assert ledger.begin(retry)


def test_withdraw_only_what_was_delivered_and_restore_as_update(ledger: Ledger) -> None:
    assert not ledger.withdraw(PIPELINE, "a-1", TARGET, "expired")
    deliver(ledger, "a-1", 1, remote="item-3")
    assert ledger.withdraw(PIPELINE, "a-1", TARGET, "expired", run_id="sweep-1")
    assert not ledger.withdraw(PIPELINE, "a-1", TARGET, "expired")
    assert ledger.where_did_it_go("a-1")[0].status == "withdrawn"
    assert [a.action for a in ledger.audit_trail(subject="a-1")] == ["withdrawn"]
    restored = ledger.plan(PIPELINE, "a-1", 1, TARGET)
    assert restored.action is Action.SKIP  # the same version's effect is done; withdrawal is not undone silently
    renewed = ledger.plan(PIPELINE, "a-1", 2, TARGET)
    assert renewed.action is Action.UPDATE and renewed.remote_id == "item-3"


def test_a_withdrawn_item_is_restored_once(ledger: Ledger) -> None:
    deliver(ledger, "a-2", 1, remote="item-4")
    assert not ledger.restore(PIPELINE, "a-2", TARGET, "renewed")  # never withdrawn: nothing to restore
    assert ledger.withdraw(PIPELINE, "a-2", TARGET, "expired", run_id="compliance-1")
    assert ledger.restore(PIPELINE, "a-2", TARGET, "renewed", run_id="compliance-2")
    assert not ledger.restore(PIPELINE, "a-2", TARGET, "renewed")
    assert ledger.where_did_it_go("a-2")[0].status == "delivered"
    assert [a.action for a in ledger.audit_trail(subject="a-2")] == ["withdrawn", "restored"]


def test_racing_workers_create_exactly_one_effect(ledger: Ledger) -> None:
    winners: list[bool] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        plan = ledger.plan(PIPELINE, "a-race", 1, TARGET)
        barrier.wait()
        winners.append(ledger.begin(plan))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (effect,) = ledger.effects(asset_id="a-race")
    assert len(ledger.deliveries(asset_id="a-race")) == 1
    # whoever proceeds sends the same idempotency key, so the partner keeps one item; every
    # worker that proceeded is counted on the one effect row
    assert winners.count(True) >= 1
    assert effect["attempts"] == winners.count(True)


def test_cursors_upsert(ledger: Ledger) -> None:
    assert ledger.get_cursor("smintio:lpt") is None
    ledger.set_cursor("smintio:lpt", "c-1")
    ledger.set_cursor("smintio:lpt", "c-2")
    assert ledger.get_cursor("smintio:lpt") == "c-2"


def test_a_forgotten_cursor_leaves_no_row(ledger: Ledger) -> None:
    import sqlalchemy as sa

    from contentops.ledger.schema import cursors

    ledger.set_cursor("sweep:pending:run-1", "2026-12-01T00:00:00+00:00")
    ledger.set_cursor("sweep:pending:run-1", None)
    assert ledger.get_cursor("sweep:pending:run-1") is None
    with ledger._tx() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(cursors)).scalar() == 0


def test_quarantine_keeps_raw_payload_verbatim(ledger: Ledger) -> None:
    raw = '{"uuid": "x", "license_terms": "not-a-list"}'
    qid = ledger.quarantine(
        "smintio", "license_purchase_transaction", "license_terms: not a list", raw, run_id="run-1", ref="x"
    )
    ledger.quarantine("vip", "return", "path traversal", {"file_name": "../../etc/passwd"}, run_id="run-1")
    ledger.quarantine("vip", "return", "bytes", b"\x89PNG", run_id="run-2")
    rows = ledger.quarantined(run_id="run-1")
    assert [r.source for r in rows] == ["smintio", "vip"]
    assert rows[0].raw == raw and rows[0].id == qid
    assert '"../../etc/passwd"' in rows[1].raw
    assert ledger.resolve_quarantine(qid, "fixed upstream")
    assert not ledger.resolve_quarantine(qid, "twice")
    assert [r.source for r in ledger.quarantined(run_id="run-1")] == ["vip"]
    assert len(ledger.quarantined(run_id="run-1", include_resolved=True)) == 2


def test_processes_are_claimed_once_per_business_key(ledger: Ledger) -> None:
    assert ledger.claim_process("rights_renewal:a-1:v1", "workflow", "rights_renewal", run_id="r1")
    assert not ledger.claim_process("rights_renewal:a-1:v1", "workflow", "rights_renewal", run_id="r2")
    ledger.update_process("rights_renewal:a-1:v1", instance_id="pi-9", status="running")
    ledger.update_process("rights_renewal:a-1:v1", status="completed", outcome="renew", variables={"by": "legal"})
    record = ledger.process("rights_renewal:a-1:v1")
    assert record is not None
    assert (record.instance_id, record.status, record.outcome, record.run_id) == ("pi-9", "completed", "renew", "r1")
    assert ledger.process("unknown") is None


def test_xrefs_both_ways(ledger: Ledger) -> None:
    ledger.link("asset", "smintio", "a-1", "vip", "item-1")
    ledger.link("asset", "smintio", "a-1", "vip", "item-2")  # re-linked: replaced, not added
    ledger.link("asset", "smintio", "a-2", "exstream", "res-1", {"domain": "retail"})
    assert ledger.lookup("asset", "smintio", "a-1", "vip") == "item-2"
    assert ledger.lookup_reverse("asset", "vip", "item-2", "smintio") == ["a-1"]
    assert ledger.lookup("asset", "smintio", "a-2", "vip") is None


def test_run_summaries_replace_on_rerun(ledger: Ledger) -> None:
    ledger.record_run("rights_expiry_sweep", "run-1", {"withdrawn": 2})
    ledger.record_run("rights_expiry_sweep", "run-1", {"withdrawn": 3, "refused": 1}, report_path="/r/report.html")
    summary = ledger.run_summary("rights_expiry_sweep", "run-1")
    assert summary is not None and summary["counts"] == {"withdrawn": 3, "refused": 1}


def test_migrate_is_idempotent_and_upgrades_an_older_schema(ledger_url: str) -> None:
    old = Ledger(ledger_url)
    assert old.schema_version() == 0
    assert old.migrate(target=BASELINE_VERSION) == BASELINE_VERSION
    old.set_cursor("kept", "yes")
    assert old.migrate() == LATEST_VERSION
    assert old.migrate() == LATEST_VERSION
    assert old.schema_version() == LATEST_VERSION
    assert old.get_cursor("kept") == "yes"
    assert old.claim_process("k", "workflow", "asset_approval")
    with pytest.raises(ValueError, match="predate the Alembic baseline"):
        old.migrate(target=3)
    old.dispose()


def test_in_memory_sqlite_keeps_state_across_connections() -> None:
    ledger = Ledger("sqlite://")
    ledger.migrate()
    ledger.set_cursor("c", "1")
    assert ledger.get_cursor("c") == "1"


@pytest.mark.postgres
def test_concurrent_migrations_on_postgres(pg_database: str) -> None:
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            Ledger(pg_database).migrate()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Ledger(pg_database).schema_version() == LATEST_VERSION


def test_sqlite_file_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = Ledger(url)
    first.migrate()
    deliver(first, "a-1", 1)
    first.dispose()
    second = Ledger(url)
    second.migrate()
    assert deliver(second, "a-1", 1) is Action.SKIP


def test_license_index_upserts_and_finds_what_a_sweep_must_review(ledger: Ledger) -> None:
    from datetime import UTC, datetime, timedelta

    from contentops.ledger import LicenseRow

    now = datetime(2026, 11, 24, tzinfo=UTC)
    rows = [
        LicenseRow("lpt-expired", "asset-1", "getty", 1, now - timedelta(days=3), {"terms": []}),
        LicenseRow("lpt-soon", "asset-2", "istock", 1, now + timedelta(days=10), {"terms": []}),
        LicenseRow("lpt-later", "asset-3", "shutterstock", 1, now + timedelta(days=200), {"terms": []}),
        LicenseRow("lpt-perpetual", "asset-4", "adobestock", 1, None, {"terms": []}),
    ]
    assert ledger.upsert_licenses(rows, run_id="run-1") == 4
    ledger.upsert_licenses(
        [LicenseRow("lpt-later", "asset-3", "shutterstock", 2, now + timedelta(days=5), {"terms": ["changed"]})],
        run_id="run-2",
    )
    assert ledger.count_licenses() == 4
    changed = ledger.license("lpt-later")
    assert changed is not None and changed.version == 2 and changed.rights == {"terms": ["changed"]}
    horizon = now + timedelta(days=30)
    assert [r.lpt_uuid for r in ledger.iter_licenses_to_review(expiring_before=horizon, batch=1)] == [
        "lpt-expired",
        "lpt-later",
        "lpt-soon",
    ]
    perpetual_changed = [
        r.lpt_uuid
        for r in ledger.iter_licenses_to_review(expiring_before=now - timedelta(days=30), changed_in_run="run-1")
    ]
    assert perpetual_changed == ["lpt-expired", "lpt-perpetual", "lpt-soon"]
    assert [r.lpt_uuid for r in ledger.licenses_for_asset("asset-2")] == ["lpt-soon"]


def test_a_stored_finding_is_read_for_its_own_assessment_and_cleared_by_a_rewrite(ledger: Ledger) -> None:
    from datetime import UTC, datetime, timedelta

    from contentops.ledger import LicenseRow

    now = datetime(2026, 11, 24, tzinfo=UTC)
    finding = {"status": "expired", "reasons": "term 1 ended on 2026-11-21", "expiry": "2026-11-21"}
    ledger.upsert_licenses(
        [
            LicenseRow("lpt-a", "asset-1", "getty", 1, now - timedelta(days=3), {"terms": [1]}, "as-of-x", finding),
            LicenseRow("lpt-b", "asset-2", "getty", 1, now - timedelta(days=1), {"terms": [2]}, "as-of-x", None),
            LicenseRow("lpt-c", "asset-3", "getty", 1, now - timedelta(days=2), {"terms": [3]}),
        ],
        run_id="run-1",
    )
    found = {
        row.lpt_uuid: (row.rights, row.assessed_for, row.finding)
        for row in ledger.iter_licenses_to_review(expiring_before=now, assessed_for="as-of-x", batch=2)
    }
    assert found == {
        "lpt-a": ({}, "as-of-x", finding),  # its finding stands in for its rights
        "lpt-b": ({}, "as-of-x", None),  # assessed: no action needed
        "lpt-c": ({"terms": [3]}, None, None),  # not assessed: its rights, to assess
    }
    other = {row.lpt_uuid: row.rights for row in ledger.iter_licenses_to_review(expiring_before=now)}
    assert other == {"lpt-a": {"terms": [1]}, "lpt-b": {"terms": [2]}, "lpt-c": {"terms": [3]}}
    ledger.upsert_licenses([LicenseRow("lpt-a", "asset-1", "getty", 2, now, {"terms": [4]})], run_id="run-2")
    rewritten = ledger.license("lpt-a")
    assert rewritten is not None and (rewritten.assessed_for, rewritten.finding) == (None, None)


def test_process_is_found_by_its_instance(ledger: Ledger) -> None:
    ledger.claim_process("k-1", "workflow", "rights_renewal")
    ledger.update_process("k-1", instance_id="pi-1", status="running")
    record = ledger.process_for_instance("pi-1")
    assert record is not None and record.business_key == "k-1"
    assert ledger.process_for_instance("pi-2") is None


def test_licenses_written_after_a_moment_are_reviewed_too(ledger: Ledger) -> None:
    from datetime import UTC, datetime, timedelta

    from contentops.ledger import LicenseRow

    far = datetime.now(UTC) + timedelta(days=400)
    ledger.upsert_licenses([LicenseRow("lpt-old", "asset-1", "getty", 1, far, {"terms": []})], run_id="run-1")
    moment = datetime.now(UTC)
    ledger.upsert_licenses([LicenseRow("lpt-new", "asset-2", "getty", 1, far, {"terms": []})], run_id="run-2")
    horizon = datetime.now(UTC) + timedelta(days=30)
    assert list(ledger.iter_licenses_to_review(expiring_before=horizon)) == []
    found = ledger.iter_licenses_to_review(expiring_before=horizon, changed_since=moment)
    assert [row.lpt_uuid for row in found] == ["lpt-new"]


def test_a_license_page_and_its_cursor_are_stored_together_or_not_at_all(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from contentops.ledger import LicenseRow

    now = datetime(2026, 11, 24, tzinfo=UTC)
    page = [LicenseRow(f"lpt-{i}", f"asset-{i}", "getty", 1, now, {"terms": []}) for i in range(3)]
    assert ledger.store_license_page(page[:2], run_id="run-1", cursor=("feed", "page-2")) == 2
    assert ledger.count_licenses() == 2 and ledger.get_cursor("feed") == "page-2"

    def cursor_write_fails(name: str, value: str | None, *, conn: object = None) -> None:
        raise sa.exc.OperationalError("INSERT INTO co_cursors", {}, Exception("disk I/O error"))

    monkeypatch.setattr(ledger.cursor_store, "set_cursor", cursor_write_fails)
    with pytest.raises(sa.exc.OperationalError):
        ledger.store_license_page(page[2:], run_id="run-1", cursor=("feed", "page-3"))
    monkeypatch.undo()
    # the row written before the cursor failed was rolled back with it
    assert ledger.license("lpt-2") is None and ledger.count_licenses() == 2
    assert ledger.get_cursor("feed") == "page-2"
    # the last (empty) page moves nothing but is fine, and a page without a cursor stores its rows
    assert ledger.store_license_page([], run_id="run-1") == 0
    assert ledger.store_license_page(page[2:], run_id="run-1") == 1
    assert ledger.count_licenses() == 3 and ledger.get_cursor("feed") == "page-2"


def test_a_sweep_counts_its_licenses_and_reads_only_the_findings_that_need_action(ledger: Ledger) -> None:
    from datetime import UTC, datetime, timedelta

    from contentops.ledger import LicenseRow

    now = datetime(2026, 11, 24, tzinfo=UTC)
    soon, far = now + timedelta(days=5), now + timedelta(days=400)
    finding = {"status": "expiring", "reasons": "term 1 ends on 2026-11-29", "expiry": "2026-11-29"}
    ledger.upsert_licenses(
        [
            LicenseRow("lpt-act", "asset-1", "getty", 3, soon, {"terms": [1]}, "as-of-x", finding),
            LicenseRow("lpt-fine", "asset-2", "getty", 1, soon, {"terms": [2]}, "as-of-x", None),
            LicenseRow("lpt-other", "asset-3", "istock", 1, soon, {"terms": [3]}, "as-of-y", finding),
            LicenseRow("lpt-never", "asset-4", "istock", 2, soon, {"terms": [4]}),
            LicenseRow("lpt-out", "asset-5", "getty", 1, far, {"terms": [5]}, "as-of-x", finding),
        ],
        run_id="run-1",
    )
    scope = {"expiring_before": now + timedelta(days=30)}
    # in scope: all but lpt-out; not assessed for as-of-x: lpt-other (another assessment) and lpt-never
    assert ledger.count_licenses_to_review(**scope, assessed_for="as-of-x") == (4, 2)
    assert ledger.count_licenses_to_review(**scope) == (4, 4)
    assert ledger.count_licenses_to_review(**scope, assessed_for="as-of-x", providers=["getty"]) == (2, 0)
    assert ledger.count_licenses_to_review(expiring_before=now, assessed_for="as-of-x") == (0, 0)
    # the findings: only the license assessed for it that needs action, with its version
    assert list(ledger.iter_findings(**scope, assessed_for="as-of-x", batch=1)) == [("lpt-act", 3, finding)]
    assert list(ledger.iter_findings(**scope, assessed_for="as-of-x", providers=["istock"])) == []
    assert [f[0] for f in ledger.iter_findings(**scope, assessed_for="as-of-x", changed_in_run="run-1")] == [
        "lpt-act",
        "lpt-out",
    ]
    # the rest, to assess from their rights: those not assessed for it, rights included
    rest = {r.lpt_uuid: r.rights for r in ledger.iter_licenses_to_review(**scope, not_assessed_for="as-of-x")}
    assert rest == {"lpt-other": {"terms": [3]}, "lpt-never": {"terms": [4]}}


def test_rights_written_as_json_text_read_back_as_the_rights_dict(ledger: Ledger) -> None:
    import json
    from datetime import UTC, datetime

    from contentops.ledger import LicenseRow
    from contentops.models import LicensePurchaseTransaction
    from contentops.models.domain import UsageRights
    from contentops.pipelines.licenses import license_row
    from contentops_sandbox.smintio import seed

    now = datetime(2026, 12, 4, tzinfo=UTC)
    records = [json.loads(json.dumps(seed.make_lpt(i, now, prefix="gen"))) for i in range(12)]
    records[0]["license_terms"][0]["name"] = [{"culture": "de", "value": "Überall, «frei» 🌍"}]
    records[1]["license_terms"][0]["note_from_partner"] = {"ratio": 0.1, "big": 1e16, "list": [1, "ü", None]}
    lpts = [LicensePurchaseTransaction.model_validate(record) for record in records]
    ledger.store_license_page([license_row(lpt) for lpt in lpts], run_id="run-1")
    ledger.upsert_licenses([LicenseRow("lpt-dict", "asset-x", None, 1, None, {"terms": [], "note": "ü"})])
    for lpt in lpts:
        stored = ledger.license(lpt.uuid)
        assert stored is not None
        assert stored.rights == UsageRights.from_lpt(lpt).model_dump(mode="json")
    stored = ledger.license("lpt-dict")
    assert stored is not None and stored.rights == {"terms": [], "note": "ü"}
