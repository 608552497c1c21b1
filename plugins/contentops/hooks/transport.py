"""The one HTTP transport every partner hook uses.

Written once so that six hooks don't each grow their own retry loop, paging loop, token
handling and streaming code. It owns:

- one ``requests.Session`` per hook instance (connection reuse across pages and calls);
- connect/read timeouts;
- retries with exponential backoff and jitter (tenacity) on connection errors, 5xx, 408
  and 429, honouring ``Retry-After`` (seconds or an HTTP date). Non-idempotent calls are
  retried only when the partner cannot have acted on them (429) or when the caller says
  the call is idempotent (an idempotency key, a PUT-style write);
- one token refresh and replay on 401/403;
- a client-side request pace (token bucket) so a long sweep runs just under a partner's
  ceiling;
- paging as generators (cursor, offset/count, page numbers, HAL ``_links.next``, GraphQL
  connections);
- GraphQL documents, with an ``errors`` array raised as typed errors, never returned as data;
- streamed downloads and uploads with a SHA-256, never holding a file in memory;
- typed errors (:mod:`contentops.hooks.errors`) and redaction of every secret it knows
  from log lines and exception messages.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import mimetypes
import os
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from pydantic import BaseModel, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from contentops.hooks.auth import Auth
from contentops.hooks.errors import (
    AuthenticationError,
    ConflictError,
    DownloadRefusedError,
    DownloadTooLargeError,
    GraphQLError,
    MalformedResponseError,
    NotFoundError,
    PartnerAPIError,
    PartnerServerError,
    PartnerUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)
from contentops.hooks.ratelimit import RequestPacer
from contentops.origins import host_address, origin_of

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_SENSITIVE_PARAM = re.compile(r"token|key|secret|sig|password|passwd|code|auth|credential", re.IGNORECASE)
_EXCERPT_CHARS = 500
_CHUNK = 1 << 16


class TransportSettings(BaseModel):
    """Per-connection transport settings (from the Airflow connection's extra)."""

    base_url: str
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=50)
    backoff_initial: float = Field(0.5, ge=0)
    backoff_max: float = Field(30.0, ge=0)
    max_retry_after: float = Field(300.0, ge=0, description="Longest Retry-After honoured as given.")
    rate_limit_per_second: float | None = Field(None, gt=0)
    rate_limit_burst: int = Field(1, ge=1)
    verify_ssl: bool | str = True
    user_agent: str = "contentops/0.1 (+https://github.com/contentops)"


@dataclass(frozen=True)
class DownloadResult:
    """What a streamed download wrote."""

    size: int
    sha256: str
    content_type: str | None


