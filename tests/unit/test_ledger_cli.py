"""The ledger CLI answers "where did asset X go" from the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from legacy_ledger import create_legacy_ledger

from contentops.ledger import LATEST_VERSION, Ledger
from contentops.ledger_cli import main

pytestmark = pytest.mark.unit


def test_where_quarantine_and_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    ledger = Ledger(url)
    ledger.migrate()
    plan = ledger.plan("campaign_release", "asset-1", 2, "vip:package-emea")
    ledger.begin(plan, license_ref="getty/lpt-9")
    ledger.complete(plan.key, "item-77", license_ref="getty/lpt-9")
    ledger.quarantine("vip", "return", "file name escapes its folder", {"file_name": "../x"}, ref="ret-1")
    ledger.audit("rights_expiry_sweep", "withdrawn", "asset-1", {"target": "vip:package-emea"})

    assert main(["--url", url, "where", "asset-1"]) == 0
    line = capsys.readouterr().out
    assert "vip:package-emea" in line and "item-77" in line and "getty/lpt-9" in line and "version 2" in line
    main(["--url", url, "where", "asset-2"])
    assert "not delivered anywhere" in capsys.readouterr().out
    main(["--url", url, "quarantine", "--source", "vip"])
    assert "file name escapes its folder" in capsys.readouterr().out
    main(["--url", url, "audit", "asset-1"])
    assert "withdrawn" in capsys.readouterr().out


def test_claims_are_listed_and_released(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    ledger = Ledger(url)
    ledger.migrate()
    ledger.claim_process("asset_approval:a-1:v1", "opentext_workflow", "asset_approval", run_id="manual__1")
    ledger.claim_process("asset_approval:a-2:v1", "opentext_workflow", "asset_approval", run_id="manual__1")
    ledger.update_process("asset_approval:a-2:v1", instance_id="pi-2", status="running")

    assert main(["--url", url, "claims"]) == 0
    out = capsys.readouterr().out
    assert "asset_approval:a-1:v1" in out and "manual__1" in out and "held until" in out
    assert "a-2" not in out  # its instance is recorded: not a claim any more
    assert main(["--url", url, "release-claim", "asset_approval:a-1:v1"]) == 0
    capsys.readouterr()
    main(["--url", url, "claims"])
    assert "released" in capsys.readouterr().out
    assert ledger.claim_process("asset_approval:a-1:v1", "opentext_workflow", "asset_approval", run_id="next")
    assert main(["--url", url, "release-claim", "asset_approval:a-2:v1"]) == 1  # an instance: never released


def test_upgrade_migrates_a_ledger_from_before_alembic_and_never_creates_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    create_legacy_ledger(url, version=4)
    assert main(["--url", url, "upgrade"]) == 0
    assert f"schema version 4 -> {LATEST_VERSION}" in capsys.readouterr().out
    assert Ledger(url).schema_version() == LATEST_VERSION
    assert main(["--url", url, "upgrade"]) == 0
    assert "(already current)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no ledger at"):
        main(["--url", f"sqlite:///{tmp_path / 'missing.sqlite'}", "upgrade"])
    assert not (tmp_path / "missing.sqlite").exists()
