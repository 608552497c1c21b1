"""The documented example DAG (docs/examples/partner_refresh_example.py) end to end: one region's
approved images re-published to Exstream and attached to its Trading Grid launch kit, once, in
the campaign release's ledger scope (a later campaign_release sends none of them again)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag
from e2e.test_campaign_release import CAMPAIGN, RELEASED, _env, _kits, _now, _release_cycle, _resources

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
#: approved before any workflow: the drafts of RELEASED need campaign_release's approvals
APPROVED = {"asset-spring-01", "asset-spring-03", "asset-spring-08"}


def _uploads(env: dict[str, Any]) -> int:
    return len([h for h in env["exstream"].context.store.history(kind="resource") if h["action"] == "upload"])


def test_the_example_refreshes_one_region_once_in_the_releases_ledger_scope(
    airflow_db: Path, sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = _env(sandbox, monkeypatch, tmp_path)
    example = load_dag("partner_refresh_example", folder=EXAMPLES)
    conf = {"campaign": CAMPAIGN, "region": "emea"}
    assert example.test(run_conf=conf).state == "success"
    assert set(_resources(env)) == APPROVED  # drafts are refused by the gate: no approvals here
    kits = _kits(env)
    assert set(kits) == {"community-emea"}  # the one region's community only
    assert set(kits["community-emea"]["attachments"]) == APPROVED
    assert not env["vip"].context.store.all("media")  # not a target of the refresh
    uploads = _uploads(env)

    assert example.test(run_conf=conf).state == "success"  # again: nothing twice
    assert _uploads(env) == uploads

    first, completed = _release_cycle(_now())  # the drafts' approvals applied, then delivered
    assert first.state == completed.state == "success"
    assert set(_resources(env)) == RELEASED
    assert _uploads(env) == uploads + len(RELEASED - APPROVED)  # what the example published is not sent again
