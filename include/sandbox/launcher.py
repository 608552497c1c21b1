"""``make run``: the whole demo on one machine — every sandbox plus Airflow standalone.

What it does, in order:

1. serves every partner sandbox the registry lists (``python -m contentops_sandbox``) on its
   fixed port; each seeds its demo data on first start (state under ``var/sandbox``);
2. prepares ``var/airflow`` as AIRFLOW_HOME with this project's ``dags/`` and ``plugins/``,
   a small LocalExecutor (parallelism suited to a 2-core machine), a generated login and a
   generated signing secret for the API's tokens;
3. migrates Airflow's metadata database and imports the partner connections pointing at the
   sandboxes (plus the ledger connection) — the same connections a user points at the real
   services;
4. runs ``airflow standalone`` and waits until ``/api/v2/monitor/health`` says every
   component is healthy, then prints the URL, the login and a short tour. Airflow's and the
   sandboxes' output go to ``var/logs/`` (``--verbose`` streams them to the terminal instead).

Ctrl-C (or SIGTERM) stops everything it started: each child runs in its own session; the
session is terminated, and whatever of it lingers (task processes that moved to a process
group of their own included) is killed. The children are also told to die with this process
if it is killed outright.

``--free-ports`` (or explicit ``--api-port`` / ``--sandbox-ports``) runs a second copy next
to the default one, which is what the tests do; ``var/run.json`` then says where it all is.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import requests
from cryptography.fernet import Fernet

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
            "client_approval_northwind": {"outcome": "approved", "after_seconds": 60},
            "client_usage_review_northwind": {"outcome": "approved", "after_seconds": 60},
            "regional_localization_review": {"outcome": "approved", "after_seconds": 60},
            "dam_onboarding": {"outcome": "approved", "after_seconds": 60, "variables": {"categories": ["onboarded"]}},
            "template_review": {"outcome": "approved", "after_seconds": 60},
            "compliance_review": {"outcome": "reviewed", "after_seconds": 60},
        }
    }
}
#: Airflow's own listening ports besides the API (defaults 8793, 8794, 8974); a second copy
#: of the stack on this machine needs free ones.
AIRFLOW_SIDE_PORTS = {
    "worker_log_server": "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
    "trigger_log_server": "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
    "scheduler_health": "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def secret_file(path: Path, nbytes: int) -> str:
    """A generated secret kept across runs (tokens and logins survive a restart)."""
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value)
    path.chmod(0o600)
    return value


def airflow_environment(
    var: Path,
    api_port: int,
    *,
    side_ports: dict[str, int] | None = None,
    dag_folders: list[Path] | None = None,
) -> dict[str, str]:
    """Environment for every Airflow process of the local demo.

    ``dag_folders`` beyond the project's ``dags/`` become DAG bundles of their own (tests
    add their test-only DAGs this way)."""
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
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": secret_file(home / "jwt_secret", 64),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            # tasks talk to the API server; on a busy small machine (SQLite) an answer may take a while
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    # the demo's own SQLite under var/airflow; a busy lock is waited for (up to a minute), not an error
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}?timeout=60"
    for name, port in (side_ports or {}).items():
        env[AIRFLOW_SIDE_PORTS[name]] = str(port)
    if dag_folders:
        folders = [("dags-folder", PROJECT / "dags")] + [(f"extra-{i}", p) for i, p in enumerate(dag_folders)]
        env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
            [
                {
                    "name": name,
                    "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                    "kwargs": {"path": str(path)},
                }
                for name, path in folders
            ]
        )
    return env


def write_airflow_cfg(home: Path, db_url: str) -> Path:
    """``var/airflow/airflow.cfg``: what an ``airflow …`` command typed in another terminal
    (the tour's backfill) needs to find this project and wait for SQLite's lock instead of
    failing. The launcher's own processes get the same through the environment.

    The Fernet key that encrypts stored Variables (rotated refresh tokens) is kept."""
    path = home / "airflow.cfg"
    previous = configparser.ConfigParser(interpolation=None)
    previous.read(path)
    fernet_key = previous.get("core", "fernet_key", fallback="") or Fernet.generate_key().decode()
    config = configparser.ConfigParser(interpolation=None)
    config["core"] = {
        "dags_folder": str(PROJECT / "dags"),
        "plugins_folder": str(PROJECT / "plugins"),
        "load_examples": "False",
        "executor": "LocalExecutor",
        "fernet_key": fernet_key,
    }
    config["database"] = {"sql_alchemy_conn": db_url}
    home.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        handle.write("# Written by `make run` (contentops_sandbox.launcher) at every start.\n")
        config.write(handle)
    path.chmod(0o600)
    return path


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


def die_with_parent() -> None:
    """Runs in the child before exec: a session of its own, and SIGTERM when we die."""
    os.setsid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def session_members(sid: int) -> list[int]:
    """Live (non-zombie) processes of a session: a child and everything it started, including
    task processes that moved to a process group of their own."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            members.append(int(entry.name))
    return members


class Children:
    """The processes this launcher started, stopped together."""

    def __init__(self, log_dir: Path | None = None) -> None:
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.log_dir = log_dir
        self._logs: list[IO[bytes]] = []

    def log_path(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir else None

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        output: IO[bytes] | None = None
        path = self.log_path(name)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            output = path.open("ab")
            self._logs.append(output)
        process = subprocess.Popen(
            command, env=env, cwd=PROJECT, preexec_fn=die_with_parent, stdout=output, stderr=output
        )
        self.processes.append((name, process))
        return process

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM every child's session, wait, then SIGKILL whatever of it is left."""
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
        for _, process in self.processes:
            # a session id is the pid of the child that created it (setsid above)
            lingering = session_members(process.pid)
            for pid in lingering:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            end = time.monotonic() + 5.0
            while lingering and time.monotonic() < end:
                time.sleep(0.2)
                lingering = session_members(process.pid)
            for pid in lingering:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for log in self._logs:
            log.close()

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


def wait_listening(urls: dict[str, str], timeout: float, children: Children) -> None:
    """Wait until every sandbox answers (its admin API), so the connections point at something."""
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        exited = children.first_exited()
        if exited:
            raise RuntimeError(f"{exited[0]} exited with code {exited[1]} while the sandboxes started")
        for name, url in list(pending.items()):
            with contextlib.suppress(requests.RequestException):
                requests.get(f"{url}/_sandbox/docs", timeout=2)
                pending.pop(name)
        time.sleep(0.3)
    if pending:
        raise TimeoutError(f"sandboxes not answering after {timeout:.0f} s: {sorted(pending)}")


def write_connections(
    path: Path, urls: dict[str, str], var: Path, *, ledger_url: str | None = None
) -> dict[str, dict[str, Any]]:
    """The connections file ``airflow connections import`` reads; warns about sandboxes without one."""
    connections = demo_connections(urls, ledger_url or f"sqlite:///{var / 'ledger.sqlite'}")
    for name, spec in SANDBOXES.items():
        if spec.conn_id not in connections:
            print(f"warning: no demo connection for sandbox {name!r} ({spec.conn_id})", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(connections, indent=2))
    path.chmod(0o600)
    return connections


def banner(url: str, password: str, sandbox_urls: dict[str, str], var: Path, seconds: float) -> str:
    sandboxes = "\n".join(f"    {name:<13} {sandbox_url}/_sandbox/docs" for name, sandbox_url in sandbox_urls.items())
    home = var / "airflow"
    smintio = sandbox_urls.get("smintio", "http://127.0.0.1:8701")
    # the commands as the user types them in the project folder; spelled out for another --var
    ledger_env = "" if var == PROJECT / "var" else f"CONTENTOPS_HOME={var} "
    airflow_home = "var/airflow" if var == PROJECT / "var" else str(home)
    return f"""
contentops is up (ready in {seconds:.0f} s).

  Airflow UI   {url}
  Login        admin / {password}
  Logs         {var / "logs"}/ (airflow.log, sandboxes.log)
  Sandboxes
{sandboxes}

Tour (README.md has the long version):
  1. Open the UI and log in. Dags -> campaign_release -> Trigger: the form shows its Params; trigger it.
  2. Watch the run (the Workflow sandbox's approvers answer after a minute); open its "Run report" tab.
  3. Where did an asset go: {ledger_env}.venv/bin/python -m contentops.ledger_cli where asset-spring-08
  4. Backfill last week's sweep: AIRFLOW_HOME={airflow_home} .venv/bin/airflow backfill create \\
       --dag-id rights_expiry_sweep --from-date $(date -u -d '7 days ago' +%F) --to-date $(date -u +%F)
  5. Faults on demand: {smintio}/_sandbox/docs (PUT /_sandbox/faults)

Ctrl-C stops everything.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description="Sandboxes + Airflow standalone, ready to use.")
    parser.add_argument("--var", type=Path, default=PROJECT / "var", help="where state lives (default ./var)")
    parser.add_argument(
        "--api-port",
        type=int,
        default=int(os.environ.get("CONTENTOPS_API_PORT", "8080")),
        help="Airflow's port (default 8080, or $CONTENTOPS_API_PORT)",
    )
    parser.add_argument(
        "--sandbox-ports",
        type=json.loads,
        default={},
        help="sandbox ports other than the fixed ones, as JSON: '{\"smintio\": 9701}'",
    )
    parser.add_argument(
        "--free-ports",
        action="store_true",
        default=os.environ.get("CONTENTOPS_FREE_PORTS") == "1",
        help="pick free ports for everything (a second copy next to the default one)",
    )
    parser.add_argument(
        "--options",
        type=json.loads,
        default=None,
        help="sandbox options as JSON (replaces the demo's: reviewers answer after a minute)",
    )
    parser.add_argument(
        "--dags", type=Path, action="append", default=[], help="another DAG folder, as a bundle of its own"
    )
    parser.add_argument(
        "--paused", action="store_true", help="DAGs start paused (the demo starts them unpaused); tests use this"
    )
    parser.add_argument("--verbose", action="store_true", help="stream Airflow's and the sandboxes' output here")
    parser.add_argument("--health-timeout", type=float, default=300.0)
    parser.add_argument(
        "--write-connections",
        type=Path,
        metavar="FILE",
        help="only write the connections file for `airflow connections import` and exit (docker-compose's init)",
    )
    parser.add_argument("--sandbox-host", default="127.0.0.1", help="host the sandboxes are reached at")
    parser.add_argument("--ledger-url", help="the ledger's SQLAlchemy URL (default: SQLite under --var)")
    args = parser.parse_args(argv)
    if args.write_connections:
        urls = {name: f"http://{args.sandbox_host}:{spec.port}" for name, spec in SANDBOXES.items()}
        write_connections(args.write_connections, urls, args.var.resolve(), ledger_url=args.ledger_url)
        return 0
    started_at = time.monotonic()

    var: Path = args.var.resolve()
    api_port: int = free_port() if args.free_ports else args.api_port
    ports = {name: int(args.sandbox_ports.get(name, spec.port)) for name, spec in SANDBOXES.items()}
    side_ports: dict[str, int] = {}
    if args.free_ports:
        ports = {name: free_port() for name in SANDBOXES}
        side_ports = {name: free_port() for name in AIRFLOW_SIDE_PORTS}
    sandbox_urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = airflow_environment(var, api_port, side_ports=side_ports, dag_folders=args.dags)
    if args.paused:
        env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "True"
    home = Path(env["AIRFLOW_HOME"])
    password = ensure_login(home)
    airflow = str(Path(sys.executable).parent / "airflow")
    url = f"http://127.0.0.1:{api_port}"
    children = Children(None if args.verbose else var / "logs")
    state_file = var / "run.json"

    def on_signal(*_: object) -> None:
        raise KeyboardInterrupt

    # explicit, so Ctrl-C works even when started from a shell that ignores SIGINT for background jobs
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print(f"Starting the sandboxes and Airflow (logs in {var / 'logs'}) …", flush=True)
        children.start(
            "sandboxes",
            [
                sys.executable,
                "-m",
                "contentops_sandbox",
                "--state-dir",
                str(var / "sandbox"),
                "--ports",
                json.dumps(ports),
                "--options",
                json.dumps(DEMO_OPTIONS if args.options is None else args.options),
            ],
            env,
        )
        write_airflow_cfg(home, env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, cwd=PROJECT, stdout=subprocess.DEVNULL)
        connections = home / "connections.json"
        write_connections(connections, sandbox_urls, var)
        subprocess.run(
            [airflow, "connections", "import", "--overwrite", str(connections)],
            env=env,
            check=True,
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
        )
        wait_listening(sandbox_urls, 60.0, children)
        children.start("airflow", [airflow, "standalone"], env)
        wait_healthy(url, args.health_timeout, children)
        state_file.touch(mode=0o600)
        state_file.write_text(
            json.dumps(
                {
                    "url": url,
                    "launcher_pid": os.getpid(),
                    "sandboxes": sandbox_urls,
                    "children": {name: process.pid for name, process in children.processes},
                    "airflow_home": str(home),
                    # what an `airflow …` command of this copy needs (backfill, dags list, tests)
                    "airflow_env": {k: v for k, v in env.items() if k.startswith(("AIRFLOW", "CONTENTOPS"))},
                    "logs": str(var / "logs"),
                },
                indent=2,
            )
        )
        print(banner(url, password, sandbox_urls, var, time.monotonic() - started_at), flush=True)
        while children.first_exited() is None:
            time.sleep(1.0)
        name, code = children.first_exited() or ("?", 0)
        log = children.log_path(name)
        print(f"{name} exited with code {code}; stopping the rest" + (f" (see {log})" if log else ""), flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nStopping …", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        children.stop()
        state_file.unlink(missing_ok=True)
        print("Stopped.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
