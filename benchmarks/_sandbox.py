"""Start a sandbox in its own process for a benchmark, on a free port, and wait until it answers.

Benchmarks measure the client, so the sandbox runs outside the measured process
(``python -m contentops_sandbox --only <name>``); every benchmark starts it the same way.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox_process(
    name: str, port: int, state_dir: Path, *, options: dict[str, Any] | None = None, args: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """Serve sandbox ``name`` on ``port`` with its state in ``state_dir``; ``options`` per sandbox
    (``{"smintio": {...}}``), ``args`` any further launcher flags (``--rate-limit`` …). Returns once
    ``/_sandbox/health`` answers; a sandbox that does not within 30 s is killed and raises."""
    command = [sys.executable, "-m", "contentops_sandbox", "--only", name, "--port", str(port), *args]
    command += ["--state-dir", str(state_dir)]
    if options is not None:
        command += ["--options", json.dumps(options)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{name} sandbox did not start")
