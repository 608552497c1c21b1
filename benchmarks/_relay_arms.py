"""The arms of ``binary_relay.py``, each run in a fresh process: ``python _relay_arms.py <arm> <spec>``.

Their own module so that the relaying process imports what a task relaying a file imports and
nothing else: ``binary_relay.py`` itself imports the sandboxes' connection helpers (FastAPI and
Starlette with them, ~20 MB) and ``requests`` for its set-up, which would otherwise sit in the
peak RSS reported for the hooks. Only the standard library is imported at module level here.

Airflow runs as this project's deployments run it (``docker-compose.yaml``, ``make run``): without
Airflow's example DAGs and plugins (``AIRFLOW__CORE__LOAD_EXAMPLES=False``, unless set already), so
the plugins a hook's first lineage report loads are the installed ones, not Airflow's demo plugins.

The ``floor`` arm imports step by step and relays nothing: the RSS of a process that has imported
``airflow.sdk``, then the three hooks, then loaded the plugins (the SDK's hook-lineage collector,
which a hook's first lineage report creates) — what any task process using the hooks pays before
its first byte.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: the VIP catalog item the media goes on, and the Exstream domain of the image (both seeded)
ITEM = "ITM-1001"
DOMAIN = "retail"
CONTENT_TYPE = "image/png"
#: packages a relaying process has no use for; the floor arm says which of them it loaded
HEAVY = ("pandas", "numpy", "alembic", "fastapi", "starlette", "cadwyn", "uvicorn")


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU time: what the relaying client itself costs, steadier than wall time
    when the machine is shared (the sandboxes' share is the same for both arms)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def cpu_split(who: int = resource.RUSAGE_SELF) -> tuple[float, float]:
    """User and system CPU seconds so far: per leg, what the client computes (hashing, parsing)
    against what the kernel does for it (sockets, the page cache of the scratch file)."""
    usage = resource.getrusage(who)
    return usage.ru_utime, usage.ru_stime


def leg_cpu(before: tuple[float, float], after: tuple[float, float]) -> dict[str, float]:
    return {"user": round(after[0] - before[0], 2), "sys": round(after[1] - before[1], 2)}


# -- the hooks arm (runs in its own process) ----------------------------------------------------
def hooks_arm(spec: dict[str, Any]) -> dict[str, Any]:
    """Download the license's binary with SmintioHook, upload it with VipHook and ExstreamHook."""
    for conn_id, conn in spec["connections"].items():
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    from contentops.hooks.base import RefreshTokenStore
    from contentops.hooks.exstream import ExstreamHook
    from contentops.hooks.smintio import SmintioHook
    from contentops.hooks.vip import VipHook

    after_imports = peak_rss_mb()
    smintio = SmintioHook(refresh_token_store=RefreshTokenStore("smintio", "bench"))
    vip = VipHook(refresh_token_store=RefreshTokenStore("vip", "bench"))
    exstream = ExstreamHook()
    # not timed: the license and its signed URL (what the delivery's own lookups would have found)
    lpt = next(smintio.iter_license_purchase_transactions(limit=1))
    after_feed = peak_rss_mb()
    assert lpt.cart_purchase_transaction_uuid is not None
    binary = smintio.binaries(lpt.cart_purchase_transaction_uuid, lpt.uuid)[0]
    for hook in (vip, exstream):
        _ = hook.transport.auth.headers() if hook.transport.auth else None  # tokens fetched before timing
    baseline = peak_rss_mb()
    scratch = Path(spec["scratch"])
    legs: dict[str, float] = {}
    legs_cpu: dict[str, dict[str, float]] = {}
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    split = cpu_split()
    downloaded = smintio.download_binary(lpt, binary, scratch)
    legs["download"] = time.perf_counter() - started
    legs_cpu["download"], split = leg_cpu(split, cpu_split()), cpu_split()
    mark = time.perf_counter()
    media = vip.upload_media_content(ITEM, spec["media_ref"], scratch, CONTENT_TYPE)
    legs["vip"] = time.perf_counter() - mark
    legs_cpu["vip"], split = leg_cpu(split, cpu_split()), cpu_split()
    mark = time.perf_counter()
    image = exstream.upload_image(
        DOMAIN, scratch, name=spec["image_name"], content_type=CONTENT_TYPE, idempotency_key=spec["image_name"]
    )
    legs["exstream"] = time.perf_counter() - mark
    legs_cpu["exstream"] = leg_cpu(split, cpu_split())
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    scratch.unlink()
    return {
        "seconds": seconds,
        "cpu_seconds": round(cpu, 2),
        "legs": legs,
        "legs_cpu": legs_cpu,
        "download_sha256": downloaded.sha256,
        "download_size": downloaded.size,
        "vip_media_sha256": media.content.sha256 if media.content else None,
        "exstream_resource": image.id,
        "rss_after_imports_mb": after_imports,
        "rss_after_feed_mb": after_feed,
        "rss_before_mb": baseline,
        "peak_rss_mb": peak_rss_mb(),
        "rss_growth_mb": round(peak_rss_mb() - baseline, 1),
    }


