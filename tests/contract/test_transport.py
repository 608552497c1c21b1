"""The shared transport against a real HTTP server (the sandbox frame with test routes)."""

from __future__ import annotations

import hashlib
import io
import logging
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.responses import StreamingResponse

from contentops.hooks.auth import OAuth2ClientCredentialsAuth, OAuth2RefreshTokenAuth
from contentops.hooks.errors import (
    AuthenticationError,
    NotFoundError,
    PartnerServerError,
    PartnerUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)
from contentops.hooks.transport import HttpTransport, TransportSettings
from contentops_sandbox.core import SandboxConfig, SandboxContext, SandboxServer, create_sandbox_app
from contentops_sandbox.core.faults import FaultSettings

pytestmark = pytest.mark.contract

CLIENT_SECRET = "s3cr3t-client-value"
ITEMS = [{"id": i} for i in range(23)]


def _pattern(size: int) -> Iterator[bytes]:
    block = bytes(range(256)) * 256  # 64 KiB
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece


def _build_app(state_dir: Path) -> tuple[Any, SandboxContext]:
    app, ctx = create_sandbox_app(
        "transport-test",
        SandboxConfig(state_dir=state_dir),
        error_body=lambda status, code, message: {"error": code, "message": message},
    )
    ctx.store.put("client", "svc", {"secret": CLIENT_SECRET})
    drops = {"remaining": 0}

    @app.post("/oauth/token")
    async def token(request: Request) -> dict[str, Any]:
        form = await request.form()
        if form.get("grant_type") == "refresh_token":
            issued = ctx.tokens.refresh(str(form.get("refresh_token")))
            if issued is None:
                raise ctx.error(400, "invalid_grant", "refresh token spent or unknown")
            return issued.as_response()
        if form.get("client_secret") != CLIENT_SECRET:
            raise ctx.error(401, "invalid_client", "bad client credentials")
        return ctx.tokens.issue(str(form.get("client_id")), with_refresh=False).as_response()

    @app.get("/protected")
    def protected(request: Request) -> dict[str, str]:
        return {"subject": ctx.require_bearer(request)}

    @app.get("/echo-auth")
    def echo_auth(request: Request) -> None:
        raise ctx.error(400, "bad_request", f"cannot use {request.headers.get('authorization')}")

    @app.get("/items")
    def items(offset: int = 0, count: int = 10) -> dict[str, Any]:
        return {"data": ITEMS[offset : offset + count], "total": len(ITEMS)}

    @app.get("/pages")
    def pages(page: int = 1, per_page: int = 10) -> dict[str, Any]:
        start = (page - 1) * per_page
        return {
            "products": ITEMS[start : start + per_page],
            "current_page": page,
            "total_pages": -(-len(ITEMS) // per_page),
        }

    @app.get("/hal")
    def hal(offset: int = 0, count: int = 10) -> dict[str, Any]:
        body: dict[str, Any] = {"_embedded": {"tasks": ITEMS[offset : offset + count]}, "_links": {}}
        if offset + count < len(ITEMS):
            body["_links"]["next"] = {"href": f"hal?offset={offset + count}&count={count}"}
        return body

    @app.get("/feed")
    def feed(cursor: int = 0, limit: int = 10) -> dict[str, Any]:
        batch = ITEMS[cursor : cursor + limit]
        return {"count": len(batch), "continuation": str(cursor + len(batch)), "items": batch}

    @app.post("/writes")
    def writes() -> dict[str, int]:
        return {"written": ctx.store.next_id("writes")}

    @app.get("/blob/{size}")
    def blob(size: int) -> StreamingResponse:
        cut = drops["remaining"] > 0
        drops["remaining"] -= 1

        def body() -> Iterator[bytes]:
            sent = 0
            for piece in _pattern(size):
                if cut and sent >= size // 2:
                    return
                sent += len(piece)
                yield piece

        return StreamingResponse(body(), media_type="application/octet-stream", headers={"Content-Length": str(size)})

    @app.post("/drop-next-downloads/{count}")
    def drop_next(count: int) -> dict[str, int]:
        drops["remaining"] = count
        return drops

    @app.put("/upload")
    async def upload_raw(request: Request) -> dict[str, Any]:
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        return {"sha256": digest.hexdigest(), "size": size, "type": request.headers.get("content-type")}

    @app.post("/upload-form")
    async def upload_form(request: Request) -> dict[str, Any]:
        form = await request.form()
        part = form["file"]
        data = await part.read()  # type: ignore[union-attr]
        return {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "filename": part.filename,
            "note": form.get("note"),
        }  # type: ignore[union-attr]

    return app, ctx


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[SandboxServer, SandboxContext]]:
    app, ctx = _build_app(tmp_path)
    with SandboxServer(app) as srv:
        yield srv, ctx


