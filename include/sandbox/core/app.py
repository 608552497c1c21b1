"""The common frame of every sandbox app: config, state, faults, rate limit, admin API.

A system's sandbox calls :func:`create_sandbox_app` and adds its product routes to the
FastAPI app it gets back. Everything under ``/_sandbox`` is the operator's side (health,
faults, clock, history, reset) and is never rate limited or faulted; every other route is
the product API and gets the configured latency, injected errors and the request ceiling,
answered with the product's own error body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentops_sandbox.core.clock import SandboxClock
from contentops_sandbox.core.faults import FaultSettings, FaultState
from contentops_sandbox.core.ratelimit import TokenBucket
from contentops_sandbox.core.store import DocumentStore
from contentops_sandbox.core.tokens import TokenIssuer

ADMIN_PREFIX = "/_sandbox"

ErrorBody = Callable[[int, str, str], dict[str, Any]]
"""(status, machine code, message) -> the product's JSON error body."""


class SandboxConfig(BaseModel):
    """How one sandbox runs. Loaded from the launcher's settings or built by tests."""

    state_dir: Path = Path("var/sandbox")
    rate_limit_per_second: float | None = Field(
        None, gt=0, description="Request ceiling of the product API; None = unlimited."
    )
    rate_limit_burst: int | None = Field(None, ge=1)
    token_ttl_seconds: int = Field(3600, ge=1)
    faults: FaultSettings = Field(default_factory=FaultSettings)
    seed: int = 42
    public_url: str | None = Field(None, description="Base URL clients reach this sandbox at (for links it hands out).")
    options: dict[str, Any] = Field(default_factory=dict, description="System-specific settings.")


class SandboxError(Exception):
    """Raise from a route to answer with the product's error body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class RequestStats:
    """What the API side has seen, for tests and benchmarks."""

    started: float = field(default_factory=time.monotonic)
    total: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.total += 1
            self.by_status[status] += 1
            self.by_route[f"{method} {path}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            elapsed = max(time.monotonic() - self.started, 1e-9)
            return {
                "total": self.total,
                "elapsed_seconds": elapsed,
                "requests_per_second": self.total / elapsed,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "by_route": dict(self.by_route.most_common()),
            }

    def reset(self) -> None:
        with self.lock:
            self.started = time.monotonic()
            self.total = 0
            self.by_status.clear()
            self.by_route.clear()


class SandboxContext:
    """The live state of one sandbox, shared by its routes."""

    def __init__(self, name: str, config: SandboxConfig, error_body: ErrorBody) -> None:
        self.name = name
        self.config = config
        self.error_body = error_body
        self.store = DocumentStore(config.state_dir / f"{name}.sqlite3")
        self.clock = SandboxClock()
        self.faults = FaultState(config.faults)
        self.tokens = TokenIssuer(self.store, self.clock, config.token_ttl_seconds)
        self.stats = RequestStats()
        self.limiter: TokenBucket | None = None
        self.set_rate_limit(config.rate_limit_per_second, config.rate_limit_burst)

    def set_rate_limit(self, per_second: float | None, burst: int | None = None) -> None:
        self.limiter = TokenBucket(per_second, burst) if per_second else None

    def error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> SandboxError:
        """Build the product-shaped error to raise from a route."""
        return SandboxError(status, self.error_body(status, code, message), headers)

    def require_bearer(self, request: Request) -> str:
        """The caller's subject, or a product-shaped 401."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise self.error(401, "missing_token", "Authorization: Bearer <token> is required")
        subject = self.tokens.subject_of(token.strip())
        if subject is None:
            raise self.error(401, "invalid_token", "The access token is invalid or has expired")
        return subject


