"""Register N VIP catalogue entries in Smint.io with the vip_catalog_sync step, then re-run it.

The VIP and Smint.io sandboxes run in their own processes (``python -m contentops_sandbox``).
N approved entries are added to VIP's catalogue; :func:`contentops.pipelines.vip_catalog.register_catalogue`
then registers each once in Smint.io (upsert by reference, the file streamed from VIP to a scratch
file, checked against its SHA-256 and streamed to Smint.io), with the ledger on SQLite. The second
run over the same window must send nothing. Reported: entries/s of both runs, the partner requests
each made, peak RSS of this (the client) process.

    .venv/bin/python benchmarks/vip_catalog_sync.py --entries 300
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from _sandbox import free_port, start_sandbox_process


def start_sandbox(name: str, port: int, state: Path) -> subprocess.Popen[bytes]:
    return start_sandbox_process(name, port, state / name, options={"smintio": {"seeded_transactions": 24}})


def api_requests(url: str) -> int:
    stats = requests.get(f"{url}/_sandbox/stats", timeout=5).json()
    return sum(n for route, n in stats["by_route"].items() if not route.split(" ", 1)[1].startswith("/_sandbox"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        os.environ.setdefault("AIRFLOW_HOME", str(state / "airflow"))
        os.environ["CONTENTOPS_HOME"] = str(state)
        from contentops.ledger import Ledger
        from contentops.pipelines import vip_catalog
        from contentops.pipelines.runtime import PipelineRun
        from contentops.pipelines.window import RunWindow
        from contentops_sandbox.connections import smintio_connection, vip_connection

        ports = {"vip": free_port(), "smintio": free_port()}
        sandboxes = {name: start_sandbox(name, port, state) for name, port in ports.items()}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        try:
            os.environ["AIRFLOW_CONN_VIP_DEFAULT"] = json.dumps(vip_connection(urls["vip"]))
            os.environ["AIRFLOW_CONN_SMINTIO_DEFAULT"] = json.dumps(smintio_connection(urls["smintio"]))
            for n in range(args.entries):
                requests.put(
                    f"{urls['vip']}/_sandbox/vip/catalog/bench-{n:06d}",
                    json={"title": f"Bench {n}", "file_name": f"bench-{n}.png", "content_type": "image/png"},
                    timeout=10,
                ).raise_for_status()
            ledger = Ledger(f"sqlite:///{state / 'ledger.sqlite'}")
            ledger.migrate()
            now = datetime.now(UTC)
            window = RunWindow(now - timedelta(hours=1), now + timedelta(minutes=5))
            hooks: dict[str, object] = {}  # one set of hooks: the refresh tokens rotate
            result: dict[str, object] = {"entries": args.entries}
            for label in ("first_run", "re_run"):
                run = PipelineRun("vip_catalog_sync", f"bench-{label}", window, {}, ledger=ledger)
                run._hooks = hooks
                before = {name: api_requests(url) for name, url in urls.items()}
                started = time.perf_counter()
                counts = vip_catalog.register_catalogue(run, page_size=args.page_size)
                elapsed = time.perf_counter() - started
                hooks = run._hooks
                result[label] = {
                    "counts": counts,
                    "seconds": round(elapsed, 2),
                    "entries_per_second": round(counts.get("entries", 0) / elapsed, 1),
                    "requests": {name: api_requests(url) - before[name] for name, url in urls.items()},
                }
        finally:
            for process in sandboxes.values():
                process.terminate()
                process.wait(timeout=10)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