def _transport(srv: SandboxServer, **settings: Any) -> HttpTransport:
    settings.setdefault("backoff_initial", 0.01)
    settings.setdefault("backoff_max", 0.05)
    auth = settings.pop("auth", None)
    return HttpTransport(TransportSettings(base_url=srv.url, **settings), auth, system="test")


def test_offset_paging_reads_every_item_once(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    transport = _transport(srv)
    got = list(
        transport.iter_offset("items", items=lambda page: page["data"], page_size=5, total=lambda page: page["total"])
    )
    assert got == ITEMS
    assert ctx.stats.by_route["GET /items"] == 5


def test_page_number_paging_stops_at_total_pages(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    got = list(
        _transport(srv).iter_page_numbers(
            "pages", items=lambda p: p["products"], per_page=10, total_pages=lambda p: p["total_pages"]
        )
    )
    assert got == ITEMS
    assert ctx.stats.by_route["GET /pages"] == 3


def test_hal_paging_follows_relative_next_links(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, _ = server
    got = list(_transport(srv).iter_hal("hal", embedded_key="tasks", params={"count": 7}))
    assert got == ITEMS


def test_cursor_paging_yields_the_final_empty_page_for_checkpointing(
    server: tuple[SandboxServer, SandboxContext],
) -> None:
    srv, _ = server
    pages = list(
        _transport(srv).iter_cursor_pages(
            "feed",
            cursor_param="cursor",
            params={"limit": 10},
            next_cursor=lambda p: p["continuation"],
            is_last=lambda p: p["count"] == 0,
        )
    )
    assert [p["count"] for p in pages] == [10, 10, 3, 0]
    assert pages[-1]["continuation"] == "23"
    resumed = list(
        _transport(srv).iter_cursor_pages(
            "feed",
            cursor_param="cursor",
            start_cursor="20",
            next_cursor=lambda p: p["continuation"],
            is_last=lambda p: p["count"] == 0,
        )
    )
    assert [item["id"] for page in resumed for item in page["items"]] == [20, 21, 22]


def test_get_recovers_from_5xx(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    ctx.faults.replace(FaultSettings(fail_next=[503, 502, 500]))
    assert _transport(srv).json("GET", "items")["total"] == 23
    assert ctx.stats.by_status[200] == 1 and ctx.stats.total == 4


def test_non_idempotent_post_is_not_replayed_after_5xx(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    ctx.faults.replace(FaultSettings(fail_next=[503]))
    with pytest.raises(PartnerServerError) as caught:
        _transport(srv).json("POST", "writes")
    assert caught.value.status == 503 and caught.value.attempts == 1
    assert ctx.stats.total == 1


def test_post_is_retried_after_429_and_when_declared_idempotent(
    server: tuple[SandboxServer, SandboxContext],
) -> None:
    srv, ctx = server
    ctx.faults.replace(FaultSettings(fail_next=[429], retry_after_seconds=0))
    assert _transport(srv).json("POST", "writes") == {"written": 1}
    ctx.faults.replace(FaultSettings(fail_next=[503]))
    assert _transport(srv).json("POST", "writes", idempotent=True) == {"written": 2}


def test_retry_after_is_honoured(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    ctx.faults.replace(FaultSettings(fail_next=[429], retry_after_seconds=1))
    started = time.monotonic()
    _transport(srv).json("GET", "items")
    assert time.monotonic() - started >= 0.95  # waited as told, not the 0.05 s backoff


def test_429_storm_gives_up_with_a_typed_error(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    ctx.faults.replace(FaultSettings(fail_next=[429] * 10, retry_after_seconds=0))
    with pytest.raises(RateLimitedError) as caught:
        _transport(srv, max_attempts=4).json("GET", "items")
    assert caught.value.attempts == 4
    assert "after 4 attempts" in str(caught.value)
    assert ctx.stats.by_status[429] == 4


def test_client_errors_are_not_retried(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    with pytest.raises(NotFoundError):
        _transport(srv).json("GET", "nowhere")
    assert ctx.stats.total == 1
    assert _transport(srv).request("GET", "nowhere", expected={404}).status_code == 404


def test_expired_token_is_renewed_once_and_the_call_replayed(
    server: tuple[SandboxServer, SandboxContext],
) -> None:
    srv, ctx = server
    auth = OAuth2ClientCredentialsAuth(f"{srv.url}/oauth/token", "svc", CLIENT_SECRET, style="form")
    transport = _transport(srv, auth=auth)
    assert transport.json("GET", "protected") == {"subject": "svc"}
    ctx.clock.advance(7200)  # the sandbox's tokens are now expired
    assert transport.json("GET", "protected") == {"subject": "svc"}
    assert auth.token_fetches == 2
    assert ctx.stats.by_status[401] == 1


def test_wrong_credentials_raise_authentication_error_without_the_secret(
    server: tuple[SandboxServer, SandboxContext],
    caplog: pytest.LogCaptureFixture,
) -> None:
    srv, _ = server
    wrong = "wrong-secret-value"
    auth = OAuth2ClientCredentialsAuth(f"{srv.url}/oauth/token", "svc", wrong, style="form")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as caught:
        _transport(srv, auth=auth).json("GET", "protected")
    assert wrong not in str(caught.value)
    assert wrong not in caplog.text


def test_tokens_echoed_by_a_partner_are_redacted(
    server: tuple[SandboxServer, SandboxContext],
    caplog: pytest.LogCaptureFixture,
) -> None:
    srv, _ctx = server
    auth = OAuth2ClientCredentialsAuth(f"{srv.url}/oauth/token", "svc", CLIENT_SECRET, style="form")
    transport = _transport(srv, auth=auth)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RequestRejectedError) as caught:
        transport.json("GET", "echo-auth")
    access_token = auth.headers()["Authorization"].split()[1]
    assert "***" in str(caught.value)
    assert access_token not in str(caught.value) and access_token not in caplog.text
    assert CLIENT_SECRET not in caplog.text


def test_rotated_refresh_token_is_handed_back(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, ctx = server
    ctx.tokens.register_refresh_token("initial-refresh-token", "user-1")
    rotated: list[str] = []
    auth = OAuth2RefreshTokenAuth(
        f"{srv.url}/oauth/token", "app", "app-secret", "initial-refresh-token", on_rotate=rotated.append
    )
    transport = _transport(srv, auth=auth)
    assert transport.json("GET", "protected") == {"subject": "user-1"}
    ctx.clock.advance(7200)
    assert transport.json("GET", "protected") == {"subject": "user-1"}
    assert len(rotated) == 2 and rotated[-1] == auth.refresh_token != "initial-refresh-token"


def test_download_streams_with_constant_memory(server: tuple[SandboxServer, SandboxContext], tmp_path: Path) -> None:
    srv, _ = server
    size = 48 * 1024 * 1024
    expected = hashlib.sha256()
    for piece in _pattern(size):
        expected.update(piece)
    tracemalloc.start()
    try:
        result = _transport(srv).download(f"{srv.url}/blob/{size}", tmp_path / "blob.bin")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == size == (tmp_path / "blob.bin").stat().st_size
    assert result.sha256 == expected.hexdigest()
    assert peak < 4 * 1024 * 1024  # a few chunks, never the file


def test_cut_download_is_restarted_from_scratch(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, _ = server
    transport = _transport(srv)
    transport.json("POST", "drop-next-downloads/1")
    sink = io.BytesIO()
    result = transport.download(f"{srv.url}/blob/300000", sink)
    assert result.size == 300000 == len(sink.getvalue())
    assert sink.getvalue() == b"".join(_pattern(300000))


def test_raw_and_multipart_uploads_are_streamed_intact(
    server: tuple[SandboxServer, SandboxContext],
    tmp_path: Path,
) -> None:
    srv, _ = server
    source = tmp_path / "poster.png"
    with source.open("wb") as handle:
        for piece in _pattern(3 * 1024 * 1024 + 17):
            handle.write(piece)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    transport = _transport(srv)
    raw = transport.upload("PUT", "upload", source).json()
    assert raw == {"sha256": digest, "size": source.stat().st_size, "type": "image/png"}
    form = transport.upload(
        "POST", "upload-form", source, field="file", form_fields={"note": "hi"}, idempotent=True
    ).json()
    assert form == {"sha256": digest, "size": source.stat().st_size, "filename": "poster.png", "note": "hi"}


def test_upload_of_a_stream_without_known_size_is_chunked(server: tuple[SandboxServer, SandboxContext]) -> None:
    srv, _ = server

    class Unsized(io.RawIOBase):
        """A non-seekable stream, like a pipe."""

        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self._inner.read(size)

    data = b"".join(_pattern(200_000))
    got = _transport(srv).upload("PUT", "upload", Unsized(data), content_type="application/pdf").json()  # type: ignore[arg-type]
    assert got == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "type": "application/pdf"}


def test_a_post_that_timed_out_waiting_for_the_answer_is_not_sent_again(
    server: tuple[SandboxServer, SandboxContext],
) -> None:
    srv, ctx = server
    ctx.faults.replace(FaultSettings(latency_ms=400))
    with pytest.raises(PartnerUnavailableError):
        _transport(srv, read_timeout=0.1).json("POST", "writes")
    time.sleep(1.0)  # let the sandbox finish the (slow) request it received
    # the partner may have acted on it: one attempt only (a GET would have been retried)
    assert ctx.stats.by_route["POST /writes"] == 1
    assert ctx.store.next_id("writes") == 2  # the one POST was processed; no second one came
