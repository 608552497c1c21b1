"""Binary transfers: streamed downloads and uploads with a SHA-256, never a whole file in memory.

A download can be confined to the partner's own origins, because partner input (a link in a
return, a submission) decides where it points; an upload is re-readable per attempt, so a
retried upload sends the whole file again rather than its unread rest.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin

import requests

from contentops.hooks.errors import DownloadRefusedError, DownloadTooLargeError, PartnerUnavailableError
from contentops.hooks.transport.bodies import (
    CHUNK,
    ChunkReader,
    MultipartBody,
    multipart_frame,
    open_sink,
    size_of,
    write_in_pieces,
)
from contentops.hooks.transport.core import HttpCore
from contentops.origins import host_address, origin_of


@dataclass(frozen=True)
class DownloadResult:
    """What a streamed download wrote."""

    size: int
    sha256: str
    content_type: str | None


class TransfersMixin(HttpCore):
    """Streamed downloads and uploads on top of the transport's requests."""

    def download(
        self,
        url: str,
        sink: Path | IO[bytes],
        *,
        authenticated: bool = False,
        chunk_size: int = CHUNK,
        params: dict[str, Any] | None = None,
        allowed_origins: Collection[str] | None = None,
        max_bytes: int | None = None,
        max_redirects: int = 5,
    ) -> DownloadResult:
        """Stream ``url`` into a file or binary stream; a cut connection restarts the download.

        ``allowed_origins`` confines the download to those origins (scheme, host and port):
        a URL elsewhere is refused before anything is sent, and redirects are followed only
        while they stay inside them (a redirect that leaves is refused, never requested).
        Credentials go only to this connection's own origin. ``max_bytes`` stops a file that
        announces or streams more than that. Both raise
        :class:`~contentops.hooks.errors.DownloadRefusedError` (not retried).
        """
        confined = allowed_origins is not None
        origins = {origin_of(o) for o in allowed_origins or ()} - {None}
        own_origin = origin_of(self.base_url)

        def refuse(message: str, target: str, *, too_large: bool = False) -> DownloadRefusedError:
            error_class = DownloadTooLargeError if too_large else DownloadRefusedError
            return error_class(message, system=self.system, method="GET", url=self.redact_url(target))

        def open_response() -> tuple[requests.Response, str]:
            target = self.url_for(url)
            for _ in range(max_redirects + 1):
                origin = origin_of(target)
                if confined and (origin is None or origin not in origins):
                    raise refuse(f"{_origin_text(target)} is not one of the partner's download origins", target)
                if confined and _link_local(origin.host):  # never a metadata service, even if configured
                    raise refuse(f"{origin.host} is a link-local address", target)
                response = self._send(
                    "GET",
                    target,
                    params=params if target == self.url_for(url) else None,
                    json=None,
                    data=None,
                    headers=None,
                    stream=True,
                    authenticated=authenticated and (not confined or origin == own_origin),
                    timeout=None,
                    basic_auth=None,
                    expected=None,
                    allow_redirects=not confined,
                )
                if not (confined and response.is_redirect):
                    return response, target
                location = response.headers.get("Location", "")
                response.close()
                target = urljoin(target, location)
            raise refuse(f"more than {max_redirects} redirects", target)

        def attempt() -> DownloadResult:
            response, target = open_response()
            with response:
                expected_size = _int_or_none(response.headers.get("Content-Length"))
                if max_bytes is not None and expected_size is not None and expected_size > max_bytes:
                    raise refuse(
                        f"the file has {expected_size} bytes; the limit is {max_bytes}", target, too_large=True
                    )
                digest = hashlib.sha256()
                size = 0
                with open_sink(sink) as out:
                    try:
                        for chunk in response.iter_content(chunk_size):
                            size += len(chunk)
                            if max_bytes is not None and size > max_bytes:
                                raise refuse(f"the file exceeds the limit of {max_bytes} bytes", target, too_large=True)
                            write_in_pieces(out, chunk)
                            digest.update(chunk)
                    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                        raise PartnerUnavailableError(
                            f"download interrupted after {size} bytes ({type(exc).__name__})",
                            system=self.system,
                            method="GET",
                            url=self.redact_url(url),
                        ) from None
                if expected_size is not None and size != expected_size:
                    raise PartnerUnavailableError(
                        f"download truncated at {size} of {expected_size} bytes",
                        system=self.system,
                        method="GET",
                        url=self.redact_url(url),
                    )
                return DownloadResult(size, digest.hexdigest(), response.headers.get("Content-Type"))

        return self._retrying(attempt, retry_unsafe=True, what=f"download {self.redact_url(url)}")

    def upload(
        self,
        method: str,
        path: str,
        source: Path | IO[bytes],
        *,
        field: str | None = None,
        filename: str | None = None,
        content_type: str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        form_fields: dict[str, str] | None = None,
        idempotent: bool | None = None,
        expected: Collection[int] | None = None,
    ) -> requests.Response:
        """Stream a file as the raw body (``field=None``) or as a multipart/form-data part.

        A path is reopened for every attempt; a stream is rewound (it must be seekable to be
        retried).
        """
        name = filename or (source.name if isinstance(source, Path) else getattr(source, "name", "upload"))
        name = os.path.basename(str(name))
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        size = size_of(source)
        all_headers = dict(headers or {})
        if field is None:
            all_headers.setdefault("Content-Type", ctype)

            def factory() -> Any:
                reader = ChunkReader(source, size)
                return reader if size is not None else iter(reader)  # no length: chunked
        else:
            boundary = f"contentops-{secrets.token_hex(12)}"
            head, tail = multipart_frame(boundary, field, name, ctype, form_fields or {})
            all_headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"

            def factory() -> Any:
                body = MultipartBody(head, ChunkReader(source, size), tail)
                return body if size is not None else iter(body)  # no length: chunked

        return self.request(
            method,
            path,
            params=params,
            headers=all_headers,
            body_factory=factory,
            idempotent=idempotent,
            expected=expected,
        )


def _link_local(host: str) -> bool:
    """Link-local addresses (where cloud metadata services answer) are never a download source."""
    address = host_address(host)
    return address is not None and address.is_link_local


def _origin_text(url: str) -> str:
    origin = origin_of(url)
    return str(origin) if origin else "a URL that is not plain http(s)"


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
