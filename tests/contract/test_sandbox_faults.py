"""The shared fault middleware every sandbox gets: 429 storms, writes whose answer is lost
after the change was made, and downloads whose connection drops half-way.

A bare sandbox app (the common frame plus two product routes) is served over real HTTP, so
what is asserted is what any client of any sandbox sees on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi import Request
from fastapi.responses import Response

from contentops_sandbox.core import SandboxConfig, SandboxServer
from contentops_sandbox.core.app import SandboxContext, create_sandbox_app
from contentops_sandbox.core.faults import FaultSettings

pytestmark = pytest.mark.contract

FILE = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, SandboxContext]]:
    app, context = create_sandbox_app(
        "frame", SandboxConfig(state_dir=tmp_path), error_body=lambda s, c, m: {"code": c, "message": m}
    )

    @app.post("/things")
    async def create(request: Request) -> dict[str, Any]:
        body = await request.json()
        context.store.put("thing", body["id"], body)
        return body

    @app.post("/connect/token")
    def token() -> dict[str, Any]:
        context.store.put("grant", "g", {"spent": True})
        return {"access_token": "a", "refresh_token": "r2"}

    @app.get("/file")
    def download() -> Response:
        return Response(FILE, media_type="application/octet-stream")

    @app.get("/listing")
    def listing() -> dict[str, Any]:
        return {"items": [1, 2, 3]}

    with SandboxServer(app) as server:
        yield server.url, context


def test_a_429_storm_answers_with_retry_after(served: tuple[str, SandboxContext]) -> None:
    url, context = served
    context.faults.replace(FaultSettings(throttle_rate=1.0, retry_after_seconds=3))
    answers = [requests.get(f"{url}/listing", timeout=10) for _ in range(5)]
    assert {a.status_code for a in answers} == {429}
    assert {a.headers["retry-after"] for a in answers} == {"3"}
    assert requests.get(f"{url}/_sandbox/health", timeout=10).status_code == 200  # never the admin side
    context.faults.replace(FaultSettings(throttle_rate=0.5, seed=4))
    statuses = [requests.get(f"{url}/listing", timeout=10).status_code for _ in range(40)]
    assert 5 < statuses.count(429) < 35 and statuses.count(200) == 40 - statuses.count(429)


def test_a_write_whose_answer_is_lost_was_made(served: tuple[str, SandboxContext]) -> None:
    url, context = served
    context.faults.replace(FaultSettings(write_error_rate=1.0, error_status=502))
    answer = requests.post(f"{url}/things", json={"id": "a"}, timeout=10)
    assert answer.status_code == 502 and answer.json()["code"] == "injected_fault"
    assert context.store.get("thing", "a") == {"id": "a"}  # the change is there all the same
    assert requests.get(f"{url}/listing", timeout=10).status_code == 200  # reads are not writes
    assert context.stats.snapshot()["by_status"] == {"200": 1, "502": 1}
    # a token grant's answer is never lost: a rotated one-time refresh token would be spent for good
    assert requests.post(f"{url}/connect/token", timeout=10).json()["refresh_token"] == "r2"


def test_a_dropped_download_ends_early_and_the_next_one_may_be_whole(served: tuple[str, SandboxContext]) -> None:
    url, context = served
    context.faults.replace(FaultSettings(drop_body_rate=1.0))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{url}/file", timeout=10).content  # noqa: B018 - reading the body is the point
    with requests.get(f"{url}/file", timeout=10, stream=True) as response:
        got = b""
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for chunk in response.iter_content(1024):
                got += chunk
    assert 0 < len(got) < len(FILE) and FILE.startswith(got)
    assert requests.get(f"{url}/listing", timeout=10).json() == {"items": [1, 2, 3]}  # JSON is never cut
    context.faults.replace(FaultSettings())
    assert requests.get(f"{url}/file", timeout=10).content == FILE


def test_a_token_grant_whose_answer_is_lost_was_executed(served: tuple[str, SandboxContext]) -> None:
    url, context = served
    context.faults.replace(FaultSettings(lose_token_answers=1))
    assert requests.post(f"{url}/things", json={"id": "b"}, timeout=10).status_code == 200  # only grants
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.post(f"{url}/connect/token", timeout=10)
    assert context.store.get("grant", "g") == {"spent": True}  # the grant was executed all the same
    assert requests.post(f"{url}/connect/token", timeout=10).json()["refresh_token"] == "r2"  # once only