class _ProductApiGuard:
    """ASGI middleware: latency, injected errors and the request ceiling on product routes."""

    def __init__(self, app: ASGIApp, context: SandboxContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        ctx = self.context
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                ctx.stats.record(scope["method"], scope["path"], status)

        async def recording_send(message: Message) -> None:
            # counted before the client can see any of the response: a test that reads the stats
            # right after its call returned must find that call (recording after the last body
            # chunk raced the client under load)
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        try:
            latency = ctx.faults.settings.latency_ms
            if latency:
                await asyncio.sleep(latency / 1000)
            wait = ctx.limiter.take() if ctx.limiter else 0
            if wait:
                await self._reply(
                    recording_send,
                    429,
                    "rate_limited",
                    f"Too many requests; retry in {wait} s",
                    {"retry-after": str(wait)},
                )
                return
            injected = ctx.faults.injected_status()
            if injected is None and ctx.faults.injected_throttle():
                injected = 429
            if injected is not None:
                headers = {}
                if injected == 429:
                    headers["retry-after"] = str(ctx.faults.settings.retry_after_seconds)
                await self._reply(recording_send, injected, "injected_fault", f"Injected fault {injected}", headers)
                return
            if ctx.faults.loses_token_answer(scope["method"], scope["path"]):
                # the grant is executed (a refresh token is spent) and the connection dropped
                await self.app(scope, receive, _HeadOnly(recording_send))
                return
            after = ctx.faults.injected_after_status()
            if after is not None:
                await self.app(scope, receive, _discard)  # served: the state changed
                await self._reply(recording_send, after, "injected_fault", f"Injected fault {after} (served)", {})
                return
            if scope["method"] in WRITE_METHODS and ctx.faults.loses_write_reply(scope["path"]):
                # the write is served (its change is made) and its answer thrown away
                await self.app(scope, receive, _discard)
                status = ctx.faults.settings.error_status
                await self._reply(recording_send, status, "injected_fault", f"Injected fault {status}", {})
                return
            await self.app(scope, receive, _BodyCutter(recording_send, ctx.faults.drops_body))
        finally:
            record(500)  # no response was started (the app failed): counted as a server error

    async def _reply(self, send: Send, status: int, code: str, message: str, headers: dict[str, str]) -> None:
        body = json.dumps(self.context.error_body(status, code, message)).encode()
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


#: the methods whose answer ``write_error_rate`` may lose after the change was made
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _discard(_: Message) -> None:
    """The send of a write whose answer is lost: the response goes nowhere."""


class _HeadOnly:
    """The send of an answer lost on the way (``lose_token_answers``): its status line and headers
    go out, its body never does; the app returns without completing the response, so the server
    closes the connection — the client sees a dropped connection after its request was served."""

    def __init__(self, send: Send) -> None:
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self.send(message)


class _BodyCutter:
    """The send of a product response that may drop its connection half-way (``drop_body_rate``).

    Only binary bodies are cut (a JSON answer is not a download). The cut is half the declared
    Content-Length (or the first chunk); then nothing more is sent and the app returns without
    completing the response, so the server closes the connection, as a dropped download does."""

    def __init__(self, send: Send, decide: Callable[[], bool]) -> None:
        self.send = send
        self.decide = decide
        self.left: int | None = None  # bytes still to send before the cut; None = no cut
        self.cut = False

    async def __call__(self, message: Message) -> None:
        if self.cut:
            return
        if message["type"] == "http.response.start":
            headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            binary = not headers.get("content-type", "").startswith(("application/json", "text/"))
            if binary and message["status"] < 300 and self.decide():
                length = int(headers.get("content-length") or 0)
                self.left = length // 2 if length > 1 else 0
        elif message["type"] == "http.response.body" and self.left is not None:
            body = message.get("body", b"")
            if len(body) >= self.left or not message.get("more_body", False):
                await self.send({"type": "http.response.body", "body": body[: self.left], "more_body": True})
                self.cut = True
                return
            self.left -= len(body)
        await self.send(message)


class _RateLimitBody(BaseModel):
    per_second: float | None = Field(None, gt=0)
    burst: int | None = Field(None, ge=1)


class _ClockBody(BaseModel):
    advance_seconds: float = 0.0
    reset: bool = False


def create_sandbox_app(
    name: str,
    config: SandboxConfig,
    *,
    error_body: ErrorBody,
    seed: Callable[[SandboxContext], None] | None = None,
    title: str | None = None,
) -> tuple[FastAPI, SandboxContext]:
    """A FastAPI app with the shared frame; ``seed`` fills an empty store with demo data."""
    context = SandboxContext(name, config, error_body)
    if seed is not None and context.store.count("_seeded") == 0:
        seed(context)
        context.store.put("_seeded", "seed", {"seed": config.seed})

    app = FastAPI(
        title=title or f"{name} sandbox",
        docs_url=f"{ADMIN_PREFIX}/docs",
        openapi_url=f"{ADMIN_PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.state.sandbox = context

    @app.exception_handler(SandboxError)
    async def _sandbox_error(_: Request, exc: SandboxError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    @app.get(f"{ADMIN_PREFIX}/health")
    def health() -> dict[str, Any]:
        return {"name": name, "status": "ok", "clock": context.clock.now().isoformat()}

    @app.get(f"{ADMIN_PREFIX}/faults")
    def get_faults() -> dict[str, Any]:
        return {
            **context.faults.settings.model_dump(),
            "fail_next": context.faults.pending(),
            "fail_after_next": context.faults.pending_after(),
            "malformed_served": context.faults.malformed_served,
        }

    @app.put(f"{ADMIN_PREFIX}/faults")
    def put_faults(settings: FaultSettings) -> dict[str, Any]:
        context.faults.replace(settings)
        return settings.model_dump()

    @app.put(f"{ADMIN_PREFIX}/rate-limit")
    def put_rate_limit(body: _RateLimitBody) -> dict[str, Any]:
        context.set_rate_limit(body.per_second, body.burst)
        return body.model_dump()

    @app.post(f"{ADMIN_PREFIX}/clock")
    def move_clock(body: _ClockBody) -> dict[str, Any]:
        if body.reset:
            context.clock.reset()
        context.clock.advance(body.advance_seconds)
        return {"now": context.clock.now().isoformat(), "offset_seconds": context.clock.offset_seconds}

    @app.post(f"{ADMIN_PREFIX}/tokens/revoke")
    def revoke_tokens() -> dict[str, int]:
        return {"revoked": context.tokens.revoke_all()}

    @app.get(f"{ADMIN_PREFIX}/stats")
    def stats() -> dict[str, Any]:
        return context.stats.snapshot()

    @app.post(f"{ADMIN_PREFIX}/stats/reset")
    def reset_stats() -> dict[str, bool]:
        context.stats.reset()
        return {"reset": True}

    @app.get(f"{ADMIN_PREFIX}/history")
    def history(kind: str | None = None, id: str | None = None) -> list[dict[str, Any]]:
        return [_without_credentials(entry) for entry in context.store.history(kind, id)]

    @app.get(f"{ADMIN_PREFIX}/documents/{{kind}}")
    def documents(kind: str) -> list[dict[str, Any]]:
        return context.store.all(kind)

    @app.post(f"{ADMIN_PREFIX}/reset")
    def reset() -> dict[str, bool]:
        context.store.clear()
        context.clock.reset()
        context.faults.replace(config.faults)
        context.stats.reset()
        if seed is not None:
            seed(context)
            context.store.put("_seeded", "seed", {"seed": config.seed})
        return {"reset": True}

    app.add_middleware(_ProductApiGuard, context=context)
    return app, context


#: document kinds whose ids are live credentials (tokens are stored under their own value)
CREDENTIAL_KINDS = frozenset({"access_token", "refresh_token"})


def _without_credentials(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry as the admin API shows it: a token's id replaced by a digest, so that
    anyone who can read the history (the demo publishes it) cannot call the API as the client."""
    if entry.get("kind") not in CREDENTIAL_KINDS:
        return entry
    digest = hashlib.sha256(str(entry.get("id", "")).encode()).hexdigest()[:16]
    return {**entry, "id": f"sha256:{digest}"}
