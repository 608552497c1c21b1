"""How a transport authenticates: OAuth2 (refresh token, client credentials) or a fixed header.

An :class:`Auth` hands the transport the headers for the next request and forgets its
token when the partner answers 401/403, so the transport can fetch a fresh one and try
once more. Token requests go through the same transport (same session, retries, pacing
and redaction) with ``authenticated=False``.
"""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Literal, Protocol

from contentops.hooks.errors import (
    AuthenticationError,
    MalformedResponseError,
    PartnerAPIError,
    PartnerServerError,
    PartnerUnavailableError,
    RefreshTokenSpentError,
)

#: A token is renewed this many seconds before the partner says it expires, so a request
#: never leaves with a token that dies on the way.
EXPIRY_MARGIN_SECONDS = 60.0


class TokenTransport(Protocol):
    """What an authentication scheme needs from the transport it is bound to.

    Declared here, not imported from :mod:`contentops.hooks.transport`, so the transport can
    depend on this module and not the other way round.
    """

    system: str

    def add_secret(self, value: str | None) -> None: ...

    def json(self, method: str, path_or_url: str, **kwargs: Any) -> Any: ...


class Auth(ABC):
    """What a transport needs from an authentication scheme."""

    transport: TokenTransport | None = None

    def bind(self, transport: TokenTransport) -> None:
        self.transport = transport

    @abstractmethod
    def headers(self) -> dict[str, str]:
        """Headers that authenticate the next request (fetching a token if needed)."""

    def invalidate(self) -> None:  # noqa: B027 - optional for schemes without tokens
        """Forget the current token: the partner refused it."""

    @abstractmethod
    def secrets(self) -> list[str]:
        """Every secret value this scheme holds, for redaction."""


class StaticHeaderAuth(Auth):
    """A fixed header, e.g. ``Authorization: Bearer <api key>`` or ``Token token=<key>``."""

    def __init__(self, name: str, value: str, *, secret: str | None = None) -> None:
        self.name = name
        self.value = value
        self._secret = secret or value

    def headers(self) -> dict[str, str]:
        return {self.name: self.value}

    def secrets(self) -> list[str]:
        return [self.value, self._secret]


