"""Ledger schema migrations: a ledger made by the code before Alembic keeps every row through
the upgrade and gains the new indexes, on SQLite and on PostgreSQL; the tables the code queries
and the tables the revisions build are the same."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from legacy_ledger import create_legacy_ledger

from contentops.ledger import BASELINE_VERSION, LATEST_VERSION, Action, Ledger, idempotency_key, metadata, migrations
from contentops.ledger.migrations import VERSION_TABLE, revision_id
from contentops.ledger.migrations import _config as alembic_config

pytestmark = pytest.mark.unit

NEW_INDEXES = {
    "co_processes": "ix_co_processes_instance",
    "co_delivery_effects": "ix_co_delivery_effects_slot",
    "co_quarantine": "ix_co_quarantine_source",
}
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KEY = idempotency_key("campaign_release", "asset-1", "3", "vip:package-emea")


def fill_legacy_ledger(url: str) -> None:
    """Rows as the old code wrote them, one or more in every table, with plain SQL."""
    engine = sa.create_engine(url)
    rows = [
        (
            "INSERT INTO co_xrefs (entity, system_a, id_a, system_b, id_b, meta, updated_at) "
            "VALUES ('asset', 'smintio', 'asset-1', 'vip', 'item-9', :meta, :now)",
            {"meta": json.dumps({"domain": "retail"})},
        ),
        (
            "INSERT INTO co_delivery_slots (id, pipeline, asset_id, target, remote_id, version, status, "
            "license_ref, updated_at) VALUES (1, 'campaign_release', 'asset-1', 'vip:package-emea', 'item-9', '3', "
            "'delivered', 'getty/lpt-1', :now)",
            {},
        ),
        (
            "INSERT INTO co_delivery_effects (idempotency_key, slot_id, action, version, status, run_id, remote_id, "
            "attempts, created_at, finished_at) VALUES (:key, 1, 'create', '3', 'done', 'run-old', 'item-9', 1, "
            ":now, :now)",
            {"key": KEY},
        ),
        ("INSERT INTO co_cursors (name, value, updated_at) VALUES ('smintio:lpt', 'cursor-41', :now)", {}),
        (
            "INSERT INTO co_quarantine (source, kind, reason, raw, ref, run_id, created_at) VALUES "
            "('trading_grid', 'case', 'no purchase order', '{\"po\": null}', 'case-7', 'run-old', :now)",
            {},
        ),
        (
            "INSERT INTO co_audit (at, pipeline, run_id, action, subject, details) VALUES "
            "(:now, 'rights_expiry_sweep', 'run-old', 'withdrawn', 'asset-1', :details)",
            {"details": json.dumps({"target": "vip:package-emea"})},
        ),
        (
            "INSERT INTO co_processes (business_key, system, definition, instance_id, status, run_id, created_at, "
            "updated_at, lease_until) VALUES ('asset_approval:asset-1:v3', 'opentext_workflow', 'asset_approval', "
            "'pi-5', 'running', 'run-old', :now, :now, :now)",
            {},
        ),
        (
            "INSERT INTO co_run_summaries (pipeline, run_id, counts, finished_at) VALUES "
            "('campaign_release', 'run-old', :counts, :now)",
            {"counts": json.dumps({"delivered": 1})},
        ),
        (
            "INSERT INTO co_licenses (lpt_uuid, asset_id, provider, version, expires_at, rights, run_id, updated_at) "
            "VALUES ('lpt-1', 'asset-1', 'getty', 2, :expires, :rights, 'run-old', :now)",
            {"expires": NOW + timedelta(days=20), "rights": json.dumps({"terms": ["web"]})},
        ),
    ]
    with engine.begin() as conn:
        for statement, values in rows:
            conn.execute(sa.text(statement), {"now": NOW, **values})
    engine.dispose()


def indexes(ledger: Ledger, table: str) -> set[str]:
    with ledger.engine.connect() as conn:
        return {index["name"] for index in sa.inspect(conn).get_indexes(table) if index["name"]}


def schema_differences(ledger: Ledger) -> list[object]:
    """What Alembic's comparison finds between the live tables and the database (version tables aside)."""

    def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        return not (type_ == "table" and name in (VERSION_TABLE, "co_schema_version"))

    with ledger.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": True})
        return compare_metadata(context, metadata)


