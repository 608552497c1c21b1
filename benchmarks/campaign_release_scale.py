"""Release a campaign of N approved assets to every target with campaign_release, then re-run.

Default (``--arm airflow``, issue 17 item 3): a real ``campaign_release`` DAG run under the
scheduler. The five sandboxes run in one process of their own, each with a request ceiling
(``--rate-limit``, default 20 req/s, Smint.io included; each connection paces all the tasks using
it together at 0.95 of it, its pace shared through a file under the run's folder); api-server,
scheduler (LocalExecutor, parallelism 4), dag-processor and triggerer run as
processes of their own on SQLite. The campaign ``bulk-campaign`` and its N approved assets, each
linked to a perpetual worldwide license, are written into the Smint.io sandbox's store; the DAG is
triggered for it (VIP, the Trading Grid communities of two regions, Exstream ``retail``), then
again. Reported: assets/s, the busiest partner's share of its ceiling (over the run, and over the
deliveries), 429s, partner writes, ledger effects, Smint.io file reads per asset, the peak RSS of
every task process; the re-run's time and writes. The last line holds the headline figures.

``--arm inprocess``: the steps of :mod:`contentops.pipelines.campaign` in DAG order in this
process (license index sync, plan, collect, gate, one ``deliver`` per batch the gate lists,
finalize), the sandboxes served here (threads) without a ceiling.

    .venv/bin/python benchmarks/campaign_release_scale.py --assets 2000 --batch-size 250
    .venv/bin/python benchmarks/campaign_release_scale.py --arm inprocess --assets 300
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
CAMPAIGN = "bulk-campaign"
REGIONS = ["emea", "north_america"]
SEEDED = 504
VIP_ITEM = "ITM-1001"  # the VIP catalog item the bulk visuals show (their metadata names it)


def serve(name: str, state: Path) -> Any:
    from contentops_sandbox.core import SandboxConfig, SandboxServer
    from contentops_sandbox.registry import SANDBOXES

    options = {"seeded_transactions": SEEDED} if name == "smintio" else {}
    app = SANDBOXES[name].load()(SandboxConfig(state_dir=state / name, options=options))
    server = SandboxServer(app).start()
    app.state.sandbox.config.public_url = server.url
    return server, app.state.sandbox


def add_campaign(store: Any, count: int) -> None:
    """The campaign ``bulk-campaign`` (released an hour ago: no embargo) and its N approved assets,
    written into a Smint.io sandbox's store (its own process's too: the store is SQLite)."""
    from contentops_sandbox.smintio import seed

    released = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    store.put(
        "campaign",
        CAMPAIGN,
        {
            "id": CAMPAIGN,
            "name": "Bulk Campaign",
            "release_date": released.isoformat(),
            "regions": REGIONS,
            "segments": ["retail_customers"],
            "client": None,
            "status": "planned",
        },
    )
    perpetual = [seed.stable_uuid("lpt", i) for i in range(9, SEEDED, 12)]  # index % 12 == 9
    template = store.get("asset", "asset-spring-10")
    store.put_many(
        "asset",
        [
            (
                f"asset-bulk-{n:05d}",
                {
                    **template,
                    "id": f"asset-bulk-{n:05d}",
                    "name": f"Bulk visual {n}",
                    "approval_status": "approved",
                    "campaign": CAMPAIGN,
                    "tags": [f"campaign:{CAMPAIGN}"],
                    "metadata": {**(template.get("metadata") or {}), "vip_items": [VIP_ITEM]},
                    "license_purchase_transaction_uuid": perpetual[n % len(perpetual)],
                    "binaries": [
                        {"id": f"asset-bulk-{n:05d}-main", "name": f"bulk-{n}.png", "content_type": "image/png"}
                    ],
                },
            )
            for n in range(count)
        ],
    )


def release(run: Any, batch_size: int) -> Counter[str]:
    from contentops.pipelines import campaign
    from contentops.pipelines.licenses import sync_license_index

    settings = campaign.load_release_settings()
    counts: Counter[str] = Counter()
    sync_license_index(run)
    campaign.plan_release(
        run,
        campaign=CAMPAIGN,
        targets=list(campaign.TARGETS),
        regions=REGIONS,
        release_date=None,
        exstream_domains=["retail"],
        scheduled=False,
    )
    campaign.collect(run, batch_size=batch_size)
    work = campaign.gate(run, settings, batch_size=batch_size)
    for item in work:
        counts.update(campaign.deliver(run, item["system"], item["batch"], settings))
    counts.update(campaign.finalize(run, settings))
    counts["mapped_tasks"] = len(work)
    return counts


# -- the real scheduler arm ----------------------------------------------------------------
SYSTEMS = ("smintio", "workflow", "vip", "trading_grid", "exstream")
PARTNERS = ("smintio", "vip", "trading_grid", "exstream")
AUTH_ROUTES = ("/connect/token", "/oauth", "/auth", "/token")


class TaskMemory(threading.Thread):
    """Samples every task process of the stack (``airflow worker -- <ti id>``) twice a second and
    keeps each one's peak RSS (the kernel's ``VmHWM``: the peak, not the moment's)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[str, float] = {}  # ti id -> MB
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.5):
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    if "airflow worker -- " not in cmdline:
                        continue
                    status = (proc / "status").read_text()
                except OSError:
                    continue
                ti = cmdline.split("airflow worker -- ", 1)[1].split()[0]
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks[ti] = max(self.peaks.get(ti, 0.0), int(line.split()[1]) / 1024)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)


