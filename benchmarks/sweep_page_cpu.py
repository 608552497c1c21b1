"""The license sync's CPU per feed page: what one page costs the client, and where it goes.

The Smint.io sandbox runs in generator mode without a real ceiling; ``sync_license_index`` (the
rights sweep's way: ``assess_horizon_days`` set) pages it one page after the other
(``read_ahead=False``, so the whole path runs in one thread and a profile sees all of it): fetch,
validation (``SmintioHook.iter_raw_transaction_pages`` + ``parse_transaction_page``), assessment
and the index upsert. Reported: the client's CPU per page, the collector's time by generation, and
with ``--profile`` the functions that cost most (cProfile; its own overhead inflates the totals).
The last line is the headline: ``page cpu <ms> gc <ms>``.

    .venv/bin/python benchmarks/sweep_page_cpu.py --transactions 20000
    .venv/bin/python benchmarks/sweep_page_cpu.py --transactions 20000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smintio_paging import free_port, start_sandbox
from sweep_scale import HORIZON_DAYS, PAGE_SIZE, _pipeline_run


def _wait_for(url: str) -> None:
    for _ in range(150):
        try:
            requests.get(f"{url}/_sandbox/stats", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("the sandbox did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="print the costliest functions (cProfile)")
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        sandbox = start_sandbox(port, args.transactions, 1000.0, Path(state))
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(url)
            from contentops.hooks.smintio import SmintioHook
            from contentops.pipelines import rights_sweep  # noqa: F401  (imported before the clock starts)
            from contentops.pipelines.licenses import sync_license_index
            from contentops_sandbox.connections import smintio_connection

            conn = smintio_connection(url, rate_limit_per_second=900, rate_limit_burst=3)
            os.environ["AIRFLOW_CONN_SMINTIO_DEFAULT"] = json.dumps(conn)
            run = _pipeline_run(f"sqlite:///{state}/ledger.sqlite")
            run._hooks["smintio"] = SmintioHook()
            collected: Counter[int] = Counter()
            started_at: dict[str, float] = {}

            def on_gc(phase: str, info: dict[str, Any]) -> None:
                if phase == "start":
                    started_at["gc"] = time.perf_counter()
                else:
                    collected[info["generation"]] += time.perf_counter() - started_at["gc"]

            gc.callbacks.append(on_gc)
            profile = cProfile.Profile()
            cpu = time.process_time()
            if args.profile:
                profile.enable()
            synced = sync_license_index(run, page_size=PAGE_SIZE, assess_horizon_days=HORIZON_DAYS, read_ahead=False)
            profile.disable()
            cpu = time.process_time() - cpu
            gc.callbacks.remove(on_gc)
        finally:
            sandbox.terminate()
            sandbox.wait(10)
    pages = synced["pages"]
    if args.profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    by_generation = {generation: round(1000 * seconds / pages, 2) for generation, seconds in sorted(collected.items())}
    print(json.dumps({"pages": pages, "gc_ms_per_page_by_generation": by_generation}, indent=2))
    print(f"page cpu {1000 * cpu / pages:.1f} gc {1000 * sum(collected.values()) / pages:.1f}")


if __name__ == "__main__":
    main()