class HttpTransport:
    """Session, retries, pacing, paging, streaming and redaction for one partner connection."""

    def __init__(
        self,
        settings: TransportSettings,
        auth: Auth | None = None,
        *,
        system: str,
        on_secret: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_secret = on_secret
        self.system = system
        self.base_url = settings.base_url.rstrip("/") + "/"
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.verify = settings.verify_ssl
        self.pacer = (
            RequestPacer(settings.rate_limit_per_second, settings.rate_limit_burst)
            if settings.rate_limit_per_second
            else None
        )
        self._secrets: set[str] = set()
        self.auth = auth
        if auth is not None:
            auth.bind(self)
            for value in auth.secrets():
                self.add_secret(value)
        self.requests_sent = 0

    # -- secrets ----------------------------------------------------------------------
    def add_secret(self, value: str | None) -> None:
        """Never let this value reach a log line or an exception message."""
        if value and len(value) >= 4 and value not in self._secrets:
            self._secrets.add(value)
            if self.on_secret is not None:
                self.on_secret(value)

    def redact(self, text: str) -> str:
        for value in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(value, "***")
        return text

    def redact_url(self, url: str) -> str:
        parts = urlsplit(url)
        query = urlencode(
            [(k, "***" if _SENSITIVE_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, True)],
            safe="*:/,",
        )
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return self.redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))

    # -- requests ---------------------------------------------------------------------
    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        idempotent: bool | None = None,
        expected: Collection[int] | None = None,
        authenticated: bool = True,
        timeout: float | tuple[float, float] | None = None,
        basic_auth: tuple[str, str] | None = None,
        body_factory: Callable[[], Any] | None = None,
    ) -> requests.Response:
        """Send one logical request (retried as needed); raise a typed error unless it succeeded.

        ``expected`` lists extra statuses returned instead of raised (e.g. 404 for a lookup).
        ``body_factory`` builds a fresh request body per attempt (streamed uploads).
        """
        method = method.upper()
        url = self.url_for(path_or_url)
        retry_unsafe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        if basic_auth:
            for value in basic_auth:
                self.add_secret(value)

        def send() -> requests.Response:
            body = body_factory() if body_factory is not None else (content if content is not None else data)
            return self._send(
                method,
                url,
                params=params,
                json=json,
                data=body,
                headers=headers,
                stream=stream,
                authenticated=authenticated,
                timeout=timeout,
                basic_auth=basic_auth,
                expected=expected,
            )

        return self._retrying(send, retry_unsafe=retry_unsafe, what=f"{method} {self.redact_url(url)}")

    def json(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, returning the decoded JSON body (None for an empty body)."""
        response = self.request(method, path_or_url, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise MalformedResponseError(
                "expected JSON",
                system=self.system,
                status=response.status_code,
                method=method,
                url=self.redact_url(response.url),
                body_excerpt=self._excerpt(response),
            ) from None

    def _retrying(self, send: Callable[[], Any], *, retry_unsafe: bool, what: str) -> Any:
        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, RateLimitedError):
                return True
            if isinstance(exc, PartnerUnavailableError) and not exc.request_sent:
                return True
            if isinstance(exc, PartnerUnavailableError | PartnerServerError | ConflictError):
                # a partner's own 408 means it did not act; a timeout on our side proves nothing
                return retry_unsafe or exc.status == 408
            return False

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0
            log.warning(
                "%s: %s failed (%s); attempt %d of %d, retrying in %.2f s",
                self.system,
                what,
                self.redact(str(getattr(exc, "status", None) or type(exc).__name__)),
                state.attempt_number,
                self.settings.max_attempts,
                delay,
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        attempt_number = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    return send()
        except PartnerAPIError as exc:
            exc.attempts = attempt_number
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.max_retry_after)
        # "full jitter": a random wait up to the exponential bound, so many workers hitting the
        # same partner don't retry in lockstep
        backoff = wait_random_exponential(multiplier=self.settings.backoff_initial, max=self.settings.backoff_max)
        return float(backoff(state))

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Any,
        json: Any,
        data: Any,
        headers: dict[str, str] | None,
        stream: bool,
        authenticated: bool,
        timeout: float | tuple[float, float] | None,
        basic_auth: tuple[str, str] | None,
        expected: Collection[int] | None,
        allow_redirects: bool = True,
    ) -> requests.Response:
        refreshed = False
        while True:
            all_headers = dict(headers or {})
            if authenticated and self.auth is not None:
                all_headers.update(self.auth.headers())
            if self.pacer is not None:
                self.pacer.acquire()
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=all_headers,
                    stream=stream,
                    timeout=timeout or (self.settings.connect_timeout, self.settings.read_timeout),
                    auth=basic_auth,
                    allow_redirects=allow_redirects,
                )
            except requests.ConnectTimeout as exc:
                error = PartnerUnavailableError(
                    f"could not connect in time ({type(exc).__name__})",
                    system=self.system,
                    method=method,
                    url=self.redact_url(url),
                )
                error.request_sent = False  # nothing reached the partner: safe to send again
                raise error from None
            except requests.Timeout as exc:
                raise PartnerUnavailableError(
                    f"timed out waiting for the answer ({type(exc).__name__})",
                    system=self.system,
                    method=method,
                    url=self.redact_url(url),
                ) from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                # a ChunkedEncodingError: the answer began and the connection dropped before its end
                raise PartnerUnavailableError(
                    f"connection failed ({type(exc).__name__})",
                    system=self.system,
                    method=method,
                    url=self.redact_url(url),
                ) from None
            self.requests_sent += 1
            log.debug(
                "%s: %s %s -> %s in %.0f ms",
                self.system,
                method,
                self.redact_url(url),
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            if (
                response.status_code in (401, 403)
                and authenticated
                and self.auth is not None
                and not refreshed
                and not (expected and response.status_code in expected)
            ):
                response.close()
                self.auth.invalidate()
                refreshed = True
                log.info(
                    "%s: %s answered %s; renewing the token once",
                    self.system,
                    self.redact_url(url),
                    response.status_code,
                )
                continue
            if response.ok or (expected and response.status_code in expected):
                return response
            raise self._error_for(method, url, response)

    def _error_for(self, method: str, url: str, response: requests.Response) -> PartnerAPIError:
        status = response.status_code
        common: dict[str, Any] = {
            "system": self.system,
            "status": status,
            "method": method,
            "url": self.redact_url(url),
            "body_excerpt": self._excerpt(response),
        }
        if status == 429:
            return RateLimitedError(
                "rate limited", retry_after=parse_retry_after(response.headers.get("Retry-After")), **common
            )
        if status in (401, 403):
            return AuthenticationError("not authorized", **common)
        if status == 404:
            return NotFoundError("not found", **common)
        if status == 409:
            return ConflictError("conflict", **common)
        if status == 408:
            return PartnerUnavailableError("request timeout", **common)
        if status >= 500:
            return PartnerServerError("server error", **common)
        return RequestRejectedError("request rejected", **common)

    def _excerpt(self, response: requests.Response) -> str:
        try:
            text = response.text
        except (requests.RequestException, UnicodeDecodeError):  # a body we cannot read is just not quoted
            return ""
        text = " ".join(text.split())
        return self.redact(text[:_EXCERPT_CHARS] + ("…" if len(text) > _EXCERPT_CHARS else ""))

    # -- paging -----------------------------------------------------------------------
    def iter_cursor_pages(
        self,
        path: str,
        *,
        cursor_param: str,
        next_cursor: Callable[[Any], str | None],
        is_last: Callable[[Any], bool],
        params: dict[str, Any] | None = None,
        start_cursor: str | None = None,
    ) -> Iterator[Any]:
        """Yield page bodies of a cursor-paged feed, the last (empty) page included.

        The last page matters: feeds like Smint.io's hand out the cursor to keep on it.
        """
        cursor = start_cursor
        while True:
            query = dict(params or {})
            if cursor:
                query[cursor_param] = cursor
            page = self.json("GET", path, params=query)
            yield page
            if is_last(page):
                return
            following = next_cursor(page)
            if not following or following == cursor:
                return
            cursor = following

    def iter_offset(
        self,
        path: str,
        *,
        items: Callable[[Any], list[Any]],
        page_size: int,
        offset_param: str = "offset",
        count_param: str = "count",
        params: dict[str, Any] | None = None,
        total: Callable[[Any], int | None] | None = None,
        start: int = 0,
    ) -> Iterator[Any]:
        """Yield items of an offset/count-paged list until a short page or the total."""
        offset = start
        while True:
            page = self.json("GET", path, params={**(params or {}), offset_param: offset, count_param: page_size})
            batch = items(page)
            yield from batch
            offset += len(batch)
            known_total = total(page) if total else None
            if len(batch) < page_size or (known_total is not None and offset >= known_total):
                return

    def iter_page_numbers(
        self,
        path: str,
        *,
        items: Callable[[Any], list[Any]],
        per_page: int,
        total_pages: Callable[[Any], int | None],
        page_param: str = "page",
        per_page_param: str = "per_page",
        first_page: int = 1,
        params: dict[str, Any] | None = None,
    ) -> Iterator[Any]:
        """Yield items of a page-number-paged list until the last page."""
        number = first_page
        while True:
            page = self.json("GET", path, params={**(params or {}), page_param: number, per_page_param: per_page})
            batch = items(page)
            yield from batch
            pages = total_pages(page)
            if not batch or (pages is not None and number - first_page + 1 >= pages):
                return
            number += 1

    def iter_hal(
        self, path: str, *, embedded_key: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield items of a HAL collection, following ``_links.next.href`` until there is none."""
        target: str | None = path
        query = params
        seen: set[str] = set()
        while target:
            page = self.json("GET", target, params=query)
            if not isinstance(page, dict):
                raise MalformedResponseError("expected a HAL object", system=self.system, url=self.redact_url(target))
            yield from (page.get("_embedded") or {}).get(embedded_key) or []
            href = ((page.get("_links") or {}).get("next") or {}).get("href")
            if not href:
                return
            target = (
                self.url_for(href) if href.startswith(("http://", "https://")) else urljoin(self.url_for(target), href)
            )
            if target in seen:
                raise MalformedResponseError("HAL next link repeats", system=self.system, url=self.redact_url(target))
            seen.add(target)
            query = None  # the next link carries its own query

    # -- GraphQL --------------------------------------------------------------------------
    def graphql(
        self,
        path: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """POST one GraphQL document and return its ``data``.

        GraphQL reports refused queries in an ``errors`` array, usually with HTTP 200: those are
        raised as :class:`~contentops.hooks.errors.GraphQLError` (or
        :class:`~contentops.hooks.errors.AuthenticationError` for an ``UNAUTHENTICATED`` /
        ``FORBIDDEN`` code), never returned as data. Queries are safe to resend; a mutation is
        resent only when the caller says it is idempotent (a write keyed by our own reference).
        """
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name:
            body["operationName"] = operation_name
        url = self.url_for(path)
        response = self.request("POST", url, json=body, idempotent=idempotent, expected=(400, 422))
        try:
            answer = response.json()
        except ValueError:
            answer = None
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors:
            entries = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
            codes = {str((e.get("extensions") or {}).get("code", "")).upper() for e in entries}
            common: dict[str, Any] = {
                "system": self.system,
                "status": response.status_code,
                "method": "POST",
                "url": self.redact_url(url),
                "body_excerpt": self._excerpt(response),
            }
            summary = "; ".join(_graphql_error_line(e) for e in entries[:3])
            if codes & {"UNAUTHENTICATED", "FORBIDDEN", "UNAUTHORIZED"}:
                raise AuthenticationError(f"GraphQL refused the credentials: {summary}", **common)
            raise GraphQLError(f"GraphQL errors: {summary}", errors=entries, **common)
        if response.status_code >= 400 or not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
            raise MalformedResponseError(
                "expected a GraphQL answer with data or errors",
                system=self.system,
                status=response.status_code,
                method="POST",
                url=self.redact_url(url),
                body_excerpt=self._excerpt(response),
            )
        return answer["data"]

    def iter_graphql_connection(
        self,
        path: str,
        query: str,
        *,
        connection: Callable[[dict[str, Any]], Any],
        variables: dict[str, Any] | None = None,
        page_size: int = 50,
        operation_name: str | None = None,
        first_variable: str = "first",
        after_variable: str = "after",
    ) -> Iterator[Any]:
        """Yield the nodes of a Relay-style connection page by page.

        ``connection`` picks the connection object out of ``data``; it has ``nodes`` (or
        ``edges[].node``) and ``pageInfo {hasNextPage endCursor}``. The query declares the
        ``$first`` / ``$after`` variables; the cursor of each page feeds the next request.
        Nodes are yielded as the partner sent them (a null node too): the caller validates.
        """
        after: str | None = None
        seen: set[str] = set()
        while True:
            data = self.graphql(
                path,
                query,
                {**(variables or {}), first_variable: page_size, after_variable: after},
                operation_name=operation_name,
            )
            page = connection(data)
            if not isinstance(page, dict):
                raise MalformedResponseError("expected a GraphQL connection object", system=self.system)
            nodes = page.get("nodes")
            if nodes is None:
                nodes = [edge.get("node") if isinstance(edge, dict) else None for edge in page.get("edges") or []]
            yield from nodes
            info = page.get("pageInfo") or {}
            cursor = info.get("endCursor")
            if not info.get("hasNextPage") or not cursor:
                return
            if cursor in seen:
                raise MalformedResponseError("GraphQL connection cursor repeats", system=self.system)
            seen.add(cursor)
            after = cursor

    # -- streaming --------------------------------------------------------------------
    def download(
        self,
        url: str,
        sink: Path | IO[bytes],
        *,
        authenticated: bool = False,
        chunk_size: int = _CHUNK,
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
                with _open_sink(sink) as out:
                    try:
                        for chunk in response.iter_content(chunk_size):
                            size += len(chunk)
                            if max_bytes is not None and size > max_bytes:
                                raise refuse(f"the file exceeds the limit of {max_bytes} bytes", target, too_large=True)
                            out.write(chunk)
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
        size = _size_of(source)
        all_headers = dict(headers or {})
        if field is None:
            all_headers.setdefault("Content-Type", ctype)

            def factory() -> Any:
                reader = _ChunkReader(source, size)
                return reader if size is not None else iter(reader)  # no length: chunked
        else:
            boundary = f"contentops-{secrets.token_hex(12)}"
            head, tail = _multipart_frame(boundary, field, name, ctype, form_fields or {})
            all_headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"

            def factory() -> Any:
                body = _MultipartBody(head, _ChunkReader(source, size), tail)
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

    def close(self) -> None:
        self.session.close()


# -- helpers ----------------------------------------------------------------------------
def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _graphql_error_line(error: dict[str, Any]) -> str:
    """``message (at path a.b, line 3:5)`` for one GraphQL error entry."""
    where = []
    if error.get("path"):
        where.append("at path " + ".".join(str(p) for p in error["path"]))
    locations = error.get("locations") or []
    if locations and isinstance(locations[0], dict):
        where.append(f"line {locations[0].get('line')}:{locations[0].get('column')}")
    return str(error.get("message") or "error") + (f" ({', '.join(where)})" if where else "")


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


def _size_of(source: Path | IO[bytes]) -> int | None:
    if isinstance(source, Path):
        return source.stat().st_size
    try:
        position = source.tell()
        end = source.seek(0, os.SEEK_END)
        source.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError):
        return None


class _open_sink:
    """Open a path for writing (truncating), or rewind a seekable stream, per attempt."""

    def __init__(self, sink: Path | IO[bytes]) -> None:
        self.sink = sink
        self._owned: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self.sink, Path):
            self.sink.parent.mkdir(parents=True, exist_ok=True)
            self._owned = self.sink.open("wb")
            return self._owned
        if self.sink.seekable():
            self.sink.seek(0)
            self.sink.truncate()
        return self.sink

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()


class _ChunkReader:
    """Iterates a file in chunks from its start, so requests streams it without reading it whole.

    With a known size it has a length, so requests sends ``Content-Length`` instead of
    chunked transfer encoding (which some partner gateways refuse).
    """

    def __init__(self, source: Path | IO[bytes], size: int | None) -> None:
        self.source = source
        self.size = size

    def __len__(self) -> int:
        if self.size is None:
            raise TypeError("size unknown")
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        if isinstance(self.source, Path):
            with self.source.open("rb") as handle:
                yield from iter(lambda: handle.read(_CHUNK), b"")
            return
        if self.source.seekable():
            self.source.seek(0)
        yield from iter(lambda: self.source.read(_CHUNK), b"")


class _MultipartBody:
    def __init__(self, head: bytes, body: _ChunkReader, tail: bytes) -> None:
        self.head, self.body, self.tail = head, body, tail

    def __len__(self) -> int:
        return len(self.head) + len(self.body) + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        yield from self.body
        yield self.tail


def _multipart_frame(
    boundary: str, field: str, filename: str, content_type: str, form_fields: dict[str, str]
) -> tuple[bytes, bytes]:
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in form_fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return "".join(parts).encode(), f"\r\n--{boundary}--\r\n".encode()
