"""Page N license purchase transactions from the Smint.io sandbox with SmintioHook.

The sandbox runs in its own process (``python -m contentops_sandbox --only smintio``) in
generator mode, so it serves N synthetic transactions without storing them, under a request
ceiling (``--rate-limit``). The hook is configured with a client-side pace just under that
ceiling. Reported: transactions/s, requests/s against the ceiling, 429s seen, peak RSS of
this (the client) process.

    .venv/bin/python benchmarks/smintio_paging.py --transactions 100000 --rate-limit 50
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from _sandbox import free_port, start_sandbox_process

from contentops.hooks.base import RefreshTokenStore
from contentops.hooks.smintio import SmintioHook
from contentops_sandbox.connections import smintio_connection

__all__ = ["free_port", "start_sandbox"]


def start_sandbox(port: int, transactions: int, rate_limit: float, state: Path) -> subprocess.Popen[bytes]:
    """The Smint.io sandbox in generator mode (N synthetic transactions) under a request ceiling."""
    return start_sandbox_process(
        "smintio",
        port,
        state,
        options={"smintio": {"generated_transactions": transactions, "seeded_transactions": 0}},
        args=("--rate-limit", str(rate_limit), "--rate-burst", str(max(1, int(rate_limit // 5)))),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--rate-limit", type=float, default=50.0, help="sandbox ceiling, requests/s")
    parser.add_argument("--client-share", type=float, default=0.95, help="client pace as a share of the ceiling")
    parser.add_argument("--limit", type=int, default=100, help="transactions per page")
    parser.add_argument("--client-burst", type=int, default=3, help="client-side burst (below the sandbox's)")
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        sandbox = start_sandbox(port, args.transactions, args.rate_limit, Path(state))
        try:
            url = f"http://127.0.0.1:{port}"
            conn = smintio_connection(
                url, rate_limit_per_second=args.rate_limit * args.client_share, rate_limit_burst=args.client_burst
            )
            os.environ["AIRFLOW_CONN_SMINTIO_DEFAULT"] = json.dumps(conn)
            hook = SmintioHook(refresh_token_store=RefreshTokenStore("smintio", "bench"))
            requests.post(f"{url}/_sandbox/stats/reset", timeout=5)
            started = time.perf_counter()
            count = 0
            for page in hook.iter_transaction_pages(limit=args.limit):
                count += len(page.transactions) + page.skipped
            elapsed = time.perf_counter() - started
            stats = requests.get(f"{url}/_sandbox/stats", timeout=5).json()
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)
    api_requests = sum(n for route, n in stats["by_route"].items() if "/consumer/v1/" in route)
    result = {
        "transactions": count,
        "seconds": round(elapsed, 2),
        "transactions_per_second": round(count / elapsed, 1),
        "requests": api_requests,
        "requests_per_second": round(api_requests / elapsed, 2),
        "ceiling_per_second": args.rate_limit,
        "share_of_ceiling": round(api_requests / elapsed / args.rate_limit, 3),
        "responses_429": stats["by_status"].get("429", 0),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
