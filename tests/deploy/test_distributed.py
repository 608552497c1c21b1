"""The distributed deployment of ``docker-compose.yaml``, run without Docker on this machine's
services: Airflow's metadata database in PostgreSQL, the CeleryExecutor with Redis as broker,
and a Celery worker, the scheduler, the dag-processor, the triggerer and the api-server as
separate processes, plus the sandboxes; the ledger in a PostgreSQL database of its own.

``campaign_release`` is triggered through the REST API (JWT from ``/auth/token``), its tasks
must have run on the Celery worker, its deliveries must be in the PostgreSQL ledger, and every
process the test started must be gone at the end.

Isolation: databases with unique names (dropped after), a Redis database number nobody uses
(only that one is flushed), a Celery queue of its own, free ports everywhere.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet
from deploy.airflow_stack import (
    DISTRIBUTED_STACK,
    POLL_SECONDS,
    PROJECT,
    TEST_STACK_SETTINGS,
    AirflowApi,
    ProcessWatch,
    failed_tasks,
    start_process,
    stop_group,
)

from contentops.ledger import Ledger
from contentops_sandbox.connections import demo_connections
from contentops_sandbox.launcher import free_port
from contentops_sandbox.registry import SANDBOXES

pytestmark = [pytest.mark.deploy, pytest.mark.postgres, pytest.mark.e2e, DISTRIBUTED_STACK]

REDIS_URL = "redis://127.0.0.1:6379"
DAG_ID = "campaign_release"
CAMPAIGN = "spring-launch-2027"
OPTIONS = {
    "smintio": {"seeded_transactions": 24},
    "workflow": {"auto_complete": {"asset_approval": {"outcome": "approved", "after_seconds": 0}}},
}


@dataclass
class Topology:
    """The running deployment: where things are, and every process it started."""

    home: Path
    api_url: str
    ledger_url: str
    worker_name: str
    queue: str
    processes: dict[str, Any] = field(default_factory=dict)
    watch: ProcessWatch = field(default_factory=lambda: ProcessWatch([]))

    def log(self, name: str) -> str:
        path = self.home / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.watch.scan()
        for process in reversed(list(self.processes.values())):
            stop_group(process)


def _free_redis_db(client_url: str) -> int:
    """A Redis database number with nothing in it (8-15; 0-7 are left to others)."""
    for number in range(15, 7, -1):
        if redis.Redis.from_url(f"{client_url}/{number}").dbsize() == 0:
            return number
    pytest.skip("no empty Redis database in 8-15")


def _wait_http(url: str, timeout: float, topology: Topology) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in topology.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{topology.log(name)[-3000:]}")
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{url} not answering after {timeout:.0f} s")


def _wait_healthy(api_url: str, timeout: float, topology: Topology) -> None:
    """Scheduler, dag-processor and triggerer report healthy heartbeats to the metadata DB."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        topology.watch.scan()
        last = requests.get(f"{api_url}/api/v2/monitor/health", timeout=30).json()
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        if all((last.get(part) or {}).get("status") == "healthy" for part in parts):
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"not healthy after {timeout:.0f} s: {last}")


