"""A manual title_metadata_push naming an asset Smint.io does not have (or a hostile id) fails
that step clearly and still writes the run's report; nothing is attached anywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e import test_title_metadata_push as titles

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    return titles.env.__wrapped__(connect, ledger_url, monkeypatch, tmp_path)  # type: ignore[no-any-return]


@pytest.mark.parametrize("asset_id", ["asset-nobody-has", "../../_sandbox/faults"])
def test_a_run_with_a_bad_asset_id_fails_clearly_and_writes_its_report(
    airflow_db: Path, world: dict[str, Any], asset_id: str
) -> None:
    run = world["dag"].test(
        logical_date=world["run_after"], run_conf={"isbn": titles.LAUNCH_ISBN, "asset_id": asset_id}
    )
    states = {ti.task_id: ti.state for ti in run.get_task_instances() if ti.map_index < 0}
    assert run.state == "failed", states
    assert states["attach_on_request"] == "failed" and states["report"] == "success", states
    summary = world["ledger"].run_summary(titles.DAG_ID, run.run_id)
    assert summary is not None and Path(summary["report_path"]).is_file()
    assert "This run failed" in Path(summary["report_path"]).read_text()
    assert not [key for key in titles._resources(world["consonance"]) if key[1] == asset_id]
