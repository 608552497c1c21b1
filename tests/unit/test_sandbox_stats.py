"""The sandbox core counts a product request before its response reaches the client.

Tests read ``context.stats`` right after a hook call returns ("one request per page, no more");
a count made only after the last body chunk went out raced the client and read one short under
load. Driven at the ASGI level, so the order is checked exactly, not by timing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from contentops_sandbox.core import SandboxConfig, create_sandbox_app

pytestmark = pytest.mark.unit


def _call(app: Any, path: str) -> list[tuple[str, int]]:
    """GET ``path`` on the ASGI app; per message sent: (type, requests counted at that moment)."""
    context = app.state.sandbox
    seen: list[tuple[str, int]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"sandbox.test")],
        "client": ("127.0.0.1", 1),
        "server": ("sandbox.test", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        seen.append((message["type"], context.stats.by_route[f"GET {path}"]))

    asyncio.run(app(scope, receive, send))
    return seen


def test_a_request_is_counted_before_the_client_sees_its_response(tmp_path: Path) -> None:
    app, _ = create_sandbox_app("probe", SandboxConfig(state_dir=tmp_path), error_body=lambda s, c, m: {"error": c})

    @app.get("/things")
    def things() -> dict[str, int]:
        return {"count": 3}

    seen = _call(app, "/things")
    assert seen[0] == ("http.response.start", 1)  # already counted when the status line goes out
    assert all(count == 1 for _, count in seen)  # and counted once
    assert app.state.sandbox.stats.by_status[200] == 1
    _call(app, "/nowhere")
    assert app.state.sandbox.stats.by_status[404] == 1 and app.state.sandbox.stats.total == 2