@pytest.fixture(scope="module")
def topology(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    tag = uuid.uuid4().hex[:10]
    airflow_db, ledger_db = f"contentops_airflow_{tag}", f"contentops_ledger_{tag}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in (airflow_db, ledger_db):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = sa.engine.make_url(pg_server)
    airflow_url = base.set(database=airflow_db).render_as_string(hide_password=False)
    ledger_url = base.set(database=ledger_db).render_as_string(hide_password=False)
    redis_db = _free_redis_db(REDIS_URL)

    home = tmp_path_factory.mktemp("distributed")
    api_port = free_port()
    sandbox_ports = {name: free_port() for name in SANDBOXES}
    sandbox_urls = {name: f"http://127.0.0.1:{port}" for name, port in sandbox_ports.items()}
    api_url = f"http://127.0.0.1:{api_port}"
    topology = Topology(
        home=home, api_url=api_url, ledger_url=ledger_url, worker_name=f"celery-{tag}", queue=f"contentops_{tag}"
    )
    bin_dir = Path(sys.executable).parent
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "CONTENTOPS_HOME": str(home / "var"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": airflow_url,  # psycopg 3 does both (no asyncpg here)
        "AIRFLOW__CELERY__BROKER_URL": f"{REDIS_URL}/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + airflow_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": topology.queue,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        **TEST_STACK_SETTINGS,
    }
    (home / "passwords.json").write_text(json.dumps({"admin": "distributed-test"}))
    # the partner connections and the ledger, as environment variables (one of the documented ways)
    for conn_id, conn in demo_connections(sandbox_urls, ledger_url).items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    airflow = str(bin_dir / "airflow")
    logs = home / "logs"
    try:
        # the sandboxes need no Airflow: they start while the metadata database is migrated
        topology.processes["sandboxes"] = start_process(
            "sandboxes",
            [
                sys.executable, "-m", "contentops_sandbox", "--state-dir", str(home / "sandbox"),
                "--ports", json.dumps(sandbox_ports), "--options", json.dumps(OPTIONS),
            ],
            env,
            logs,
        )  # fmt: skip
        migrate = start_process("db-migrate", [airflow, "db", "migrate"], env, logs)
        assert migrate.wait(timeout=600) == 0, topology.log("db-migrate")[-3000:]
        worker_env = {**env, "CONTENTOPS_WORKER_NAME": topology.worker_name}
        worker_env["PYTHONPATH"] = str(Path(__file__).resolve().parent)
        worker_env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "airflow_stack.celery_worker_hostname"
        commands = {
            "api-server": ([airflow, "api-server", "--port", str(api_port)], env),
            "scheduler": ([airflow, "scheduler"], env),
            "dag-processor": ([airflow, "dag-processor"], env),
            "triggerer": ([airflow, "triggerer"], env),
            "celery-worker": (
                [airflow, "celery", "worker", "--queues", topology.queue, "--celery-hostname",
                 f"{topology.worker_name}@%h", "--concurrency", "4", "--without-gossip", "--without-mingle"],
                worker_env,
            ),
        }  # fmt: skip
        for name, (command, process_env) in commands.items():
            topology.processes[name] = start_process(name, command, process_env, logs)
        topology.watch = ProcessWatch(p.pid for p in topology.processes.values())
        _wait_http(f"{api_url}/api/v2/monitor/health", 300, topology)
        _wait_healthy(api_url, 300, topology)
        yield topology
    finally:
        topology.stop()
        topology.watch.kill_survivors()
        with admin.connect() as conn:
            for name in (airflow_db, ledger_db):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        redis.Redis.from_url(f"{REDIS_URL}/{redis_db}").flushdb()


def test_campaign_release_runs_on_the_celery_worker_and_delivers_into_the_postgres_ledger(
    topology: Topology,
) -> None:
    api = AirflowApi(topology.api_url, "admin", "distributed-test")
    api.wait_for_dag(DAG_ID, timeout=300)
    api.unpause(DAG_ID)
    run_id = api.trigger(
        DAG_ID,
        conf={"campaign": CAMPAIGN, "regions": ["emea", "north_america"], "poll_interval": 1},
        run_id=f"distributed__{uuid.uuid4().hex[:8]}",
    )
    run = api.wait_for_run(DAG_ID, run_id, timeout=900)
    assert run["state"] == "success", failed_tasks(api, DAG_ID, run_id)

    # the verdict is an EmptyOperator: the scheduler marks it done without sending it to a worker
    executed = [
        ti for ti in api.task_instances(DAG_ID, run_id) if ti["state"] == "success" and ti["task_id"] != "verdict"
    ]
    assert executed
    # every task ran in the Celery worker process (its hostname), taken from the test's own queue
    assert {ti["hostname"] for ti in executed} == {topology.worker_name}
    assert {ti["queue"] for ti in executed} == {topology.queue}
    worker_log = topology.log("celery-worker")
    assert "execute_workload" in worker_log and run_id in worker_log

    ledger = Ledger(topology.ledger_url)
    try:
        assert ledger.engine.dialect.name == "postgresql"
        effects = ledger.effects(run_id=run_id)  # what this run sent, each exactly once
        delivered = {(d.asset_id, d.target) for d in ledger.deliveries(pipeline=DAG_ID, status="delivered")}
        summary = ledger.run_summary(DAG_ID, run_id)
    finally:
        ledger.dispose()
    sent = {(e["asset_id"], e["target"]) for e in effects if e["status"] == "done"}
    assert sent and sent <= delivered
    targets = {target for _, target in sent}
    assert "vip:ITM-1001"  # the catalog item the campaign's visuals show in targets
    assert {"trading_grid:community-emea", "trading_grid:community-north_america"} <= targets
    assert summary is not None and int(summary["counts"].get("delivered", 0)) > 0


def test_every_process_it_started_stops(topology: Topology) -> None:
    assert topology.watch.scan() >= 6  # sandboxes, api-server, scheduler, dag-processor, triggerer, worker (+ children)
    topology.stop()
    assert topology.watch.survivors() == []
