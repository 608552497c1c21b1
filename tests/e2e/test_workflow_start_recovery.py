"""A failed workflow start never wedges an asset: campaign_release end to end, the Workflow
Service failing for a whole run, then back.

The first run's approval starts fail (every Workflow Service call answers 503), leaving a claim
in the ledger; the next run, with the partner back, must start the approvals and release the
drafts — without anyone editing the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e.test_campaign_release import DRAFTS, _dag, _env, _now, _release_cycle

from contentops.ledger import Ledger
from contentops.ledger_cli import main as ledger_cli

pytestmark = pytest.mark.e2e


def test_a_failed_approval_start_is_recovered_by_the_next_run(
    airflow_db: Path,
    sandbox: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = _env(sandbox, monkeypatch, tmp_path)
    ledger: Ledger = env["ledger"]
    env["workflow"].set_faults(error_rate=1.0)
    conf = {"targets": ["vip"]}
    first = _dag().test(logical_date=_now(), run_conf=conf)
    assert first.state == "failed"
    assert env["workflow"].context.store.all("instance") == []
    left = ledger.claims()
    assert left and all(c.run_id == first.run_id and "503" in (c.last_error or "") for c in left)
    ledger_cli(["--url", ledger.url, "claims"])
    listed = capsys.readouterr().out
    assert all(c.business_key in listed for c in left) and first.run_id in listed

    env["workflow"].set_faults()
    second, delivered = _release_cycle(_now(), conf)  # the approvals applied, then delivered
    assert second.state == delivered.state == "success"
    instances = env["workflow"].context.store.all("instance")
    assert {i["variables"]["asset_id"] for i in instances} == DRAFTS and len(instances) == len(DRAFTS)
    assert ledger.claims() == []
    assert "asset-spring-12" in {m["asset_id"] for m in env["vip"].context.store.all("media")}
