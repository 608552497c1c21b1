"""Release a campaign of N approved assets to every target with the campaign_release steps, then re-run.

The five sandboxes the release talks to are served in this process (threads, as the test suite
serves them); N approved assets of the campaign ``bulk-campaign`` are added to the Smint.io
sandbox, each linked to a perpetual worldwide license. The steps of
:mod:`contentops.pipelines.campaign` then run in DAG order — license index sync, plan, collect,
gate, one ``deliver`` per target and batch (what the mapped tasks do), finalize — with the
ledger on SQLite. The second run must send nothing. Reported: assets/s and deliveries/s of the
first run, the partner requests of both runs, and peak RSS of this process (sandboxes included).

    .venv/bin/python benchmarks/campaign_release_scale.py --assets 300
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CAMPAIGN = "bulk-campaign"
REGIONS = ["emea", "north_america"]
SEEDED = 504


def serve(name: str, state: Path) -> Any:
    from contentops_sandbox.core import SandboxConfig, SandboxServer
    from contentops_sandbox.registry import SANDBOXES

    options = {"seeded_transactions": SEEDED} if name == "smintio" else {}
    app = SANDBOXES[name].load()(SandboxConfig(state_dir=state / name, options=options))
    server = SandboxServer(app).start()
    app.state.sandbox.config.public_url = server.url
    return server, app.state.sandbox


def add_assets(context: Any, count: int) -> None:
    from contentops_sandbox.smintio import seed

    perpetual = [seed.stable_uuid("lpt", i) for i in range(9, SEEDED, 12)]  # index % 12 == 9
    template = context.store.get("asset", "asset-spring-10")
    context.store.put_many(
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()

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
        add_assets(served["smintio"][1], args.assets)
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