def test_a_ledger_created_before_alembic_keeps_its_rows_and_gains_the_new_indexes(
    ledger_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alembic")
    create_legacy_ledger(ledger_url, version=4)
    fill_legacy_ledger(ledger_url)
    ledger = Ledger(ledger_url)
    assert ledger.schema_version() == 4
    assert NEW_INDEXES["co_processes"] not in indexes(ledger, "co_processes")

    assert ledger.migrate() == LATEST_VERSION

    ran = [record.getMessage() for record in caplog.records if record.getMessage().startswith("Running")]
    assert [" ".join(message.split()) for message in ran] == [  # detected and stamped, not rebuilt
        f"Running stamp_revision -> {revision_id(BASELINE_VERSION)}",
        f"Running upgrade {revision_id(BASELINE_VERSION)} -> {revision_id(5)}, "
        "Indexes for lookups every run makes, which scanned their tables until now.",
        f"Running upgrade {revision_id(5)} -> {revision_id(6)}, "
        "Compliance holds: the deliveries delivery_compliance withdrew, so a renewal restores them.",
        f"Running upgrade {revision_id(6)} -> {revision_id(7)}, "
        "License findings: the rights sweep's assessment stored with the rights it was made of.",
    ]
    assert ledger.schema_version() == LATEST_VERSION
    for table, index in NEW_INDEXES.items():
        assert index in indexes(ledger, table)
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all() == [
            revision_id(LATEST_VERSION)
        ]
        # the old versioning's table is left as it was: code from before still sees version 4
        assert conn.execute(sa.text("SELECT max(version) FROM co_schema_version")).scalar() == 4
    # every row is read back through the new code
    assert ledger.lookup("asset", "smintio", "asset-1", "vip") == "item-9"
    assert ledger.plan("campaign_release", "asset-1", 3, "vip:package-emea").action is Action.SKIP
    (effect,) = ledger.effects(asset_id="asset-1")
    assert effect["idempotency_key"] == KEY and effect["status"] == "done"
    assert ledger.get_cursor("smintio:lpt") == "cursor-41"
    (row,) = ledger.quarantined(source="trading_grid")
    assert row.reason == "no purchase order" and row.raw == '{"po": null}' and row.ref == "case-7"
    assert [entry.action for entry in ledger.audit_trail(subject="asset-1")] == ["withdrawn"]
    process = ledger.process_for_instance("pi-5")
    assert process is not None and process.business_key == "asset_approval:asset-1:v3"
    summary = ledger.run_summary("campaign_release", "run-old")
    assert summary is not None and summary["counts"] == {"delivered": 1}
    license_row = ledger.license("lpt-1")
    assert license_row is not None and license_row.rights == {"terms": ["web"]}
    assert license_row.expires_at == NOW + timedelta(days=20)
    assert license_row.assessed_for is None and license_row.finding is None  # revision 0007: not assessed yet
    # and written to as before
    new = ledger.plan("campaign_release", "asset-1", 4, "vip:package-emea")
    assert new.action is Action.UPDATE and new.remote_id == "item-9"
    assert schema_differences(ledger) == []
    # revision 0006: the new holds table is there and works on the upgraded ledger
    assert ledger.holds() == []
    assert ledger.hold("campaign_release", "asset-1", "vip:package-emea", cause="rights", reason="expired")
    assert [h.target for h in ledger.holds(asset_id="asset-1")] == ["vip:package-emea"]
    assert ledger.migrate() == LATEST_VERSION
    ledger.dispose()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_ledger_left_at_an_older_legacy_version_is_completed(ledger_url: str, version: int) -> None:
    create_legacy_ledger(ledger_url, version=version)
    ledger = Ledger(ledger_url)
    ledger.set_cursor("kept", "yes")  # co_cursors exists from version 1
    assert ledger.schema_version() == version
    assert ledger.migrate() == LATEST_VERSION
    assert ledger.get_cursor("kept") == "yes"
    assert schema_differences(ledger) == []
    assert ledger.claim_process("k-1", "opentext_workflow", "asset_approval", run_id="r1")
    ledger.dispose()


def test_a_new_ledger_is_built_by_the_revisions_one_at_a_time(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    assert ledger.migrate(target=BASELINE_VERSION) == BASELINE_VERSION
    assert "ix_co_processes_instance" not in indexes(ledger, "co_processes")
    ledger.claim_process("k-1", "opentext_workflow", "asset_approval", run_id="r1")
    ledger.update_process("k-1", instance_id="pi-1", status="running")
    assert ledger.migrate() == LATEST_VERSION
    assert "ix_co_processes_instance" in indexes(ledger, "co_processes")
    process = ledger.process_for_instance("pi-1")
    assert process is not None and process.business_key == "k-1"
    assert schema_differences(ledger) == []
    with ledger.engine.connect() as conn:
        assert not sa.inspect(conn).has_table("co_schema_version")  # the old versioning is not recreated
    ledger.dispose()


def test_a_ledger_migrated_by_a_newer_release_is_left_alone(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    ledger.migrate()
    with ledger.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = :newer"), {"newer": revision_id(99)})
    assert ledger.migrate() == 99  # no revision this code does not know is looked for, nothing downgraded
    assert ledger.schema_version() == 99
    ledger.dispose()


def test_revisions_form_one_numbered_line_from_the_baseline_to_the_latest() -> None:
    with sa.create_engine("sqlite://").connect() as conn:
        scripts = ScriptDirectory.from_config(alembic_config(conn))
    assert scripts.get_heads() == [revision_id(LATEST_VERSION)]
    chain = [script.revision for script in scripts.walk_revisions("base", "heads")]
    assert chain == [revision_id(v) for v in range(LATEST_VERSION, BASELINE_VERSION - 1, -1)]
    for script in scripts.walk_revisions():
        assert script.down_revision in (None, revision_id(int(script.revision) - 1))


@pytest.mark.parametrize("legacy", [False, True], ids=["new", "legacy"])
def test_concurrent_first_opens_migrate_once(ledger_url: str, legacy: bool) -> None:
    if legacy:
        create_legacy_ledger(ledger_url, version=4)
        fill_legacy_ledger(ledger_url)
    errors: list[BaseException] = []
    results: list[int] = []

    def open_ledger() -> None:
        ledger = Ledger(ledger_url)
        try:
            results.append(ledger.migrate())
        except BaseException as exc:
            errors.append(exc)
        finally:
            ledger.dispose()

    threads = [threading.Thread(target=open_ledger) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [LATEST_VERSION] * 4
    ledger = Ledger(ledger_url)
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
    if legacy:
        assert ledger.get_cursor("smintio:lpt") == "cursor-41"
    ledger.dispose()


FAILING_REVISION = """
from alembic import op

revision = "{new}"
down_revision = "{previous}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_co_cursors_value", "co_cursors", ["value"])
    raise RuntimeError("a revision that fails half-way")


def downgrade() -> None:
    pass
"""


def test_a_failing_revision_leaves_the_ledger_as_it_was(
    ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test-only next revision that changes something and then fails: the version, the
    schema and the rows stay as they were (one transaction), and the task sees the error."""
    ledger = Ledger(ledger_url)
    ledger.migrate()
    ledger.set_cursor("kept", "yes")
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPT_LOCATION, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    newer = LATEST_VERSION + 1
    (scripts / "versions" / f"{revision_id(newer)}_fails.py").write_text(
        FAILING_REVISION.format(new=revision_id(newer), previous=revision_id(LATEST_VERSION))
    )
    monkeypatch.setattr(migrations, "SCRIPT_LOCATION", scripts)
    monkeypatch.setattr(migrations, "LATEST_VERSION", newer)

    with pytest.raises(RuntimeError, match="fails half-way"):
        ledger.migrate()

    assert ledger.schema_version() == LATEST_VERSION
    assert "ix_co_cursors_value" not in indexes(ledger, "co_cursors")
    assert ledger.get_cursor("kept") == "yes"
    ledger.dispose()
