"""Running Airflow stacks for the deployment, browser and scheduler tests.

``DemoStack`` is ``make run`` itself (``python -m contentops_sandbox.launcher``) on free ports
with a state folder of its own; ``AirflowApi`` talks to any Airflow's REST API (``/api/v2``)
with a JWT from ``/auth/token``, as a user's script would; ``ProcessWatch`` remembers every
process a stack started so a test can prove none of them outlives it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import requests

from contentops_sandbox.launcher import die_with_parent  # a session of its own, SIGTERM if the test dies

PROJECT = Path(__file__).resolve().parents[2]
TERMINAL = {"success", "failed"}
#: How often a test asks a stack for news: a run's state, a DAG's parse (one cheap REST call).
POLL_SECONDS = 0.5
#: Timing settings of the stacks tests start (``make run`` in ``DemoStack``): the dag-processor
#: parses each DAG file when the stack starts and then, by Airflow's default, every 30 s again —
#: on a 2-core machine that re-parsing competes with the tasks under test. The DAG files do not
#: change while a test runs.
TEST_STACK_SETTINGS = {"AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600"}
#: Each Airflow stack the suite starts has a pytest-xdist group of its own (``make test`` runs
#: ``--dist loadgroup``): a group's tests run on one worker, one after the other, and the groups
#: run side by side on different workers. A stack spends most of its time waiting (for its task
#: processes, the triggerer, a browser), not on the CPU: one after the other, the stacks were
#: the suite's critical path (the backfill, browser and distributed modules ~10 of its ~18
#: minutes) while the other workers had long finished. The modules of one group share its stack
#: where they can (``demo_stack`` is one ``make run`` per worker).
BACKFILL_STACK = pytest.mark.xdist_group("stack_backfill")
BROWSER_STACK = pytest.mark.xdist_group("stack_browser")
DISTRIBUTED_STACK = pytest.mark.xdist_group("stack_distributed")
FAULT_MATRIX_STACK = pytest.mark.xdist_group("stack_fault_matrix")


# -- processes -----------------------------------------------------------------------------
def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, session, start time) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[3]), int(fields[19])


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


class ProcessWatch:
    """Every process that belongs to a stack: the roots, their descendants and the members of
    their sessions (task processes may leave their parent's process group, not its session).

    Identity is (pid, start time), so a recycled pid is never mistaken for a survivor."""

    def __init__(self, roots: Iterable[int]) -> None:
        self.roots = set(roots)
        self.seen: set[tuple[int, int]] = set()

    def scan(self) -> int:
        """Add what runs now; returns how many processes the stack has at this moment."""
        table = {pid: st for pid in _all_pids() if (st := _stat(pid)) is not None and st[0] != "Z"}
        members = {pid for pid in self.roots if pid in table}
        while True:  # the roots run in sessions of their own (start_new_session), never the test's
            sessions = {table[pid][2] for pid in members}
            grown = members | {pid for pid, st in table.items() if st[1] in members or st[2] in sessions}
            if grown == members:
                break
            members = grown
        for pid in members:
            self.seen.add((pid, table[pid][3]))
        return len(members)

    def survivors(self) -> list[str]:
        """Processes seen while the stack ran that still exist (zombies count as gone)."""
        alive = []
        for pid, started in sorted(self.seen):
            st = _stat(pid)
            if st is not None and st[3] == started and st[0] != "Z":
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                alive.append(f"{pid}: {cmd[:160]}")
        return alive

    def kill_survivors(self) -> None:
        """Last resort after a failed test, so a broken stack does not load the machine."""
        for pid, started in self.seen:
            st = _stat(pid)
            if st is not None and st[3] == started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def stop_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = 30.0) -> None:
    """Signal a process group started with ``start_new_session=True``; kill it if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- the REST API --------------------------------------------------------------------------
class AirflowApi:
    """Airflow's public REST API with a bearer token from ``/auth/token``."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        response = self.session.post(
            f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; a slow answer (a busy 2-core machine, SQLite locked) is asked again."""
        for attempt in range(4):
            try:
                response = self.session.request(method, f"{self.url}/api/v2/{path.lstrip('/')}", timeout=60, **kwargs)
                break
            except (requests.ConnectionError, requests.Timeout):
                if attempt == 3 or method not in ("GET", "PATCH"):
                    raise
                time.sleep(2.0)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict[str, Any]:
        """Until the dag-processor has parsed and stored the DAG."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.session.get(f"{self.url}/api/v2/dags/{dag_id}", timeout=30)
            if response.status_code == 200:
                return response.json()
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"DAG {dag_id} not parsed within {timeout:.0f} s")

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if run_id:
            body["dag_run_id"] = run_id
        return str(self.request("POST", f"dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.request("GET", f"dags/{dag_id}/dagRuns", params={"limit": 100, **params})["dag_runs"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.request("GET", f"dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in TERMINAL:
                return run
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{dag_id} {run_id} still {run.get('state')} after {timeout:.0f} s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(
            self.request("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 500})[
                "task_instances"
            ]
        )

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
        body = self.request(
            "GET",
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"map_index": map_index, "full_content": True},
            headers={"Accept": "application/json"},
        )
        content = body.get("content", "")
        if isinstance(content, list):
            return "\n".join(part.get("event", "") if isinstance(part, dict) else str(part) for part in content)
        return str(content)


def failed_tasks(api: AirflowApi, dag_id: str, run_id: str) -> str:
    """For assertion messages: which tasks failed, with the end of the first one's log."""
    failed = [ti for ti in api.task_instances(dag_id, run_id) if ti["state"] not in ("success", "skipped")]
    if not failed:
        return "no failed task"
    first = failed[0]
    log = api.task_log(dag_id, run_id, first["task_id"], max(1, first["try_number"]), first["map_index"])
    return f"{[(t['task_id'], t['map_index'], t['state']) for t in failed]}\n{log[-3000:]}"


# -- make run ------------------------------------------------------------------------------
class DemoStack:
    """``make run`` in a subprocess: every sandbox + ``airflow standalone``, on free ports."""

    def __init__(
        self,
        var: Path,
        *,
        options: dict[str, Any] | None = None,
        dags: list[Path] | None = None,
        paused: bool = True,
    ) -> None:
        self.var = var
        self.command = [sys.executable, "-m", "contentops_sandbox.launcher", "--var", str(var), "--free-ports"]
        if paused:  # only what a test unpauses runs: a 2-core machine runs the suite
            self.command.append("--paused")
        if options is not None:
            self.command += ["--options", json.dumps(options)]
        for folder in dags or []:
            self.command += ["--dags", str(folder)]
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.watch = ProcessWatch([])
        self.output = var / "launcher.out"
        self.startup_seconds = 0.0

    def start(self, timeout: float = 420.0) -> DemoStack:
        self.var.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        # as from a user's shell: none of the test session's own Airflow settings
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CONTENTOPS"))}
        env.update(TEST_STACK_SETTINGS)
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                self.command, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
            )
        self.watch = ProcessWatch([self.process.pid])
        state = self.var / "run.json"
        deadline = time.monotonic() + timeout
        while not state.exists():
            self.watch.scan()
            if self.process.poll() is not None:
                raise RuntimeError(f"make run exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"make run not up within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)
        self.startup_seconds = time.monotonic() - started
        self.info = json.loads(state.read_text())
        self.watch.scan()
        return self

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def password(self) -> str:
        return str(json.loads((self.var / "airflow" / "passwords.json").read_text())["admin"])

    def api(self) -> AirflowApi:
        return AirflowApi(self.url, "admin", self.password)

    def airflow(self, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
        """An ``airflow`` command against this stack (as the README's tour runs it)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CONTENTOPS"))}
        env.update(self.info["airflow_env"])  # the test session's own Airflow settings must not leak in
        binary = Path(sys.executable).parent / "airflow"
        return subprocess.run(
            [str(binary), *args], env=env, cwd=PROJECT, capture_output=True, text=True, timeout=timeout, check=False
        )

    def log_tail(self, lines: int = 60) -> str:
        parts = []
        for path in (self.output, self.var / "logs" / "airflow.log", self.var / "logs" / "sandboxes.log"):
            if path.exists():
                parts.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts)

    def interrupt(self, timeout: float = 90.0) -> int:
        """Ctrl-C, as a terminal sends it (SIGINT to the launcher's process group)."""
        assert self.process is not None
        self.watch.scan()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(self.process, signal.SIGKILL)
            return -9

    def close(self) -> None:
        """Teardown: stop it if a test did not, and leave nothing behind whatever happened."""
        if self.process is not None and self.process.poll() is None:
            self.interrupt()
        self.watch.kill_survivors()


#: ``make run`` as the backfill and browser tests use it (``demo_stack`` in ``tests/conftest.py``):
#: the demo, except that Smint.io seeds one cycle of the twelve license situations and reviewers
#: answer at once (the demo's take a minute) — renewals renew (no takedown: a retired asset would
#: leave later days' assessment), exceptions clear, approvals approve.
SHARED_DEMO_OPTIONS: dict[str, Any] = {
    "smintio": {"seeded_transactions": 12},
    "workflow": {
        "auto_complete": {
            "rights_renewal": {"outcome": "renew", "after_seconds": 0},
            "compliance_exception": {"outcome": "cleared", "after_seconds": 0},
            "asset_approval": {"outcome": "approved", "after_seconds": 0},
            "client_approval_northwind": {"outcome": "approved", "after_seconds": 0},
        }
    },
}


class SharedDemo:
    """One ``make run`` for every module that asks: starting one costs ~35 s of a 2-core machine.

    A module that stops it (the browser module's Ctrl-C test) ends it for good; whoever asks
    next gets a fresh one."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.started: list[DemoStack] = []

    def get(self) -> DemoStack:
        current = self.started[-1] if self.started else None
        if current is None or current.process is None or current.process.poll() is not None:
            current = DemoStack(self.base / f"var-{len(self.started)}", options=SHARED_DEMO_OPTIONS)
            self.started.append(current)
            current.start()
        return current

    def close(self) -> None:
        for stack in self.started:
            stack.close()


def start_process(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    """One component in a session of its own, its output in ``<log_dir>/<name>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{name}.log").open("ab") as out:
        return subprocess.Popen(
            command, env=env, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )


def celery_worker_hostname() -> str:
    """``[core] hostname_callable`` of the distributed test's Celery worker: task instances that
    report this name ran in that worker."""
    return os.environ.get("CONTENTOPS_WORKER_NAME", "unnamed-worker")
