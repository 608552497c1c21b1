"""Backfills and Asset schedules with a real scheduler (``make run``'s Airflow standalone), not
``dag.test()``.

- ``airflow backfill create`` of ``rights_expiry_sweep`` over the last 3 days gives 3 successful
  runs, each deciding as of its own day: the license that ends in a week is "expiring" only on
  the days within ``horizon_days`` (8) of its end — today's run, not the two before — and the one
  that ended ten days ago is "expired" on every day.
- The same backfill again (``--reprocess-behavior completed``) starts no second workflow and
  writes nothing twice (workflow instances, Smint.io writes and the ledger unchanged).
- The sweep does not wait for its renewals: ``workflow_outcomes`` applies them (triggered here
  after each backfill) and emits ``contentops://rights-changes``; ``title_metadata_push``,
  scheduled on that Asset as well as hourly, runs after it (an asset-triggered run whose
  upstream event names the outcomes run) and succeeds.

The stack is the worker's ``make run`` (``demo_stack``: a stack of its own under ``make test``,
the browser tests' on one worker); the module leaves both DAGs paused again, as it found them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from deploy.airflow_stack import (
    BACKFILL_STACK,
    POLL_SECONDS,
    TERMINAL,
    AirflowApi,
    DemoStack,
    SharedDemo,
    failed_tasks,
)

from contentops.ledger import Ledger
from contentops_sandbox.smintio import seed

pytestmark = [pytest.mark.e2e, pytest.mark.deploy, BACKFILL_STACK]

DAG_ID = "rights_expiry_sweep"
OUTCOMES = "workflow_outcomes"  # applies the sweep's dispositions, emits contentops://rights-changes
LISTENER = "title_metadata_push"  # scheduled on contentops://rights-changes
DAYS = 3
#: the license that ends 7 days after the seed (seeded when the stack started, today) comes within
#: 8 days of its end between yesterday's and today's interval ends: the window sees both situations
HORIZON = 8
EXPIRING_ASSET, EXPIRING_LICENSE = "asset-spring-01", 0  # license 0 ends 7 days after the seed
EXPIRED_ASSET = "asset-spring-04"  # license 3 ended 10 days before the seed
PERPETUAL_ASSET = "asset-spring-10"  # license 9 has no end
FINDINGS = {"expired", "expiring", "limit_reached", "metadata_missing"}


@pytest.fixture(scope="module")
def demo(demo_stack: SharedDemo) -> DemoStack:
    return demo_stack.get()


@pytest.fixture(scope="module")
def api(demo: DemoStack) -> Iterator[AirflowApi]:
    api = demo.api()
    for dag_id in (DAG_ID, OUTCOMES, LISTENER):
        api.wait_for_dag(dag_id)
    yield api
    for dag_id in (
        DAG_ID,
        OUTCOMES,
        LISTENER,
    ):  # the next module on the shared stack finds them as make run --paused left them
        api.request("PATCH", f"dags/{dag_id}", json={"is_paused": True})


@pytest.fixture(scope="module")
def ledger(demo: DemoStack) -> Iterator[Ledger]:
    instance = Ledger(f"sqlite:///{demo.var / 'ledger.sqlite'}")
    yield instance
    instance.dispose()


def _backfill(demo: DemoStack, api: AirflowApi, *extra: str) -> None:
    """The README's command, for the 3 days before today, one day after the other (as the
    sweep's own schedule runs: in parallel, days race for the same workflows and tokens and
    wait for their retries).

    On SQLite a write that collides with the scheduler's can fail at once with "database is
    locked" after some days were queued; as the README says, the command is given again once
    those have run (days that already have a run are skipped). When nothing was queued (the
    command's transaction rolled back whole) it is given again with the DAG still paused: unpaused,
    the scheduler would run the latest day first and the backfill would lack it. With the other
    stacks of ``make test`` running beside this one, a busy machine makes the collision likelier:
    five tries."""
    today = datetime.now(UTC).date()
    # the daily intervals that ended in the last 3 days (their logical dates are the day before)
    dates = [(today - timedelta(days=DAYS)).isoformat(), today.isoformat()]
    conf = json.dumps({"horizon_days": HORIZON})
    output = ""
    backfills_before = len(api.request("GET", "backfills", params={"dag_id": DAG_ID})["backfills"])
    for _attempt in range(5):
        result = demo.airflow(
            "backfill", "create", "--dag-id", DAG_ID, "--from-date", dates[0], "--to-date", dates[1],
            "--dag-run-conf", conf, "--max-active-runs", "1", *extra,
        )  # fmt: skip
        if result.returncode == 0:
            return
        output = result.stdout + result.stderr
        assert "database is locked" in output, output
        if len(api.request("GET", "backfills", params={"dag_id": DAG_ID})["backfills"]) > backfills_before:
            api.unpause(DAG_ID)  # the days already queued run, then the backfill is complete
            _wait_until_idle(api, DAG_ID)
        else:
            time.sleep(2.0)  # nothing queued: again, still paused
    raise AssertionError(output)


def _wait_until_idle(api: AirflowApi, dag_id: str, timeout: float = 900.0) -> list[dict[str, Any]]:
    """Until no run of the DAG is queued or running (the backfill's and the scheduler's own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.runs(dag_id)
        backfills = api.request("GET", "backfills", params={"dag_id": dag_id})["backfills"]
        if (
            runs
            and all(r["state"] in ("success", "failed") for r in runs)
            and all(b["completed_at"] for b in backfills)
        ):
            return runs
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{dag_id} still busy after {timeout:.0f} s: {[(r['dag_run_id'], r['state']) for r in runs]}")


def _apply_outcomes(api: AirflowApi) -> str:
    """One workflow_outcomes run (unpaused for it, paused again), waited for; its run id."""
    api.unpause(OUTCOMES)
    try:
        run_id = api.trigger(OUTCOMES)
        assert api.wait_for_run(OUTCOMES, run_id, timeout=600)["state"] == "success", failed_tasks(
            api, OUTCOMES, run_id
        )
        _wait_until_idle(api, OUTCOMES)  # and any run the sweep's Asset queued
    finally:
        api.request("PATCH", f"dags/{OUTCOMES}", json={"is_paused": True})
    return run_id


def _decisions(ledger: Ledger, run_id: str) -> dict[str, str]:
    return {e.subject: e.action for e in ledger.audit_trail(run_id=run_id, pipeline=DAG_ID) if e.action in FINDINGS}


def _partner_state(demo: DemoStack, ledger: Ledger) -> dict[str, Any]:
    """What the sweep did outside Airflow: workflows started, Smint.io writes, ledger records."""
    sandboxes = demo.info["sandboxes"]
    instances = requests.get(f"{sandboxes['workflow']}/_sandbox/documents/instance", timeout=30).json()
    writes = requests.get(f"{sandboxes['smintio']}/_sandbox/history", params={"kind": "asset"}, timeout=30).json()
    return {
        "workflow_instances": sorted((i["id"], i["businessKey"]) for i in instances),
        "smintio_writes": sorted((w["seq"], w["id"], w["action"]) for w in writes),
        "ledger_deliveries": [(d.pipeline, d.asset_id, d.target, d.status) for d in ledger.deliveries()],
        "ledger_effects": len(ledger.effects()),
    }


def test_a_backfill_of_the_last_days_decides_each_day_as_of_that_day(
    demo: DemoStack, api: AirflowApi, ledger: Ledger
) -> None:
    _backfill(demo, api)
    # created while the DAG is paused, the backfill has every day of the window (unpausing makes
    # the scheduler run the latest interval too, which would otherwise be there first)
    api.unpause(DAG_ID)
    runs = [r for r in _wait_until_idle(api, DAG_ID) if r["run_type"] == "backfill"]
    assert len(runs) == DAYS, [(r["dag_run_id"], r["data_interval_end"]) for r in runs]
    for run in runs:
        assert run["state"] == "success", failed_tasks(api, DAG_ID, run["dag_run_id"])

    license_end = ledger.license(seed.stable_uuid("lpt", EXPIRING_LICENSE))
    assert license_end is not None and license_end.expires_at is not None
    ends = license_end.expires_at
    seen_for_expiring = set()
    for run in runs:
        as_of = datetime.fromisoformat(run["data_interval_end"].replace("Z", "+00:00"))
        decided = _decisions(ledger, run["dag_run_id"])
        assert decided.get(EXPIRED_ASSET) == "expired", (as_of, decided)
        assert PERPETUAL_ASSET not in decided
        within_horizon = ends - timedelta(days=HORIZON) <= as_of < ends
        assert decided.get(EXPIRING_ASSET) == ("expiring" if within_horizon else None), (as_of, ends, decided)
        seen_for_expiring.add(decided.get(EXPIRING_ASSET))
    # the window spans the day the license came within the horizon: both situations were decided
    assert seen_for_expiring == {"expiring", None}
    _apply_outcomes(api)  # the renewals the days started are applied once they ended


def test_the_same_backfill_again_delivers_nothing_twice(demo: DemoStack, api: AirflowApi, ledger: Ledger) -> None:
    _wait_until_idle(api, DAG_ID)
    before = _partner_state(demo, ledger)
    assert before["workflow_instances"], "the first backfill started the renewal workflows"
    assert before["smintio_writes"], "the first backfill wrote the dispositions back"
    assert len({key for _, key in before["workflow_instances"]}) == len(before["workflow_instances"])

    api.request("PATCH", f"dags/{DAG_ID}", json={"is_paused": True})  # queued together, as the first time
    _backfill(demo, api, "--reprocess-behavior", "completed")
    api.unpause(DAG_ID)
    runs = [r for r in _wait_until_idle(api, DAG_ID) if r["run_type"] == "backfill"]
    assert len(runs) == DAYS and all(r["state"] == "success" for r in runs)
    _apply_outcomes(api)
    assert _partner_state(demo, ledger) == before


def test_a_dag_scheduled_on_the_sweeps_asset_runs_after_it_emits(api: AirflowApi) -> None:
    """Unpaused only now (a paused consumer is not queued), so the backfills above do not feed it.
    A sweep with a year's horizon starts renewals the backfills did not; workflow_outcomes applies
    them and emits contentops://rights-changes."""
    api.unpause(LISTENER)
    api.unpause(DAG_ID)
    _wait_until_idle(api, DAG_ID)
    sweep = api.trigger(DAG_ID, conf={"horizon_days": 365})
    assert api.wait_for_run(DAG_ID, sweep, timeout=300)["state"] == "success", failed_tasks(api, DAG_ID, sweep)
    applied = _apply_outcomes(api)
    deadline = time.monotonic() + 300
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = [r for r in api.runs(LISTENER) if r["run_type"] == "asset_triggered" and r["state"] in TERMINAL]
        if runs:
            break
        time.sleep(POLL_SECONDS)
    assert runs, f"{LISTENER} did not run after workflow_outcomes emitted contentops://rights-changes"
    run = runs[0]
    assert run["state"] == "success", failed_tasks(api, LISTENER, run["dag_run_id"])
    events = api.request("GET", f"dags/{LISTENER}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")["asset_events"]
    # the events since the consumer's previous run: the outcomes runs' (the backfilled days' too)
    assert {(e["name"], e["source_dag_id"]) for e in events} == {("contentops://rights-changes", OUTCOMES)}
    assert {e["source_run_id"] for e in events} & ({applied} | {r["dag_run_id"] for r in api.runs(OUTCOMES)})
