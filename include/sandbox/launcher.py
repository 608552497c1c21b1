"""``make run``: the whole demo on one machine — every sandbox plus Airflow standalone.

What it does, in order:

1. serves every partner sandbox (``python -m contentops_sandbox``) on its fixed port;
2. prepares ``var/airflow`` as AIRFLOW_HOME with this project's ``dags/`` and ``plugins/``,
   a small LocalExecutor (parallelism suited to a 2-core machine) and a generated login;
3. migrates Airflow's metadata database and imports the six partner connections pointing
   at the sandboxes (plus the ledger connection) — the same connections a user points at
   the real services;
4. runs ``airflow standalone`` and waits until ``/api/v2/monitor/health`` says every
   component is healthy, then prints the URL, the login and a short tour.

Ctrl-C (or SIGTERM) stops everything it started: each child runs in its own process group,
which is terminated (and killed if it lingers); the children are also told to die with
this process if it is killed outright.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from contentops_sandbox.connections import demo_connections
from contentops_sandbox.registry import SANDBOXES

PROJECT = Path(__file__).resolve().parents[2]
PR_SET_PDEATHSIG = 1
#: Demo behaviour of the sandboxes: reviewers in the Workflow sandbox answer after a minute
#: (expired licenses are taken down, the rest renewed; approvals approved), so demo runs finish.
DEMO_OPTIONS = {
    "workflow": {
        "auto_complete": {
            "rights_renewal": {
                "outcome": "renew",
                "after_seconds": 60,
                "by_variable": {"finding": {"expired": "takedown"}},
            },
            "compliance_exception": {"outcome": "cleared", "after_seconds": 60},
            "asset_approval": {"outcome": "approved", "after_seconds": 60},
            "regional_localization_review": {"outcome": "approved", "after_seconds": 60},
            "dam_onboarding": {"outcome": "approved", "after_seconds": 60, "variables": {"categories": ["onboarded"]}},
        }
    }
}


def airflow_environment(var: Path, api_port: int) -> dict[str, str]:
    """Environment for every Airflow process of the local demo."""
    home = var / "airflow"
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "CONTENTOPS_HOME": str(var),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def ensure_login(home: Path) -> str:
    """A generated admin password kept across runs (printed at start)."""
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    if passwords.exists():
        stored = json.loads(passwords.read_text())
        if stored.get("admin"):
            return str(stored["admin"])
    password = secrets.token_urlsafe(9)
    passwords.write_text(json.dumps({"admin": password}))
    passwords.chmod(0o600)
    return password


def _die_with_parent() -> None:
    """Runs in the child before exec: its own process group, and SIGTERM when we die."""
    os.setsid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Children:
    """The processes this launcher started, stopped together."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, env=env, cwd=PROJECT, preexec_fn=_die_with_parent)
        self.processes.append((name, process))
        return process

    def stop(self, grace: float = 20.0) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", flush=True)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def first_exited(self) -> tuple[str, int] | None:
        for name, process in self.processes:
            code = process.poll()
            if code is not None:
                return name, code
        return None


def wait_healthy(url: str, timeout: float, children: Children) -> dict[str, Any]:
    """Poll Airflow's health endpoint until every component reports healthy."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        exited = children.first_exited()
        if exited:
            raise RuntimeError(f"{exited[0]} exited with code {exited[1]} before Airflow was healthy")
        try:
            last = requests.get(f"{url}/api/v2/monitor/health", timeout=5).json()
            statuses = [part.get("status") for part in last.values() if isinstance(part, dict)]
            if statuses and all(status == "healthy" for status in statuses):
                return last
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1.0)
    raise TimeoutError(f"Airflow was not healthy within {timeout:.0f} s; last answer: {last}")


def write_connections(path: Path, host: str, var: Path) -> Path:
    urls = {name: f"http://{host}:{spec.port}" for name, spec in SANDBOXES.items()}
    path.write_text(json.dumps(demo_connections(urls, f"sqlite:///{var / 'ledger.sqlite'}"), indent=2))
    path.chmod(0o600)
    return path


def banner(url: str, password: str) -> str:
    sandboxes = "\n".join(
        f"    {name:<13} http://127.0.0.1:{spec.port}/_sandbox/docs" for name, spec in SANDBOXES.items()
    )
    return f"""
contentops is up.

  Airflow UI   {url}
  Login        admin / {password}
  Sandboxes
{sandboxes}

Tour (README.md has the long version):
  1. Open the UI and log in. DAGs -> rights_expiry_sweep -> Trigger: the form shows its Params.
  2. Watch the run (the Workflow sandbox's reviewers answer after a minute); open its "Run report" tab.
  3. Ask the ledger: .venv/bin/python -m contentops.ledger_cli quarantine
  4. Backfill last week: AIRFLOW_HOME=var/airflow .venv/bin/airflow backfill create \
       --dag-id rights_expiry_sweep --from-date <7 days ago> --to-date <yesterday>
  5. Faults on demand: http://127.0.0.1:8701/_sandbox/docs (PUT /_sandbox/faults)

Ctrl-C stops everything.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description="Sandboxes + Airflow standalone, ready to use.")
    parser.add_argument("--var", type=Path, default=PROJECT / "var", help="where state lives (default ./var)")
    parser.add_argument("--api-port", type=int, default=8080)
    parser.add_argument("--health-timeout", type=float, default=180.0)
    args = parser.parse_args(argv)

    var: Path = args.var.resolve()
    env = airflow_environment(var, args.api_port)
    home = Path(env["AIRFLOW_HOME"])
    password = ensure_login(home)
    airflow = str(Path(sys.executable).parent / "airflow")
    url = f"http://127.0.0.1:{args.api_port}"
    children = Children()

    def on_term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        children.start(
            "sandboxes",
            [
                sys.executable,
                "-m",
                "contentops_sandbox",
                "--state-dir",
                str(var / "sandbox"),
                "--options",
                json.dumps(DEMO_OPTIONS),
            ],
            env,
        )
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, cwd=PROJECT, stdout=subprocess.DEVNULL)
        connections = write_connections(home / "connections.json", "127.0.0.1", var)
        subprocess.run(
            [airflow, "connections", "import", "--overwrite", str(connections)],
            env=env,
            check=True,
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
        )
        children.start("airflow", [airflow, "standalone"], env)
        wait_healthy(url, args.health_timeout, children)
        print(banner(url, password), flush=True)
        while children.first_exited() is None:
            time.sleep(1.0)
        name, code = children.first_exited() or ("?", 0)
        print(f"{name} exited with code {code}; stopping the rest", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nStopping …", flush=True)
        return 0
    finally:
        children.stop()


if __name__ == "__main__":
    raise SystemExit(main())