# -- the curl arm (runs in its own process; the curl processes are its children) --------------
def curl_arm(spec: dict[str, Any]) -> dict[str, Any]:
    """The same three legs with curl: download the signed URL, PUT it to VIP, POST it to Exstream."""
    scratch = spec["scratch"]
    quiet = ["curl", "--silent", "--show-error", "--fail", "--header", "Expect:"]  # no 100-continue wait
    commands = {
        "download": [*quiet, "--output", scratch, spec["download_url"]],
        "vip": [
            *quiet,
            "--upload-file",
            scratch,
            "--header",
            f"Content-Type: {CONTENT_TYPE}",
            "--header",
            f"Authorization: Bearer {spec['vip_token']}",
            "--output",
            os.devnull,
            spec["vip_url"],
        ],
        "exstream": [
            *quiet,
            "--form",
            f"file=@{scratch};type={CONTENT_TYPE};filename={spec['image_name']}",
            "--header",
            f"Authorization: Bearer {spec['exstream_token']}",
            "--output",
            os.devnull,
            spec["exstream_url"],
        ],
    }
    legs: dict[str, float] = {}
    legs_cpu: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for leg, command in commands.items():
        mark = time.perf_counter()
        split = cpu_split(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True)
        legs[leg] = time.perf_counter() - mark
        legs_cpu[leg] = leg_cpu(split, cpu_split(resource.RUSAGE_CHILDREN))
    seconds = time.perf_counter() - started
    Path(scratch).unlink()
    return {
        "seconds": seconds,
        "cpu_seconds": round(cpu_seconds(resource.RUSAGE_CHILDREN), 2),
        "legs": legs,
        "legs_cpu": legs_cpu,
        "peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
    }


# -- the floor: what the imports cost before any byte ----------------------------------------
def floor_arm(spec: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS after each import step of a process that uses the hooks (nothing relayed).

    No figure before the first import: Linux carries a process's ``ru_maxrss`` across ``exec``,
    so until Airflow is imported it would be the forking parent's size, not this process's."""
    import airflow.sdk  # noqa: F401  (the step measured)

    steps = {"airflow.sdk": peak_rss_mb()}
    from contentops.hooks.exstream import ExstreamHook  # noqa: F401
    from contentops.hooks.smintio import SmintioHook  # noqa: F401
    from contentops.hooks.vip import VipHook  # noqa: F401

    steps["hooks"] = peak_rss_mb()
    from airflow.sdk.lineage import get_hook_lineage_collector

    get_hook_lineage_collector()  # loads every plugin, as a hook's first lineage report does
    steps["plugins"] = peak_rss_mb()
    return {
        "rss_mb": steps,
        "modules": len(sys.modules),
        "heavy_loaded": sorted(name for name in HEAVY if name in sys.modules),
        "contentops_plugin_loaded": "contentops.plugin" in sys.modules,
    }


ARMS = {"hooks": hooks_arm, "curl": curl_arm, "floor": floor_arm}

if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    print(json.dumps(ARMS[sys.argv[1]](json.loads(sys.argv[2]))))
