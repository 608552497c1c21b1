"""One logical request to a partner: session, timeouts, pacing, retries, token refresh, typed errors.

The paging, GraphQL and transfer mixins are built on :class:`HttpCore`; every request they
make goes through :meth:`HttpCore.request` (or :meth:`HttpCore._send` for a download that
follows its own redirects), so the retry, Retry-After, pacing and redaction rules hold for all.

Retries use exponential backoff with full jitter (tenacity) on connection errors, 5xx, 408 and
429, honouring ``Retry-After`` (seconds or an HTTP date). Non-idempotent calls are retried only
when the partner cannot have acted on them (429, or nothing was sent) or when the caller says
the call is idempotent (an idempotency key, a PUT-style write). A 401/403 renews the token once
and replays the call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from contentops.hooks.auth import Auth
from contentops.hooks.errors import (
    ConflictError,
    MalformedResponseError,
    PartnerAPIError,
    PartnerServerError,
    PartnerUnavailableError,
    RateLimitedError,
)
from contentops.hooks.ratelimit import RequestPacer
from contentops.hooks.ratelimit_shared import SharedRequestPacer, bucket_path, default_directory
from contentops.hooks.transport.redaction import SecretRedactor
from contentops.hooks.transport.responses import body_excerpt, error_for_status
from contentops.hooks.transport.settings import TransportSettings

log = logging.getLogger("contentops.hooks.transport")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def make_pacer(settings: TransportSettings, system: str) -> RequestPacer | SharedRequestPacer | None:
    """The connection's pacer: none without a rate; shared by the host's processes on the same
    connection (``rate_limit_scope`` "host", the default), or this transport's own ("task")."""
    rate = settings.rate_limit_per_second
    if not rate:
        return None
    if settings.rate_limit_scope == "task":
        return RequestPacer(rate, settings.rate_limit_burst)
    directory = Path(settings.rate_limit_dir) if settings.rate_limit_dir else default_directory()
    key = "\0".join((system, settings.rate_limit_key, settings.base_url.rstrip("/")))
    return SharedRequestPacer(rate, settings.rate_limit_burst, path=bucket_path(directory, key))


class HttpCore(SecretRedactor):
    """Session, retries, pacing and redaction for one partner connection.

    ``session`` is the connection's own (built by the hook from the Airflow connection: headers,
    proxies, TLS verification, client certificate); without one the transport makes a plain
    session that verifies TLS as ``settings.verify_ssl`` says.
    """

    def __init__(
        self,
        settings: TransportSettings,
        auth: Auth | None = None,
        *,
        system: str,
        on_secret: Callable[[str], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(on_secret)
        self.settings = settings
        self.system = system
        self.base_url = settings.base_url.rstrip("/") + "/"
        if session is None:
            session = requests.Session()
            session.verify = settings.verify_ssl
        self.session = session
        if session.headers.get("User-Agent") in (None, requests.utils.default_user_agent()):
            session.headers["User-Agent"] = settings.user_agent  # unless the connection names its own
        self.pacer = make_pacer(settings, system)
        self.auth = auth
        if auth is not None:
            auth.bind(self)
            for value in auth.secrets():
                self.add_secret(value)
        self.requests_sent = 0

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

    def json(self, method: str, path_or_url: str, *, decode: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        """Like :meth:`request`, returning the decoded JSON body (None for an empty body).

        ``decode`` (given the response) replaces ``response.json()``, e.g. to validate the body
        straight from its bytes; a ``ValueError`` from it means the body is not JSON."""
        response = self.request(method, path_or_url, **kwargs)
        if not response.content:
            return None
        try:
            return decode(response) if decode is not None else response.json()
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
        allow_redirects: bool | None = None,
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
                    allow_redirects=self.settings.allow_redirects if allow_redirects is None else allow_redirects,
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
            except requests.TooManyRedirects:
                raise MalformedResponseError(
                    f"more than {self.session.max_redirects} redirects (extra 'max_redirects')",
                    system=self.system,
                    method=method,
                    url=self.redact_url(url),
                ) from None
            except requests.exceptions.SSLError:
                raise PartnerUnavailableError(
                    "connection failed (TLS: the partner's certificate was not trusted or ours was refused; "
                    "see the connection's extras 'verify' and 'cert')",
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
        return error_for_status(
            {
                "system": self.system,
                "method": method,
                "url": self.redact_url(url),
                "body_excerpt": self._excerpt(response),
            },
            response,
        )

    def _excerpt(self, response: requests.Response) -> str:
        return body_excerpt(response, self.redact)

    def close(self) -> None:
        self.session.close()