class _OAuth2TokenAuth(Auth):
    """Shared token cache of the OAuth2 schemes."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, scope: str | None) -> None:
        if not token_url:
            raise ValueError("token_url is required")
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.token_fetches = 0

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._access_token is None or time.monotonic() >= self._expires_at:
                self._fetch()
            assert self._access_token is not None
            return {"Authorization": f"Bearer {self._access_token}"}

    def invalidate(self) -> None:
        with self._lock:
            self._access_token = None

    def secrets(self) -> list[str]:
        return [s for s in (self.client_secret, self._access_token) if s]

    def _fetch(self) -> None:
        if self.transport is None:
            raise RuntimeError("Auth is not bound to a transport")
        body = self._request_token()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise MalformedResponseError(
                "token endpoint answered without an access_token", system=self.transport.system
            )
        self._access_token = token
        self.transport.add_secret(token)
        lifetime = _as_seconds(body.get("expires_in"), default=3600.0)
        self._expires_at = time.monotonic() + max(lifetime - min(EXPIRY_MARGIN_SECONDS, lifetime / 10), 1.0)
        self.token_fetches += 1
        self._after_fetch(body)

    def _post_token(self, *, idempotent: bool = True, **kwargs: Any) -> dict[str, Any]:
        assert self.transport is not None
        try:
            body = self.transport.json("POST", self.token_url, authenticated=False, idempotent=idempotent, **kwargs)
        except (AuthenticationError, PartnerAPIError) as exc:
            if exc.status in (400, 401, 403):
                raise AuthenticationError(
                    "the token endpoint refused the credentials",
                    system=exc.system,
                    status=exc.status,
                    method="POST",
                    url=exc.url,
                    body_excerpt=exc.body_excerpt,
                ) from None
            raise
        if not isinstance(body, dict):
            raise MalformedResponseError("token endpoint answered with a non-object", system=self.transport.system)
        return body

    @abstractmethod
    def _request_token(self) -> dict[str, Any]: ...

    def _after_fetch(self, body: dict[str, Any]) -> None:
        """React to a token response (e.g. keep a rotated refresh token)."""


class OAuth2RefreshTokenAuth(_OAuth2TokenAuth):
    """Refresh-token grant (form POST), keeping the rotated refresh token.

    Partners that rotate refresh tokens (Smint.io does) spend the old one on every refresh:
    ``on_rotate`` is called with the new one so the hook can store it where it came from.

    Tasks running side by side (mapped tasks, parallel backfill days) share that stored
    token: when one of them rotates it, the token the others hold is spent. A refused
    refresh therefore first asks ``latest_refresh_token`` for the newest stored one and
    tries that (a few times, as others may rotate it again meanwhile), and only then the
    ``fallback_refresh_token``.

    A grant the partner may have executed without its answer reaching us (5xx, a timeout, a
    dropped connection after the request went out) is never resent by the transport: the
    token is presented again only here, knowing that the previous answer was lost, to learn
    whether it was spent (a spent token is only refused: presenting it changes nothing). If the
    partner then refuses it and no newer stored or configured token works, the task fails at
    once with :class:`RefreshTokenSpentError`, naming the connection and what to do
    (``reauthorize``) — not with a bare refusal, and never in a loop of refreshes.
    """

    #: How often a refused refresh re-reads the stored token before giving up on it.
    RELOAD_ATTEMPTS = 3

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        scope: str | None = None,
        on_rotate: Callable[[str], None] | None = None,
        fallback_refresh_token: str | None = None,
        latest_refresh_token: Callable[[], str | None] | None = None,
        reauthorize: str | None = None,
    ) -> None:
        super().__init__(token_url, client_id, client_secret, scope)
        if not refresh_token:
            raise ValueError("refresh_token is required")
        self.refresh_token = refresh_token
        self.on_rotate = on_rotate
        self.latest_refresh_token = latest_refresh_token
        #: what a person does to give the connection a new refresh token (it names the connection)
        self.reauthorize = reauthorize or "the connection needs a new refresh token"
        # e.g. the connection's own token when a stored rotated one is refused: an admin who
        # re-authorized updated the connection, which is then the newer of the two
        self.fallback_refresh_token = fallback_refresh_token if fallback_refresh_token != refresh_token else None

    def secrets(self) -> list[str]:
        return [s for s in (*super().secrets(), self.refresh_token, self.fallback_refresh_token) if s]

    def _request_token(self) -> dict[str, Any]:
        try:
            return self._refresh_tokens()
        except RefreshTokenSpentError:
            raise
        except AuthenticationError as exc:
            if "invalid_grant" not in (exc.body_excerpt or ""):
                raise  # e.g. invalid_client: the client id or secret, not the token
            raise AuthenticationError(
                f"the partner refuses the refresh token (spent, expired or revoked); {self.reauthorize}",
                system=exc.system,
                status=exc.status,
                method=exc.method,
                url=exc.url,
                body_excerpt=exc.body_excerpt,
            ) from None

    def _refresh_tokens(self) -> dict[str, Any]:
        try:
            return self._refresh_with(self.refresh_token)
        except AuthenticationError as refused:
            body = self._refresh_with_a_newer_stored_token()
            if body is not None:
                return body
            if not self.fallback_refresh_token:
                raise
            self.refresh_token, self.fallback_refresh_token = self.fallback_refresh_token, None
            try:
                return self._refresh_with(self.refresh_token)
            except AuthenticationError:
                if isinstance(refused, RefreshTokenSpentError):
                    raise refused from None  # the first refusal says why: a lost answer spent the token
                raise

    def _refresh_with_a_newer_stored_token(self) -> dict[str, Any] | None:
        """Retry with the token another task rotated in meanwhile; None when none shows up.

        The other task stores its new token only after the partner answered it, so right after
        our refusal the stored token may still be the one just refused: read again after a
        short pause, a few times, before giving up (about 2 s in all)."""
        if self.latest_refresh_token is None:
            return None
        for attempt in range(self.RELOAD_ATTEMPTS):
            latest = self.latest_refresh_token()
            if latest and latest != self.refresh_token:
                self.refresh_token = latest
                assert self.transport is not None
                self.transport.add_secret(latest)
                try:
                    return self._refresh_with(latest)
                except AuthenticationError:
                    pass  # rotated again meanwhile
            time.sleep(random.uniform(0.2, 0.5) * (attempt + 1))  # let the other task store its token
        return None

    def _refresh_with(self, refresh_token: str) -> dict[str, Any]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scope:
            form["scope"] = self.scope
        assert self.transport is not None
        attempts = max(self.transport.settings.max_attempts, 1)
        lost: PartnerAPIError | None = None
        for attempt in range(1, attempts + 1):
            try:
                return self._post_token(data=form, idempotent=False)
            except AuthenticationError as exc:
                if lost is None:
                    raise
                raise RefreshTokenSpentError(
                    f"the refresh token was spent by a token grant whose answer never arrived ({lost.message}"
                    f"{f', {lost.status}' if lost.status else ''}): the partner refuses it now "
                    f"({exc.body_excerpt or exc.status}) and the token that replaced it is lost; {self.reauthorize}",
                    system=exc.system,
                    status=exc.status,
                    method="POST",
                    url=exc.url,
                ) from None
            except (PartnerServerError, PartnerUnavailableError, MalformedResponseError) as exc:
                if attempt == attempts or (isinstance(exc, PartnerUnavailableError) and not exc.request_sent):
                    raise  # (one that never reached the partner the transport has retried already)
                # the partner may have executed the grant: present the token again, knowing that
                lost = exc
                time.sleep(
                    min(self.transport.settings.backoff_initial * 2**attempt, self.transport.settings.backoff_max)
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _after_fetch(self, body: dict[str, Any]) -> None:
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self.refresh_token:
            assert self.transport is not None
            self.transport.add_secret(rotated)
            # stored before it replaces the token in use: until it is stored, the stored one stays
            if self.on_rotate is not None:
                self.on_rotate(rotated)
            self.refresh_token = rotated


class OAuth2ClientCredentialsAuth(_OAuth2TokenAuth):
    """Client-credentials grant in the three shapes our partners use.

    - ``json``: JSON body (OpenText Cloud Platform collections),
    - ``form``: form body (OpenText's SDKs, most OAuth2 servers),
    - ``basic``: HTTP Basic with ``grant_type`` in the query (OpenText API Grid / Trading Grid).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        style: Literal["json", "form", "basic"] = "json",
    ) -> None:
        super().__init__(token_url, client_id, client_secret, scope)
        if style not in ("json", "form", "basic"):
            raise ValueError(f"unknown client-credentials style {style!r}")
        self.style = style

    def _request_token(self) -> dict[str, Any]:
        if self.style == "basic":
            return self._post_token(
                params={"grant_type": "client_credentials"}, basic_auth=(self.client_id, self.client_secret)
            )
        fields = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        if self.scope:
            fields["scope"] = self.scope
        return self._post_token(json=fields) if self.style == "json" else self._post_token(data=fields)


def _as_seconds(value: Any, *, default: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default
