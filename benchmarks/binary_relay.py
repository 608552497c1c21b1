"""Relay one large licensed file from Smint.io to VIP and Exstream through the hooks, against curl.

What a campaign delivery does with an asset's file, at 200 MB and 2 GB: ``SmintioHook.download_binary``
streams the binary of a license purchase transaction (the sandbox's ``large_binary_bytes``: bytes
generated in code, never stored) to a scratch file, ``VipHook.upload_media_content`` streams it as
the content of an item's media (raw ``PUT``) and ``ExstreamHook.upload_image`` as a new image
resource (``multipart/form-data``). The **curl** arm moves the same bytes over the same loopback in
the same run: ``curl -o`` the same signed URL into a scratch file, ``curl -T`` it to VIP and
``curl -F`` it to Exstream. The three sandboxes run in their own processes
(``python -m contentops_sandbox --only <name>``), each arm in its own child process
(``_relay_arms.py``, which imports nothing the arm does not need), so the peak RSS reported is the
relaying process's own (for the curl arm: the largest curl process). That process imports Airflow
(the hooks are Airflow hooks): ``import airflow.sdk`` alone is ~126 MB, a floor no hook can go
below. ``rss_before_mb`` (after the imports, the plugins loaded, the tokens fetched) and
``rss_growth_mb`` say what the relay itself adds; the ``floor`` arm, run once first, gives the RSS
after ``import airflow.sdk``, after the hooks' imports and after the plugins are loaded.

The SHA-256 is checked end to end: the expected digest is computed here from the generator the
Smint.io sandbox serves, and must equal what each arm's download saw (hooks arm) and what VIP and
Exstream say they received (they hash the bytes as they arrive). A mismatch fails the run.

Throughput is the file's size over the seconds of all three legs (download, VIP, Exstream);
``ratio`` is the hooks' throughput over curl's. The last lines read ``floor airflow.sdk <MB> hooks
<MB> plugins <MB> (…)``, then ``relay <size> ratio <x> rss <MB> (before the first byte <MB>, relay's
growth <MB>; import airflow.sdk alone <MB>)``, one per size, the last one the headline.

    .venv/bin/python benchmarks/binary_relay.py                  # 200MB and 2GB
    .venv/bin/python benchmarks/binary_relay.py --sizes 200MB
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests
from _relay_arms import CONTENT_TYPE, DOMAIN, ITEM
from _sandbox import free_port, start_sandbox_process

from contentops_sandbox.connections import exstream_connection, smintio_connection, vip_connection

ARMS = Path(__file__).resolve().parent / "_relay_arms.py"

UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9}


def parse_size(text: str) -> int:
    """``200MB`` / ``2GB`` / a plain byte count (decimal units, as disk and network figures are)."""
    text = text.strip().upper()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def size_label(size: int) -> str:
    for unit in ("GB", "MB", "KB"):
        if size >= UNITS[unit] and size % UNITS[unit] == 0:
            return f"{size // UNITS[unit]}{unit}"
    return f"{size}B"


def expected_sha256(size: int) -> str:
    """The digest of the bytes the Smint.io sandbox serves for a ``large_binary_bytes`` binary."""
    from contentops_sandbox.smintio import images

    digest = hashlib.sha256()
    for chunk in images.large_binary(size):
        digest.update(chunk)
    return digest.hexdigest()


def run_arm(arm: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One arm in a fresh child process (``_relay_arms.py``, which imports only what the arm
    needs); its JSON answer."""
    done = subprocess.run(
        [sys.executable, str(ARMS), arm, json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- set-up that neither arm is timed on -----------------------------------------------------
def refresh_grant(token_url: str, conn: dict[str, Any]) -> dict[str, Any]:
    """Spend the connection's (rotating) refresh token once: an access token and the next refresh token."""
    answer = requests.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": conn["extra"]["refresh_token"],
            "client_id": conn["login"],
            "client_secret": conn["password"],
        },
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json())


