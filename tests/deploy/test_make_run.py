"""``make run`` as a user runs it: every sandbox the registry lists and Airflow standalone come
up, the connections point at the sandboxes, the banner tells where and how to log in, and
Ctrl-C leaves nothing running.

The launcher runs on free ports with a state folder of its own (``--free-ports --var``), so the
test can run next to a ``make run`` on the default ports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from deploy.airflow_stack import AirflowApi, DemoStack

from contentops_sandbox.registry import SANDBOXES

pytestmark = [pytest.mark.deploy, pytest.mark.e2e]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    stack = DemoStack(tmp_path_factory.mktemp("make-run") / "var").start()
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def api(demo: DemoStack) -> AirflowApi:
    return demo.api()


def test_the_banner_tells_where_to_go_and_how_to_log_in(demo: DemoStack) -> None:
    banner = demo.output.read_text()
    assert demo.url in banner
    assert f"admin / {demo.password}" in banner
    for name, url in demo.info["sandboxes"].items():
        assert f"{url}/_sandbox/docs" in banner, name
    assert "Ctrl-C stops everything" in banner


def test_every_registered_sandbox_serves_its_seeded_state(demo: DemoStack) -> None:
    assert set(demo.info["sandboxes"]) == set(SANDBOXES)
    for name, url in demo.info["sandboxes"].items():
        stats = requests.get(f"{url}/_sandbox/stats", timeout=10)
        assert stats.status_code == 200, (name, stats.text)
    # the demo data is there: Smint.io's license feed has seeded transactions
    state = Path(demo.var / "sandbox")
    assert any(state.iterdir()), "the sandboxes keep their seeded state under var/sandbox"


def test_every_sandbox_has_its_airflow_connection(api: AirflowApi, demo: DemoStack) -> None:
    listed = api.request("GET", "connections", params={"limit": 100})["connections"]
    connections = {c["connection_id"]: c for c in listed}
    for name, spec in SANDBOXES.items():
        assert spec.conn_id in connections, f"no connection for sandbox {name}"
        port = demo.info["sandboxes"][name].rsplit(":", 1)[1]
        assert f":{port}" in json.dumps(connections[spec.conn_id]), f"{spec.conn_id} does not point at {name}"
    assert "contentops_ledger" in connections


def test_the_project_dags_are_there(api: AirflowApi) -> None:
    dag = api.wait_for_dag("rights_expiry_sweep")
    assert dag["is_paused"] is True  # --paused; `make run` itself starts them unpaused


def test_ctrl_c_stops_everything_it_started(demo: DemoStack) -> None:
    demo.watch.scan()
    assert len(demo.watch.seen) >= 5  # launcher, sandboxes, standalone and its components
    code = demo.interrupt()
    assert code == 0, demo.log_tail()
    assert demo.watch.survivors() == []
    assert not (demo.var / "run.json").exists()
    assert "Stopped." in demo.output.read_text()
