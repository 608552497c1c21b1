"""``python -m contentops_sandbox``: serve the sandboxes on their fixed local ports.

    python -m contentops_sandbox                      # all of them
    python -m contentops_sandbox --only smintio --port 9701 --rate-limit 50

State lives under ``--state-dir`` (default ``var/sandbox``) and survives restarts;
``POST /_sandbox/reset`` on a sandbox reseeds it.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from contentops_sandbox.core import SandboxConfig, SandboxServer
from contentops_sandbox.registry import SANDBOXES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m contentops_sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(SANDBOXES), help="serve only these (repeatable)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="port (only with a single --only)")
    parser.add_argument(
        "--ports",
        type=json.loads,
        default={},
        help="ports other than the fixed ones, as JSON, e.g. '{\"smintio\": 9701}' (make run --free-ports)",
    )
    parser.add_argument("--state-dir", type=Path, default=Path("var/sandbox"))
    parser.add_argument("--rate-limit", type=float, help="requests/second ceiling of each product API")
    parser.add_argument("--rate-burst", type=int)
    parser.add_argument(
        "--options",
        type=json.loads,
        default={},
        help='system-specific options as JSON, e.g. \'{"smintio": {"generated_transactions": 1000}}\'',
    )
    args = parser.parse_args(argv)

    names = args.only or sorted(SANDBOXES)
    if args.port and len(names) != 1:
        parser.error("--port needs exactly one --only")
    servers: list[SandboxServer] = []
    for name in names:
        spec = SANDBOXES[name]
        port = args.port or int(args.ports.get(name, spec.port))
        config = SandboxConfig(
            state_dir=args.state_dir,
            rate_limit_per_second=args.rate_limit,
            rate_limit_burst=args.rate_burst,
            public_url=f"http://{args.host}:{port}",
            options=args.options.get(name, {}),
        )
        servers.append(SandboxServer(spec.load()(config), host=args.host, port=port, log_level="info").start())
        print(f"{name:<13} http://{args.host}:{port}   (admin: /_sandbox/docs)", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        # all at once: each server takes a few tenths of a second to wind down its connections
        stopping = [threading.Thread(target=server.stop) for server in servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


if __name__ == "__main__":
    main()
