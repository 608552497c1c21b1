"""smintio_license_sync end to end: dag.test() against the Smint.io sandbox, effects in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger
from contentops.pipelines.licenses import cursor_name
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.e2e

SEEDED = 60


def _load_dag() -> Any:
    return load_dag("smintio_license_sync", retries=None)


def test_sync_indexes_quarantines_and_resumes(
    airflow_db: Path, connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    running = connect("smintio", options={"seeded_transactions": SEEDED})
    running.set_faults(malformed_rate=0.05, seed=11, fail_next=[503, 429], retry_after_seconds=0)
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    dag = _load_dag()

    first = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC), run_conf={"page_size": 7})
    assert first.state == "success"
    ledger = Ledger(ledger_url)
    quarantined = ledger.quarantined(source="smintio")
    syncable = SEEDED - SEEDED // 12
    assert quarantined, "the malformed records were quarantined"
    indexed = ledger.count_licenses()
    # every record served is indexed, skipped (not syncable) or quarantined — nothing is lost
    assert syncable <= indexed + len(quarantined) <= SEEDED
    seeded_uuids = {seed.stable_uuid("lpt", i) for i in range(SEEDED)}
    rows = list(
        ledger.iter_licenses_to_review(expiring_before=datetime(1970, 1, 1, tzinfo=UTC), changed_in_run=first.run_id)
    )
    assert len(rows) == indexed and {row.lpt_uuid for row in rows} <= seeded_uuids
    expired = ledger.license(seed.stable_uuid("lpt", 3))
    if expired is not None:  # unless that very record was served malformed
        assert expired.expires_at is not None and expired.expires_at < datetime.now(UTC)
    cursor = ledger.get_cursor(cursor_name("smintio_default"))
    assert cursor
    summary = ledger.run_summary("smintio_license_sync", first.run_id)
    assert summary and summary["counts"].get("quarantined") == len(quarantined)
    assert Path(summary["report_path"]).is_file()

    # a second run reads only what changed since the stored cursor
    running.set_faults()
    changed = seed.stable_uuid("lpt", 9)
    running.admin("POST", f"smintio/lpt/{changed}", json={"valid_until": "2026-12-10T00:00:00Z"})
    second = dag.test(logical_date=datetime(2026, 11, 24, 11, tzinfo=UTC))
    assert second.state == "success"
    row = ledger.license(changed)
    assert row is not None and row.version == 2 and row.expires_at == datetime(2026, 12, 10, tzinfo=UTC)
    assert ledger.get_cursor(cursor_name("smintio_default")) != cursor


def test_a_connection_that_cannot_work_fails_the_task_at_once_instead_of_retrying(
    airflow_db: Path, connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The DAG's own retries (2, a minute apart) are not spent on a connection that names an
    operation the hook does not have: the next try would fail the same way."""
    connect("smintio", extra={"paths": {"no_such_operation": "/nowhere"}})
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    dag = _load_dag()
    assert dag.get_task("sync_licenses").retries == 2

    run = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC))
    assert run.state == "failed"
    (sync,) = [ti for ti in run.get_task_instances() if ti.task_id == "sync_licenses"]
    assert sync.state == "failed" and sync.try_number == 1
    # the report is written all the same, and says the run failed and where
    (page,) = (tmp_path / "reports" / "smintio_license_sync").glob("*/report.html")
    assert "This run failed.</b> Failed tasks: sync_licenses." in page.read_text()


def test_a_record_served_malformed_is_taken_in_once_the_feed_serves_it_valid(
    airflow_db: Path, connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The cursor moves past a page with a malformed record, yet the record is not lost: its
    quarantine row says who it is and where it was, and a later sync takes it in and resolves it."""
    running = connect("smintio", options={"seeded_transactions": 120})
    running.set_faults(malformed_rate=0.1, seed=5)
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    dag = _load_dag()
    every = running.context.store.all("lpt")
    expected = {d["uuid"] for d in every if d.get("can_be_synced") is not False and d.get("content_element")}

    first = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC), run_conf={"page_size": 7})
    assert first.state == "success"
    ledger = Ledger(ledger_url)
    quarantined = ledger.quarantined(source="smintio")
    assert len(quarantined) >= 5
    assert all(q.ref and q.ref.endswith(" of 7)") and "feed page" in q.ref for q in quarantined), [
        q.ref for q in quarantined
    ]
    assert any(not q.ref.startswith(tuple(expected)) for q in quarantined)  # some lost their uuid: named otherwise
    assert all("unidentified" not in (q.ref or "") for q in quarantined)
    assert ledger.count_licenses() < len(expected)

    running.set_faults()  # the partner serves every record correctly again
    second = dag.test(logical_date=datetime(2026, 11, 24, 11, tzinfo=UTC), run_conf={"page_size": 7})
    assert second.state == "success"
    assert ledger.quarantined(source="smintio") == []
    assert ledger.count_licenses() == len(expected)
    assert all(ledger.license(uuid) is not None for uuid in expected)
    summary = ledger.run_summary("smintio_license_sync", second.run_id)
    assert summary and summary["counts"].get("healed") == len(quarantined)
