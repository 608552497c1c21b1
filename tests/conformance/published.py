"""Exchanges written from the vendors' public material, and the checks that judge our code by them.

Each file under ``published/<system>/<name>.json`` is one request/response pair as a vendor's
public material shows it (a Postman collection's saved example, an SDK's typed model, a
documented example). We write these files ourselves from that material: facts carry over, the
vendor's text and code do not. Every file names its public source, so a reader can check it::

    {
      "source": [{"repo": "opentext/ocp-communication", "path": "…/ExstreamDataResponse.java",
                  "shows": "data is one object for single-resource answers"}],
      "request": {"method": "POST", "path": "/design/api/v1/resources/retail/content",
                  "query": {"name": "logo.png"}, "headers": {}, "body": null},
      "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                   "body": {"status": "success", "data": {"id": "…"}}}
    }

Two uses, both by the tests of ``tests/conformance/``:

- :class:`ReplayServer` serves exchanges over real HTTP, so a hook's own methods and models run
  against exactly what the vendor publishes (no patched ``requests``).
- :func:`assert_same_shape` checks that a sandbox answers the same request in the same shape:
  every key the vendor shows is there with a value of the same JSON type. From here on a sandbox
  is judged by these files, never by what the hook happens to accept.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PUBLISHED = Path(__file__).resolve().parent / "published"


@dataclass(frozen=True)
class Source:
    """Where a fact was read: a public repository and file (or a public page) and what it shows."""

    repo: str
    path: str
    shows: str


@dataclass(frozen=True)
class Exchange:
    """One published request and its answer."""

    system: str
    name: str
    sources: tuple[Source, ...]
    method: str
    path: str
    query: dict[str, str]
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    body: Any

    @property
    def body_bytes(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, str) and not self.response_headers.get("Content-Type", "").endswith("json"):
            return self.body.encode()
        return json.dumps(self.body).encode()


def load(system: str, name: str) -> Exchange:
    """The exchange ``published/<system>/<name>.json``."""
    return _parse(system, PUBLISHED / system / f"{name}.json")


def load_all(system: str | None = None) -> list[Exchange]:
    """Every published exchange (of one system, or of all)."""
    systems = [system] if system else sorted(p.name for p in PUBLISHED.iterdir() if p.is_dir())
    return [_parse(s, path) for s in systems for path in sorted((PUBLISHED / s).glob("*.json"))]


def _parse(system: str, path: Path) -> Exchange:
    raw = json.loads(path.read_text())
    request, response = raw["request"], raw["response"]
    return Exchange(
        system=system,
        name=path.stem,
        sources=tuple(Source(**s) for s in raw["source"]),
        method=request["method"].upper(),
        path=request["path"],
        query={k: str(v) for k, v in (request.get("query") or {}).items()},
        request_headers=dict(request.get("headers") or {}),
        request_body=request.get("body"),
        status=int(response["status"]),
        response_headers={"Content-Type": "application/json", **(response.get("headers") or {})},
        body=response.get("body"),
    )


# -- shape -------------------------------------------------------------------------------------
def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def shape_differences(actual: Any, published: Any, where: str = "$") -> list[str]:
    """Where ``actual`` departs from the shape of ``published``.

    Every key the published value shows must be present with the same JSON type; an array's
    items are each compared with the published array's first item. ``null`` in the published
    value means "type not shown" and accepts anything. Extra keys in ``actual`` are allowed
    (a product may answer more than one example shows); a test that must rule them out says so.
    """
    if published is None:
        return []
    expected_type, actual_type = _json_type(published), _json_type(actual)
    if expected_type != actual_type:
        return [f"{where}: {actual_type} where the vendor shows {expected_type}"]
    problems: list[str] = []
    if isinstance(published, dict):
        for key, value in published.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems.extend(shape_differences(actual[key], value, f"{where}.{key}"))
    elif isinstance(published, list) and published:
        for index, item in enumerate(actual):
            problems.extend(shape_differences(item, published[0], f"{where}[{index}]"))
    return problems


def assert_same_shape(actual: Any, exchange: Exchange | Any) -> None:
    """Fail with every difference between ``actual`` and the published body's shape."""
    published = exchange.body if isinstance(exchange, Exchange) else exchange
    problems = shape_differences(actual, published)
    label = f"{exchange.system}/{exchange.name}" if isinstance(exchange, Exchange) else "published value"
    assert not problems, f"not the shape of {label}:\n  " + "\n  ".join(problems)


# -- replay over real HTTP ------------------------------------------------------------------------
@dataclass
class Received:
    """A request the replay server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class ReplayServer:
    """A real HTTP server on a free loopback port answering with published exchanges.

    A request is answered by the first exchange of the same method and path whose published
    query parameters it all carries (extra parameters are fine); a request nothing matches gets
    404 ``{"replay": "no published exchange for …"}``, and is kept in :attr:`unmatched` so a test
    can fail on it. Every request is kept in :attr:`received` for assertions on what a hook sent.
    """

    exchanges: list[Exchange]
    received: list[Received] = field(default_factory=list)
    unmatched: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, *exchanges: Exchange) -> None:
        self.exchanges[:0] = exchanges

    def start(self) -> ReplayServer:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query, keep_blank_values=True),
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                replay.received.append(received)
                match = replay.match(received)
                if match is None:
                    replay.unmatched.append(received)
                    status, headers = 404, {"Content-Type": "application/json"}
                    body = json.dumps({"replay": f"no published exchange for {self.command} {split.path}"}).encode()
                else:
                    status, headers, body = match.status, match.response_headers, match.body_bytes
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # a short poll: stop() waits for serve_forever's next look (half a second by default)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def match(self, received: Received) -> Exchange | None:
        for exchange in self.exchanges:
            if exchange.method != received.method or exchange.path != received.path:
                continue
            if all(received.query.get(k, [None])[0] == v for k, v in exchange.query.items()):
                return exchange
        return None

    def requests_to(self, method: str, path: str) -> list[Received]:
        return [r for r in self.received if r.method == method.upper() and r.path == path]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def replaying(exchanges: Iterable[Exchange]) -> Iterator[ReplayServer]:
    """Generator for a pytest fixture: a started :class:`ReplayServer`, stopped afterwards."""
    server = ReplayServer(list(exchanges)).start()
    try:
        yield server
    finally:
        server.stop()