def exstream_token(url: str, conn: dict[str, Any]) -> str:
    answer = requests.post(
        f"{url}/tenants/{conn['extra']['tenant_id']}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": conn["login"], "client_secret": conn["password"]},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def put_media(vip_url: str, token: str, ref: str) -> None:
    """The media record (what ``VipHook.put_media`` writes before the content), for both arms alike."""
    body = {
        "asset_id": ref,
        "version": 1,
        "file_name": f"{ref}.png",
        "content_type": CONTENT_TYPE,
        "usage_controls": {"regions": ["emea"], "channels": ["online"], "valid_until": None},
        "available_to": [],
        "approval_status": "approved",
        "campaign_tags": [],
        "license_summary": "benchmark",
    }
    answer = requests.put(
        f"{vip_url}/api/v1/items/{ITEM}/media/{ref}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()


def received(url: str, kind: str) -> list[dict[str, Any]]:
    """What a sandbox stored (its admin API)."""
    return list(requests.get(f"{url}/_sandbox/documents/{kind}", timeout=30).json())


def relay_once(size: int, expected: str, state: Path, scratch_dir: Path, round_no: int) -> dict[str, Any]:
    """Both arms at one size, against fresh sandboxes (Smint.io serving a binary of that size;
    the demo refresh tokens are spent once per round, so each round starts them anew)."""
    label = size_label(size)
    tag = f"relay-{label.lower()}-{round_no}"
    ports = {name: free_port() for name in ("smintio", "vip", "exstream")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    options = {"smintio": {"large_binary_bytes": size, "seeded_transactions": 1}}
    servers = [
        start_sandbox_process(name, port, state / f"{tag}-{name}", options=options if name == "smintio" else None)
        for name, port in ports.items()
    ]
    smintio_url = urls["smintio"]
    try:
        smintio_conn = smintio_connection(smintio_url)
        vip_conn = vip_connection(urls["vip"])
        exstream_conn = exstream_connection(urls["exstream"])
        smintio_grant = refresh_grant(smintio_conn["extra"]["token_url"], smintio_conn)
        vip_grant = refresh_grant(f"{urls['vip']}/adfs/oauth2/token", vip_conn)
        ex_token = exstream_token(urls["exstream"], exstream_conn)
        auth = {"Authorization": f"Bearer {smintio_grant['access_token']}"}
        feed = requests.get(f"{smintio_url}/consumer/v1/sync/license-purchase-transactions", headers=auth, timeout=10)
        lpt = feed.json()["license_purchase_transactions"][0]
        binaries = requests.get(
            f"{smintio_url}/consumer/v1/sync/cart-purchase-transactions/{lpt['cart_purchase_transaction_uuid']}"
            f"/license-purchase-transactions/{lpt['uuid']}/binaries",
            headers=auth,
            timeout=10,
        )
        binaries.raise_for_status()
        download_url = binaries.json()[0]["download_url"]
        for arm in ("curl", "hooks"):
            put_media(urls["vip"], vip_grant["access_token"], f"{tag}-{arm}")

        specs: dict[str, dict[str, Any]] = {}
        specs["curl"] = {
            "scratch": str(scratch_dir / f"{tag}-curl.bin"),
            "download_url": download_url,
            "vip_url": f"{urls['vip']}/api/v1/items/{ITEM}/media/{tag}-curl/content",
            "vip_token": vip_grant["access_token"],
            "exstream_url": f"{urls['exstream']}/design/api/v1/resources/{DOMAIN}/content"
            f"?name={tag}-curl.png&type=image",
            "exstream_token": ex_token,
            "image_name": f"{tag}-curl.png",
        }
        specs["hooks"] = {
            "scratch": str(scratch_dir / f"{tag}-hooks.bin"),
            "media_ref": f"{tag}-hooks",
            "image_name": f"{tag}-hooks.png",
            "connections": {
                "smintio_default": smintio_connection(smintio_url, refresh_token=smintio_grant["refresh_token"]),
                "vip_default": vip_connection(urls["vip"], refresh_token=vip_grant["refresh_token"]),
                "opentext_exstream_default": exstream_conn,
            },
        }
        results: dict[str, Any] = {}
        order = ("curl", "hooks") if round_no % 2 == 0 else ("hooks", "curl")  # neither always goes first
        for arm in order:
            print(f"{label} round {round_no + 1}: {arm} arm …", file=sys.stderr)
            results[arm] = run_arm(arm, specs[arm])
        # end to end: what each partner sandbox hashed as the bytes arrived
        media = {m["ref"]: m for m in received(urls["vip"], "media")}
        images = {r["name"]: r for r in received(urls["exstream"], "resource")}
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    checks = {
        "hooks download": results["hooks"]["download_sha256"],
        **{f"{arm} → VIP": (media[f"{tag}-{arm}"].get("content") or {}).get("sha256") for arm in ("curl", "hooks")},
        **{
            f"{arm} → Exstream": (images[f"{tag}-{arm}.png"].get("content") or {}).get("sha256")
            for arm in ("curl", "hooks")
        },
    }
    wrong = {what: got for what, got in checks.items() if got != expected}
    if wrong:
        raise SystemExit(f"SHA-256 mismatch at {label}: expected {expected}, got {wrong}")
    curl_s, hooks_s = results["curl"]["seconds"], results["hooks"]["seconds"]
    return {
        "size": label,
        "bytes": size,
        "sha256": expected,
        "sha256_checked": sorted(checks),
        "curl": {**results["curl"], "mb_per_s": round(size / 1e6 / curl_s, 1)},
        "hooks": {**results["hooks"], "mb_per_s": round(size / 1e6 / hooks_s, 1)},
        "ratio": round(curl_s / hooks_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200MB,2GB", help="comma-separated sizes (decimal units)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of both arms per size (the best of each kept)")
    parser.add_argument("--scratch-dir", default=tempfile.gettempdir(), help="where both arms spool the file")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the reference arm")
    floor = run_arm("floor", {})

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="binary-relay-", dir=args.scratch_dir) as work:
        scratch_dir = Path(work)
        # the scratch file, and the Exstream sandbox's own spool of the multipart upload, at once
        need = 2 * max(sizes) + 500 * 10**6
        free = shutil.disk_usage(scratch_dir).free
        if free < need:
            raise SystemExit(f"{scratch_dir} has {free / 1e9:.1f} GB free; {need / 1e9:.1f} GB are needed")
        results: list[dict[str, Any]] = []
        for size in sizes:
            print(f"{size_label(size)}: computing the expected SHA-256 …", file=sys.stderr)
            expected = expected_sha256(size)
            rounds = [relay_once(size, expected, scratch_dir / "state", scratch_dir, n) for n in range(args.rounds)]
            best = {
                **rounds[0],
                "curl": min((r["curl"] for r in rounds), key=lambda a: a["seconds"]),
                "hooks": min((r["hooks"] for r in rounds), key=lambda a: a["seconds"]),
                "rounds": [
                    {
                        "first": "curl" if n % 2 == 0 else "hooks",
                        **{f"{arm}_s": r[arm]["seconds"] for arm in ("curl", "hooks")},
                        **{f"{arm}_legs_cpu": r[arm]["legs_cpu"] for arm in ("curl", "hooks")},
                    }
                    for n, r in enumerate(rounds)
                ],
            }
            best["ratio"] = round(best["curl"]["seconds"] / best["hooks"]["seconds"], 2)
            results.append(best)
    print(json.dumps({"floor": floor, "relays": results}, indent=2))
    steps = floor["rss_mb"]
    print(
        f"floor airflow.sdk {steps['airflow.sdk']} hooks {steps['hooks']} plugins {steps['plugins']} "
        f"(MB; heavy packages loaded: {', '.join(floor['heavy_loaded']) or 'none'})"
    )
    for result in results:
        hooks = result["hooks"]
        print(
            f"relay {result['size']} ratio {result['ratio']} rss {hooks['peak_rss_mb']} "
            f"(before the first byte {hooks['rss_before_mb']}, relay's growth {hooks['rss_growth_mb']}; "
            f"import airflow.sdk alone {steps['airflow.sdk']})"
        )


if __name__ == "__main__":
    main()