def sandbox_stats(urls: dict[str, str]) -> dict[str, dict[str, Any]]:
    import requests

    return {name: requests.get(f"{url}/_sandbox/stats", timeout=30).json() for name, url in urls.items()}


def _delta(after: dict[str, Any], before: dict[str, Any], key: str) -> dict[str, int]:
    return {k: n - int(before[key].get(k, 0)) for k, n in after[key].items() if n - int(before[key].get(k, 0))}


def _served(after: dict[str, Any], before: dict[str, Any]) -> int:
    """Requests a sandbox answered with anything but 429 between two snapshots."""
    return sum(n for status, n in _delta(after, before, "by_status").items() if status != "429")


def _writes(after: dict[str, Any], before: dict[str, Any]) -> int:
    """Requests that change a partner's state (logins and token refreshes are not writes)."""
    return sum(
        n
        for route, n in _delta(after, before, "by_route").items()
        if not route.startswith(("GET ", "HEAD ")) and not any(a in route for a in AUTH_ROUTES)
    )


def _file_reads(after: dict[str, Any], before: dict[str, Any]) -> tuple[int, int]:
    """(Smint.io file downloads, distinct assets whose file was downloaded) between two snapshots."""
    reads = {
        route: n
        for route, n in _delta(after, before, "by_route").items()
        if route.startswith("GET /backend/v1/assets/") and route.endswith("/content")
    }
    return sum(reads.values()), len({route.split("/")[4] for route in reads})


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def start_stack(var: Path, rate_limit: float) -> tuple[dict[str, Any], dict[str, str], str, str, dict[str, str]]:
    """Sandboxes (one process, each with the ceiling), api-server, scheduler (LocalExecutor,
    parallelism 4), dag-processor and triggerer as processes of their own, on SQLite."""
    import sys

    import requests

    sys.path.insert(0, str(PROJECT / "tests"))
    from deploy.airflow_stack import TEST_STACK_SETTINGS, start_process

    from contentops.ledger import Ledger
    from contentops_sandbox.connections import demo_connections
    from contentops_sandbox.launcher import AIRFLOW_SIDE_PORTS, airflow_environment, free_port, write_airflow_cfg

    api_port = free_port()
    ports = {name: free_port() for name in SYSTEMS}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    own = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CONTENTOPS"))}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(own)
    try:
        env = airflow_environment(var, api_port, side_ports={n: free_port() for n in AIRFLOW_SIDE_PORTS})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    env.update(TEST_STACK_SETTINGS)
    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "True"
    env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"  # only the runs the benchmark triggers
    env["AIRFLOW__CORE__PARALLELISM"] = "4"
    env["AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG"] = "4"
    env["CONTENTOPS_RATE_LIMIT_DIR"] = str(var / "pacing")  # the shared paces of this stack alone
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "passwords.json").write_text(json.dumps({"admin": "campaign-bench"}))
    write_airflow_cfg(home, env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    ledger_url = f"sqlite:///{var / 'ledger.sqlite'}"
    Ledger(ledger_url).migrate()
    for conn_id, conn in demo_connections(urls, ledger_url).items():
        if conn_id != "contentops_ledger":  # the tasks on it together pace just under the partner's ceiling
            conn["extra"]["rate_limit_per_second"] = round(rate_limit * 0.95, 2)
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    processes: dict[str, Any] = {}
    logs = var / "logs"
    options = {"smintio": {"seeded_transactions": SEEDED}}
    processes["sandboxes"] = start_process(
        "sandboxes",
        [
            sys.executable, "-m", "contentops_sandbox", "--state-dir", str(var / "sandbox"),
            "--ports", json.dumps(ports), "--options", json.dumps(options), "--rate-limit", str(rate_limit),
        ],
        env,
        logs,
    )  # fmt: skip
    airflow = str(Path(sys.executable).parent / "airflow")
    migrate = start_process("db-migrate", [airflow, "db", "migrate"], env, logs)
    if migrate.wait(timeout=900) != 0:
        raise RuntimeError((logs / "db-migrate.log").read_text()[-3000:])
    api_url = f"http://127.0.0.1:{api_port}"
    commands = {
        "api-server": [airflow, "api-server", "--port", str(api_port)],
        "scheduler": [airflow, "scheduler"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer"],
    }
    for name, command in commands.items():
        processes[name] = start_process(name, command, env, logs)
    deadline = time.monotonic() + 600
    while True:
        for name, process in processes.items():
            if process.poll() is not None and name != "db-migrate":
                raise RuntimeError(f"{name} exited: {(logs / f'{name}.log').read_text()[-3000:]}")
        try:
            health = requests.get(f"{api_url}/api/v2/monitor/health", timeout=10).json()
        except (requests.RequestException, ValueError):
            health = {}
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        if health and all((health.get(p) or {}).get("status") == "healthy" for p in parts):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"stack not healthy: {health}")
        time.sleep(2.0)
    return processes, urls, api_url, ledger_url, env


def run_dag(api: Any, run_id: str, conf: dict[str, Any], urls: dict[str, str], timeout: float) -> dict[str, Any]:
    """Trigger ``campaign_release`` and wait for it; what it cost and what the partners saw."""
    before = sandbox_stats(urls)
    started = time.monotonic()
    api.trigger("campaign_release", conf=conf, run_id=run_id)
    state = api.wait_for_run("campaign_release", run_id, timeout=timeout)["state"]
    seconds = time.monotonic() - started
    after = sandbox_stats(urls)
    tis = api.task_instances("campaign_release", run_id)
    deliveries = [t for t in tis if t["task_id"] == "deliver" and t.get("start_date") and t.get("end_date")]
    window = 0.0
    if deliveries:
        first = min(_moment(t["start_date"]) for t in deliveries)  # type: ignore[type-var]
        last = max(_moment(t["end_date"]) for t in deliveries)  # type: ignore[type-var]
        window = (last - first).total_seconds()  # type: ignore[operator]
    return {
        "state": state,
        "seconds": seconds,
        "timeline": _timeline(tis),
        "delivery_seconds": window,
        "deliver_tasks": len([t for t in tis if t["task_id"] == "deliver" and t["map_index"] >= 0]),
        "task_ids": {t["id"]: t["task_id"] for t in tis},
        "failed": [(t["task_id"], t["map_index"], t["state"]) for t in tis if t["state"] not in ("success", "skipped")],
        "served": {name: _served(after[name], before[name]) for name in urls},
        "throttled": {name: int(_delta(after[name], before[name], "by_status").get("429", 0)) for name in urls},
        "writes": {name: _writes(after[name], before[name]) for name in urls},
        "file_reads": _file_reads(after["smintio"], before["smintio"]),
    }


def _timeline(tis: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Each task's [start, end] in seconds from the run's first task start (a mapped task: its
    first start and last end), in the order they started; a task that never ran is left out."""
    spans: dict[str, list[datetime]] = {}
    for ti in tis:
        start, end = _moment(ti.get("start_date")), _moment(ti.get("end_date"))
        if start is None or end is None or ti.get("state") == "skipped":
            continue
        span = spans.setdefault(ti["task_id"], [start, end])
        span[0], span[1] = min(span[0], start), max(span[1], end)
    if not spans:
        return {}
    origin = min(span[0] for span in spans.values())
    ordered = sorted(spans.items(), key=lambda item: item[1][0])
    return {
        task: [round((a - origin).total_seconds(), 1), round((b - origin).total_seconds(), 1)]
        for task, (a, b) in ordered
    }


def airflow_arm(args: argparse.Namespace) -> None:
    """Both runs of ``campaign_release`` under the scheduler; prints the figures, last line the headline."""
    import sys

    sys.path.insert(0, str(PROJECT / "tests"))
    from deploy.airflow_stack import AirflowApi, ProcessWatch, stop_group

    from contentops.ledger import Ledger
    from contentops_sandbox.core import DocumentStore

    with tempfile.TemporaryDirectory(prefix="campaign-bench-") as folder:
        var = Path(folder)
        began = time.monotonic()
        processes, urls, api_url, ledger_url, _ = start_stack(var, args.rate_limit)
        watch = ProcessWatch(p.pid for p in processes.values())
        memory = TaskMemory()
        try:
            stack_seconds = time.monotonic() - began
            add_campaign(DocumentStore(var / "sandbox" / "smintio.sqlite3"), args.assets)
            api = AirflowApi(api_url, "admin", "campaign-bench")
            api.wait_for_dag("campaign_release", timeout=600)
            api.unpause("campaign_release")
            conf = {
                "campaign": CAMPAIGN,
                "targets": ["vip", "trading_grid", "exstream"],
                "regions": REGIONS,
                "exstream_domains": ["retail"],
                "batch_size": args.batch_size,
                "poll_interval": 1,
            }
            memory.start()
            first = run_dag(api, "bench-1", conf, urls, timeout=args.timeout)
            second = run_dag(api, "bench-2", conf, urls, timeout=args.timeout)
            memory.stop()
            ledger = Ledger(ledger_url)
            effects = {run: len(ledger.effects(run_id=run)) for run in ("bench-1", "bench-2")}
        finally:
            memory.stop()
            for process in reversed(list(processes.values())):
                stop_group(process)
            watch.kill_survivors()

    names = {**first["task_ids"], **second["task_ids"]}
    peaks: dict[str, float] = {}
    for ti, mb in memory.peaks.items():
        task = names.get(ti, "?")
        peaks[task] = max(peaks.get(task, 0.0), mb)
    partners = {name: first["served"][name] for name in PARTNERS}
    busiest = max(partners, key=lambda name: partners[name])
    share_run = partners[busiest] / (args.rate_limit * first["seconds"])
    share_deliveries = partners[busiest] / (args.rate_limit * first["delivery_seconds"] or 1)
    reads, read_assets = first["file_reads"]
    report = {
        "assets": args.assets,
        "batch_size": args.batch_size,
        "rate_limit": args.rate_limit,
        "stack_start_seconds": round(stack_seconds, 1),
        "first_run": {k: v for k, v in first.items() if k != "task_ids"},
        "rerun": {k: v for k, v in second.items() if k != "task_ids"},
        "ledger_effects": effects,
        "peak_rss_mb_by_task": {k: round(v, 1) for k, v in sorted(peaks.items())},
    }
    print(json.dumps(report, indent=2, default=str))
    per_version = reads / max(read_assets, 1)
    rerun_share = second["seconds"] / first["seconds"]
    print(
        f"airflow assets {args.assets} state {first['state']}/{second['state']} "
        f"assets/s {args.assets / first['seconds']:.2f} "
        f"busiest {busiest} share {share_run:.2f} (deliveries {share_deliveries:.2f}) "
        f"task rss {max(peaks.values(), default=0):.1f} MB "
        f"rerun writes {sum(second['writes'].values())} effects {effects['bench-2']} "
        f"rerun {second['seconds']:.0f}s = {rerun_share:.3f} of {first['seconds']:.0f}s "
        f"reads/asset {per_version:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument(
        "--arm", choices=("airflow", "inprocess"), default="airflow", help="a real DAG run, or the steps in-process"
    )
    parser.add_argument("--rate-limit", type=float, default=20.0, help="each sandbox's ceiling (airflow arm)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds a DAG run may take (airflow arm)")
    args = parser.parse_args()
    if args.arm == "airflow":
        airflow_arm(args)
        return

    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        os.environ.setdefault("AIRFLOW_HOME", str(state / "airflow"))
        os.environ["CONTENTOPS_HOME"] = str(state)
        from contentops.ledger import Ledger
        from contentops.pipelines.runtime import PipelineRun
        from contentops.pipelines.window import RunWindow
        from contentops_sandbox.connections import demo_connections

        served = {name: serve(name, state) for name in ("smintio", "workflow", "vip", "trading_grid", "exstream")}
        ledger_url = f"sqlite:///{state / 'ledger.sqlite'}"
        urls = {name: server.url for name, (server, _) in served.items()}
        for conn_id, conn in demo_connections(urls, ledger_url).items():
            os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
        add_campaign(served["smintio"][1].store, args.assets)
        ledger = Ledger(ledger_url)
        ledger.migrate()
        end = datetime.now(UTC).replace(microsecond=0)
        window = RunWindow(end - timedelta(days=1), end)

        def requests_made() -> dict[str, int]:
            return {name: context.stats.snapshot()["total"] for name, (_, context) in served.items()}

        first = PipelineRun("campaign_release", "bench-1", window, {}, ledger=ledger)
        started = time.perf_counter()
        counts = release(first, args.batch_size)
        first_seconds = time.perf_counter() - started
        first_requests = requests_made()
        delivered = sum(n for key, n in counts.items() if key.endswith("_create"))  # items, kits, the package

        second = PipelineRun("campaign_release", "bench-2", window, {}, ledger=ledger)
        second._hooks = first._hooks  # one login per system for the whole benchmark (rotating refresh tokens)
        started = time.perf_counter()
        again = release(second, args.batch_size)
        second_seconds = time.perf_counter() - started
        second_requests = {name: n - first_requests[name] for name, n in requests_made().items()}
        sent_again = sum(n for key, n in again.items() if key.endswith(("_create", "_update")))
        for server, _ in served.values():
            server.stop()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "assets": args.assets,
                "batch_size": args.batch_size,
                "mapped_tasks": counts["mapped_tasks"],
                "first_run_seconds": round(first_seconds, 1),
                "assets_per_second": round(args.assets / first_seconds, 1),
                "deliveries": delivered,
                "deliveries_per_second": round(delivered / first_seconds, 1),
                "first_run_requests": first_requests,
                "rerun_seconds": round(second_seconds, 1),
                "rerun_requests": second_requests,
                "rerun_sent": sent_again,
                "peak_rss_mb": round(peak_mb, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
