"""The rights expiry sweep's feed side over N license purchase transactions, ours against the stock way.

The Smint.io sandbox runs in its own process in generator mode (N synthetic transactions, none
stored) under a request ceiling. The implementations of the same work run one after the other
against it, each into a ledger of its own (SQLite files in a temporary folder):

- **contentops**: the code the DAG's tasks run — ``sync_license_index`` with the sweep's
  ``assess_horizon_days`` (``SmintioHook`` paging the feed at 95 % of the ceiling in a thread that
  reads up to four pages ahead, while each page is validated, assessed as of the window's end and
  upserted into the license index with its findings and the cursor, one transaction a page — from
  the 20th page on by the page worker, a process of its own) and then
  ``rights_sweep.assess_licenses`` (which reads the stored findings);
- **in_process** (``--in-process``): the same without the page worker (every page in the task's
  process, beside the reading thread);
- **sequential** (``--sequential``): the same code the way it ran before — one page after the
  other, and every license due within the horizon assessed after the feed;
- **stock**: ``HttpOperator`` with a ``pagination_function`` following ``continuation_uuid``,
  a bearer token fetched once, tenacity ``retry_args`` for 429/5xx (the stock hook cannot read
  ``Retry-After``), then the same validation, index upsert and assessment over the list of
  responses the operator returns.

Each implementation runs in a child process of its own, so its peak RSS is its own; with a page
worker, which lives only while the feed is paged, the figure is the larger of the task's peak
during the feed plus the worker's peak (``task_rss_feed_mb`` + ``worker_rss_mb``: both at once, at
worst) and the task's peak over the whole sweep (``task_rss_mb``).
Reported per implementation: transactions/s, API requests/s and the share of the ceiling over the
feed, the whole sweep's share (its requests at the ceiling's pace against its feed *and*
assessment time), 429 responses, peak RSS, a digest of its findings (the arms must agree); and the
ratios. The last line is the headline: each arm's whole-sweep share and peak RSS.

    .venv/bin/python benchmarks/sweep_scale.py --transactions 1000000 --rate-limit 20
    .venv/bin/python benchmarks/sweep_scale.py --transactions 100000 --rate-limit 50 --sequential
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smintio_paging import free_port, start_sandbox

HORIZON_DAYS = 30
PAGE_SIZE = 100
ARMS = ["contentops", "in_process", "sequential", "stock"]


def _api_stats(url: str) -> dict[str, Any]:
    stats = requests.get(f"{url}/_sandbox/stats", timeout=5).json()
    return {
        "requests": sum(n for route, n in stats["by_route"].items() if "/consumer/v1/" in route),
        "responses_429": stats["by_status"].get("429", 0),
    }


def _pipeline_run(ledger_url: str, as_of: str | None = None) -> Any:
    from contentops.ledger import Ledger
    from contentops.pipelines.runtime import PipelineRun
    from contentops.pipelines.window import RunWindow

    ledger = Ledger(ledger_url)
    ledger.migrate()
    # every arm as of the same moment: a license near a boundary must not flip between arms
    end = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC).replace(microsecond=0)
    return PipelineRun(
        "rights_expiry_sweep",
        "benchmark",
        RunWindow(end - timedelta(days=1), end),
        {"horizon_days": HORIZON_DAYS},
        ledger=ledger,
    )


def run_contentops(
    url: str,
    ledger_url: str,
    ceiling: float,
    share: float,
    refresh_token: str,
    *,
    overlapped: bool = True,
    page_worker: bool = True,
    as_of: str | None = None,
) -> dict[str, Any]:
    """The sweep's own code: sync the license index, then assess.

    ``overlapped`` (the DAG's way): the sync reads the feed ahead while each page is validated,
    stored and assessed, and the assessment step reads the stored findings. Otherwise the way it
    was before: one page after the other, every license assessed after the feed."""
    from contentops.hooks.base import RefreshTokenStore
    from contentops.hooks.smintio import SmintioHook
    from contentops.pipelines import rights_sweep
    from contentops.pipelines.licenses import PAGE_WORKER_AFTER, sync_license_index
    from contentops.pipelines.page_worker import peak_rss_mb
    from contentops_sandbox.connections import smintio_connection

    conn = smintio_connection(
        url, rate_limit_per_second=ceiling * share, rate_limit_burst=3, refresh_token=refresh_token
    )
    os.environ["AIRFLOW_CONN_SMINTIO_DEFAULT"] = json.dumps(conn)
    run = _pipeline_run(ledger_url, as_of)
    store = RefreshTokenStore("smintio", "bench")
    run._hooks["smintio"] = SmintioHook(refresh_token_store=store)
    worker_rss = _WorkerRss()
    logging.getLogger("contentops.pipelines.licenses").addHandler(worker_rss)
    started = time.perf_counter()
    synced = sync_license_index(
        run,
        page_size=PAGE_SIZE,
        assess_horizon_days=HORIZON_DAYS if overlapped else None,
        read_ahead=overlapped,
        page_worker_after=PAGE_WORKER_AFTER if page_worker else None,
    )
    synced_at = time.perf_counter()
    feed_rss = peak_rss_mb()  # this process's peak while the worker (if any) was alive beside it
    affected, counts = rights_sweep.assess_licenses(run, horizon_days=HORIZON_DAYS)
    return {
        "transactions": synced.get("indexed", 0) + synced.get("skipped", 0),
        "feed_seconds": synced_at - started,
        "seconds": time.perf_counter() - started,
        "licenses_reviewed": counts["licenses_reviewed"],
        "licenses_affected": len(affected),
        "findings_digest": _digest(affected),
        "worker_rss_mb": worker_rss.peak_mb,
        "task_rss_feed_mb": feed_rss,
        "next_refresh_token": store.load(),  # the sandbox spent ours: the next arm needs this one
    }


class _WorkerRss(logging.Handler):
    """The page worker's peak RSS, as the sync logs it when the worker finishes (0 without one)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.peak_mb = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("The page worker prepared"):
            self.peak_mb = float(record.args[-1] or 0)  # type: ignore[index]


def _digest(affected: dict[str, Any]) -> str:
    """One hash of every finding (license, status, reasons, version, expiry): arms that agree on it
    found the same."""
    digest = hashlib.sha256()
    for uuid in sorted(affected):
        status, reasons, version, expiry = affected[uuid]
        digest.update(f"{uuid}|{status.value}|{reasons}|{version}|{expiry}\n".encode())
    return digest.hexdigest()[:16]


def _tokens(url: str) -> tuple[str, str]:
    """One refresh with the demo credentials: (access token, rotated refresh token)."""
    from contentops_sandbox.connections import smintio_connection

    conn = smintio_connection(url)
    response = requests.post(
        conn["extra"]["token_url"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": conn["extra"]["refresh_token"],
            "client_id": conn["login"],
            "client_secret": conn["password"],
        },
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    return str(body["access_token"]), str(body["refresh_token"])


def run_stock(url: str, ledger_url: str, access_token: str, as_of: str | None = None) -> dict[str, Any]:
    """The same sweep the stock way: HttpOperator pages into a list, then the same index and assessment."""
    import tenacity
    from airflow.providers.http.operators.http import HttpOperator

    from contentops.models.smintio import LicensePurchaseTransaction
    from contentops.pipelines import rights_sweep
    from contentops.pipelines.licenses import license_row

    os.environ["AIRFLOW_CONN_BENCH_SMINTIO_HTTP"] = json.dumps({"conn_type": "http", "host": url})

    def next_page(response: requests.Response) -> dict[str, Any] | None:
        body = response.json()
        if not body.get("count"):
            return None
        return {"data": {"limit": PAGE_SIZE, "continuation_uuid": body["continuation_uuid"]}}

    stock_feed = HttpOperator(
        task_id="stock_feed",
        http_conn_id="bench_smintio_http",
        method="GET",
        endpoint="consumer/v1/sync/license-purchase-transactions",
        data={"limit": PAGE_SIZE},
        headers={"Authorization": f"Bearer {access_token}"},
        pagination_function=next_page,
        response_filter=lambda responses: responses,
        retry_args={
            "wait": tenacity.wait_exponential(multiplier=0.5, max=10),
            "stop": tenacity.stop_after_attempt(10),
            "retry": tenacity.retry_if_exception_type(Exception),
        },
    )
    run = _pipeline_run(ledger_url, as_of)
    started = time.perf_counter()
    responses = stock_feed.execute(context={})
    count = 0
    for response in responses:
        rows = []
        for raw in response.json().get("license_purchase_transactions", []):
            count += 1
            if raw.get("can_be_synced") is False:
                continue
            rows.append(license_row(LicensePurchaseTransaction.model_validate(raw)))
        run.ledger.upsert_licenses(rows, run_id=run.run_id)
    feed_done = time.perf_counter()
    affected, counts = rights_sweep.assess_licenses(run, horizon_days=HORIZON_DAYS)
    return {
        "transactions": count,
        "feed_seconds": feed_done - started,
        "seconds": time.perf_counter() - started,
        "licenses_reviewed": counts["licenses_reviewed"],
        "licenses_affected": len(affected),
        "findings_digest": _digest(affected),
    }


def child(args: argparse.Namespace) -> None:
    """One implementation, in this process; prints its figures as JSON."""
    from contentops.pipelines.page_worker import peak_rss_mb

    requests.post(f"{args.url}/_sandbox/stats/reset", timeout=5)
    if args.child in ("contentops", "in_process", "sequential"):
        result = run_contentops(
            args.url,
            args.ledger_url,
            args.rate_limit,
            args.client_share,
            args.token,
            overlapped=args.child != "sequential",
            page_worker=args.child == "contentops",
            as_of=args.as_of,
        )
    else:
        result = {**run_stock(args.url, args.ledger_url, args.token, args.as_of), "worker_rss_mb": 0.0}
    stats = _api_stats(args.url)
    seconds = result["seconds"]
    result.update(
        {
            "implementation": args.child,
            "seconds": round(seconds, 1),
            "feed_seconds": round(result["feed_seconds"], 1),
            "transactions_per_second": round(result["transactions"] / seconds, 1),
            "requests": stats["requests"],
            "requests_per_second": round(stats["requests"] / result["feed_seconds"], 2),
            "share_of_ceiling": round(stats["requests"] / result["feed_seconds"] / args.rate_limit, 3),
            # the whole sweep (feed and assessment) against the time the ceiling allows for its requests
            "sweep_share_of_ceiling": round(stats["requests"] / args.rate_limit / seconds, 3),
            "assess_seconds": round(seconds - result["feed_seconds"], 1),
            "responses_429": stats["responses_429"],
            "task_rss_mb": peak_rss_mb(),
            "worker_rss_mb": result["worker_rss_mb"],
        }
    )
    # the two processes' peaks at once, at worst: the worker lives only while the feed is paged, so
    # beside the task's peak during the feed; the task's own peak may come later (the assessment)
    during_feed = result.get("task_rss_feed_mb", result["task_rss_mb"]) + result["worker_rss_mb"]
    result["peak_rss_mb"] = round(max(during_feed, result["task_rss_mb"]), 1)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--rate-limit", type=float, default=20.0, help="sandbox ceiling, requests/s")
    parser.add_argument("--client-share", type=float, default=0.95, help="our pace as a share of the ceiling")
    parser.add_argument("--skip-stock", action="store_true", help="measure only contentops")
    parser.add_argument(
        "--sequential", action="store_true", help="also run contentops the earlier way (no read-ahead, assess after)"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="also run contentops without its page worker (all in one process)",
    )
    parser.add_argument("--child", choices=ARMS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ledger-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    results = []
    with tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        sandbox = start_sandbox(port, args.transactions, args.rate_limit, Path(scratch) / "sandbox")
        try:
            url = f"http://127.0.0.1:{port}"
            access_token, refresh_token = _tokens(url)
            as_of = datetime.now(UTC).replace(microsecond=0).isoformat()
            arms = ["contentops"] + (["in_process"] if args.in_process else [])
            arms += (["sequential"] if args.sequential else []) + ([] if args.skip_stock else ["stock"])
            for implementation in arms:
                token = access_token if implementation == "stock" else refresh_token
                ledger_url = f"sqlite:///{Path(scratch) / f'ledger-{implementation}.sqlite'}"
                output = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        implementation,
                        "--url",
                        url,
                        "--ledger-url",
                        ledger_url,
                        "--rate-limit",
                        str(args.rate_limit),
                        "--client-share",
                        str(args.client_share),
                        f"--token={token}",  # a token may start with "-"
                        f"--as-of={as_of}",
                    ],
                    check=True,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                results.append(json.loads(output.stdout.strip().splitlines()[-1]))
                refresh_token = results[-1].pop("next_refresh_token", None) or refresh_token
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)
    summary: dict[str, Any] = {"transactions": args.transactions, "ceiling_per_second": args.rate_limit}
    summary["results"] = results
    by_arm = {result["implementation"]: result for result in results}
    ours = by_arm["contentops"]
    summary["same_findings"] = len({result["findings_digest"] for result in results}) == 1
    headline = f"sweep {args.transactions} at {args.rate_limit:g} req/s: contentops {ours['sweep_share_of_ceiling']}"
    headline += f" rss {ours['peak_rss_mb']}"
    for other in ("in_process", "sequential", "stock"):
        if other in by_arm:
            theirs = by_arm[other]
            summary[f"throughput_ratio_to_{other}"] = round(
                ours["transactions_per_second"] / theirs["transactions_per_second"], 2
            )
            headline += f"; {other} {theirs['sweep_share_of_ceiling']} rss {theirs['peak_rss_mb']}"
    print(json.dumps(summary, indent=2))
    print(headline + f"; same findings {summary['same_findings']}")


if __name__ == "__main__":
    main()
