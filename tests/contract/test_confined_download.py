"""Confined downloads: files a partner links to are fetched only from its own origin.

Two real servers: the partner, and a second one on another local port that must never see a
request (standing in for anything a hostile link could point at).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from contentops.hooks.errors import DownloadRefusedError, DownloadTooLargeError
from contentops.hooks.transport import HttpTransport, TransportSettings
from contentops_sandbox.core import SandboxServer

pytestmark = pytest.mark.contract

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _elsewhere() -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    seen: list[str] = []

    @app.get("/{path:path}")
    def anything(path: str, request: Request) -> Response:
        seen.append(f"{path} auth={request.headers.get('authorization')}")
        return Response(PNG, media_type="image/png")

    return app, seen


def _partner(elsewhere_url: str) -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    seen: list[str] = []

    @app.get("/files/ok.png")
    def ok(request: Request) -> Response:
        seen.append(f"ok auth={request.headers.get('authorization')}")
        return Response(PNG, media_type="image/png")

    @app.get("/files/moved")
    def moved() -> RedirectResponse:
        return RedirectResponse("/files/ok.png", status_code=302)

    @app.get("/files/away")
    def away() -> RedirectResponse:
        return RedirectResponse(f"{elsewhere_url}/stolen.png", status_code=302)

    @app.get("/files/metadata")
    def metadata() -> RedirectResponse:
        return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)

    @app.get("/files/loop")
    def loop() -> RedirectResponse:
        return RedirectResponse("/files/loop", status_code=302)

    @app.get("/files/big-declared")
    def big_declared() -> Response:
        return Response(PNG * 10, media_type="image/png")

    @app.get("/files/big-streamed")
    def big_streamed() -> StreamingResponse:
        def body() -> Iterator[bytes]:
            for _ in range(10):
                yield PNG

        return StreamingResponse(body(), media_type="image/png")  # chunked: no Content-Length

    return app, seen


class _Token:
    """Minimal auth: a fixed bearer, so the test can see where credentials went."""

    def bind(self, transport: Any) -> None:
        pass

    def secrets(self) -> list[str]:
        return ["partner-token-value"]

    def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer partner-token-value"}

    def invalidate(self) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[dict[str, Any]]:
    elsewhere_app, elsewhere_seen = _elsewhere()
    with SandboxServer(elsewhere_app) as elsewhere:
        partner_app, partner_seen = _partner(elsewhere.url)
        with SandboxServer(partner_app) as partner:
            transport = HttpTransport(
                TransportSettings(base_url=partner.url, max_attempts=2, backoff_max=0.01),
                _Token(),  # type: ignore[arg-type]
                system="partner",
            )
            yield {
                "transport": transport,
                "partner": partner,
                "partner_seen": partner_seen,
                "elsewhere": elsewhere,
                "elsewhere_seen": elsewhere_seen,
            }


def _download(servers: dict[str, Any], url: str, **kwargs: Any) -> Any:
    transport: HttpTransport = servers["transport"]
    return transport.download(url, io.BytesIO(), authenticated=True, allowed_origins=[servers["partner"].url], **kwargs)


def test_the_partners_own_file_downloads_with_credentials(servers: dict[str, Any]) -> None:
    result = _download(servers, f"{servers['partner'].url}/files/ok.png")
    assert result.size == len(PNG)
    assert servers["partner_seen"] == ["ok auth=Bearer partner-token-value"]


def test_a_redirect_inside_the_origin_is_followed(servers: dict[str, Any]) -> None:
    assert _download(servers, f"{servers['partner'].url}/files/moved").size == len(PNG)


@pytest.mark.parametrize("path", ["/files/away", "/files/metadata"])
def test_a_redirect_that_leaves_the_origin_is_never_requested(servers: dict[str, Any], path: str) -> None:
    with pytest.raises(DownloadRefusedError, match="not one of the partner's download origins"):
        _download(servers, f"{servers['partner'].url}{path}")
    assert servers["elsewhere_seen"] == []


def test_another_local_port_is_refused_before_any_request(servers: dict[str, Any]) -> None:
    with pytest.raises(DownloadRefusedError) as caught:
        _download(servers, f"{servers['elsewhere'].url}/stolen.png")
    assert caught.value.attempts == 1  # refused, not retried
    assert servers["elsewhere_seen"] == []


def test_a_link_local_metadata_address_is_refused_before_any_request(servers: dict[str, Any]) -> None:
    with pytest.raises(DownloadRefusedError):
        _download(servers, "http://169.254.169.254/latest/meta-data/iam/security-credentials/")


def test_redirect_loops_end(servers: dict[str, Any]) -> None:
    with pytest.raises(DownloadRefusedError, match="redirects"):
        _download(servers, f"{servers['partner'].url}/files/loop")


@pytest.mark.parametrize("path", ["/files/big-declared", "/files/big-streamed"])
def test_files_over_the_limit_are_stopped(servers: dict[str, Any], path: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadTooLargeError):
        _download(servers, f"{servers['partner'].url}{path}", max_bytes=len(PNG) * 2)


def test_credentials_never_go_to_an_extra_download_origin(servers: dict[str, Any]) -> None:
    transport: HttpTransport = servers["transport"]
    transport.download(
        f"{servers['elsewhere'].url}/cdn.png",
        io.BytesIO(),
        authenticated=True,
        allowed_origins=[servers["partner"].url, servers["elsewhere"].url],
    )
    assert servers["elsewhere_seen"] == ["cdn.png auth=None"]


def test_unconfined_downloads_behave_as_before(servers: dict[str, Any]) -> None:
    transport: HttpTransport = servers["transport"]
    assert transport.download(f"{servers['partner'].url}/files/moved", io.BytesIO()).size == len(PNG)


def test_a_link_local_origin_is_refused_even_when_configured(servers: dict[str, Any]) -> None:
    transport: HttpTransport = servers["transport"]
    with pytest.raises(DownloadRefusedError, match="link-local"):
        transport.download(
            "http://169.254.169.254/latest/meta-data/",
            io.BytesIO(),
            allowed_origins=[servers["partner"].url, "http://169.254.169.254"],
        )
