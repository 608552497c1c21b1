"""The base class of every partner hook: an Airflow connection turned into a transport.

A subclass declares its connection type, its paths (all in one ``default_paths`` dict,
each overridable from the connection's extra ``paths``, because several partner APIs are
only partly public and the real paths may differ per tenant) and how it authenticates.
Everything else — session, retries, pacing, paging, streaming, redaction — comes from
:class:`~contentops.hooks.transport.HttpTransport`, on a session built from the connection with
the stock HTTP provider's conventions (:mod:`contentops.hooks.transport.connection`).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import IO, Any, ClassVar, TypeVar
from urllib.parse import quote

import requests
from airflow.sdk import BaseHook, Connection
from pydantic import BaseModel, ValidationError

from contentops.hooks.auth import Auth, OAuth2RefreshTokenAuth
from contentops.hooks.errors import InvalidConnectionError, PartnerAPIError
from contentops.hooks.transport import DownloadResult, HttpTransport, TransportSettings
from contentops.hooks.transport.connection import ConnectionHttp, connection_http
from contentops.models.common import OnInvalid, describe_validation_error

M = TypeVar("M", bound=BaseModel)


def validate_or_hand_over(model: type[M], raw: Any, what: str, on_invalid: OnInvalid | None) -> M | None:
    """``raw`` as ``model``; if it fails validation it goes to ``on_invalid`` as
    ``("invalid <what>: <errors>", raw)`` and None is returned, so one bad partner record is
    quarantined instead of stopping a listing. Without a callback the ValidationError propagates."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        if on_invalid is None:
            raise
        on_invalid(f"invalid {what}: {describe_validation_error(exc)}", raw)
        return None


def iter_validated(items: Iterable[Any], model: type[M], what: str, on_invalid: OnInvalid | None) -> Iterator[M]:
    """Each of ``items`` as ``model``, the invalid ones handed to ``on_invalid`` (see
    :func:`validate_or_hand_over`) and skipped."""
    for raw in items:
        record = validate_or_hand_over(model, raw, what, on_invalid)
        if record is not None:
            yield record


log = logging.getLogger(__name__)

#: Connection-extra keys of the transport's own settings; shared by every partner connection type.
#: The stock HTTP provider's keys (headers, ``proxies``, ``verify``, ``cert``, ``timeout`` …) are
#: read as well: see :mod:`contentops.hooks.transport.connection`.
TRANSPORT_EXTRA_KEYS = (
    "connect_timeout",
    "read_timeout",
    "max_attempts",
    "backoff_initial",
    "backoff_max",
    "max_retry_after",
    "rate_limit_per_second",
    "rate_limit_burst",
    "rate_limit_scope",
    "rate_limit_dir",
)


class PartnerHook(BaseHook):
    """Connection handling shared by the six partner hooks."""

    conn_name_attr: ClassVar[str] = "conn_id"
    default_conn_name: ClassVar[str] = ""
    conn_type: ClassVar[str] = ""
    hook_name: ClassVar[str] = ""
    system: ClassVar[str] = ""
    default_paths: ClassVar[dict[str, str]] = {}
    #: Path used by the default test_connection (a cheap authenticated GET).
    health_path: ClassVar[str | None] = None

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        # Airflow's Connection.get_hook() passes the id under the class's conn_name_attr
        named = kwargs.pop(self.conn_name_attr, None) if self.conn_name_attr != "conn_id" else None
        super().__init__(**kwargs)
        self.conn_id = conn_id or named or self.default_conn_name

    # -- connection -------------------------------------------------------------------
    @cached_property
    def connection(self) -> Connection:
        """The Airflow connection; one that is not defined is an :class:`InvalidConnectionError`
        naming its id, which fails the task at once (contentops.retries): no later try defines it."""
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return self.get_connection(self.conn_id)
        except AirflowNotFoundException:
            raise InvalidConnectionError(
                f"connection {self.conn_id!r} is not defined (create it, or fix the DAG's conn id Param)",
                system=self.system,
            ) from None

    @cached_property
    def extra(self) -> dict[str, Any]:
        raw = self.connection.extra
        if not raw:
            return {}
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw)
        except ValueError:
            raise InvalidConnectionError(
                f"connection {self.conn_id!r} has an extra that is not JSON", system=self.system
            ) from None
        return value if isinstance(value, dict) else {}

    def base_url(self) -> str:
        """The API root: the connection's host (a full URL, or host + schema/port)."""
        conn = self.connection
        host = (conn.host or "").strip()
        if not host:
            raise InvalidConnectionError(f"connection {self.conn_id!r} has no host", system=self.system)
        if "://" not in host:
            scheme = conn.schema or "https"
            host = f"{scheme}://{host}"
            if conn.port:
                host = f"{host}:{conn.port}"
        return host.rstrip("/")

    def http_from_connection(self) -> ConnectionHttp:
        """A new session and the request options, as the connection's HTTP-provider extras make them."""
        try:
            return connection_http(self.conn_id, self.base_url(), self.extra)
        except (TypeError, ValueError) as exc:
            raise InvalidConnectionError(
                f"connection {self.conn_id!r} has an unusable HTTP setting: {exc}", system=self.system
            ) from None

    def transport_settings(self, base_url: str | None = None, http: ConnectionHttp | None = None) -> TransportSettings:
        """The transport's settings: the HTTP provider's ``timeout`` / ``allow_redirects`` extras,
        then our own keys (``connect_timeout`` and ``read_timeout`` win over ``timeout``)."""
        extra = self.extra
        if http is None:
            http = self.http_from_connection()
            http.session.close()  # only its options are read here
        values: dict[str, Any] = dict(http.timeouts)
        if http.allow_redirects is not None:
            values["allow_redirects"] = http.allow_redirects
        values.update({key: extra[key] for key in TRANSPORT_EXTRA_KEYS if extra.get(key) not in (None, "")})
        values["rate_limit_key"] = self.conn_id  # the host's tasks on this connection share one pace
        try:
            return TransportSettings(base_url=base_url or self.base_url(), **values)
        except ValidationError as exc:
            raise InvalidConnectionError(
                f"connection {self.conn_id!r}: {describe_validation_error(exc)}", system=self.system
            ) from None

    def build_auth(self, conn: Connection) -> Auth | None:
        """The authentication scheme of this system (override)."""
        return None

    @cached_property
    def transport(self) -> HttpTransport:
        return self.make_transport(self.build_auth(self.connection))

    def make_transport(self, auth: Auth | None) -> HttpTransport:
        """A transport on this connection (its HTTP settings and session) authenticating with ``auth``.

        Each transport gets a session of its own, built from the connection the same way."""
        from airflow.sdk.log import mask_secret

        http = self.http_from_connection()
        transport = HttpTransport(
            self.transport_settings(http=http), auth, system=self.system, on_secret=mask_secret, session=http.session
        )
        for value in http.secrets:
            transport.add_secret(value)
        return transport

    def get_conn(self) -> HttpTransport:
        return self.transport

    # -- paths ------------------------------------------------------------------------
    @cached_property
    def paths(self) -> dict[str, str]:
        overrides = self.extra.get("paths") or {}
        if not isinstance(overrides, dict):
            raise InvalidConnectionError("extra 'paths' must be an object of name -> path", system=self.system)
        unknown = set(overrides) - set(self.default_paths)
        if unknown:
            raise InvalidConnectionError(
                f"extra 'paths' names unknown operations: {sorted(unknown)}", system=self.system
            )
        return {**self.default_paths, **overrides}

    def path(self, name: str, **params: Any) -> str:
        """The path of operation ``name`` with its placeholders filled in (URL-quoted)."""
        return self.paths[name].format(**{key: quote(str(value), safe="") for key, value in params.items()})

    # -- partner files ----------------------------------------------------------------
    def download_origins(self) -> list[str]:
        """Where files this partner hands us links to may be fetched from: the connection's own
        origin (scheme, host and port), plus any listed in the extra ``download_origins``."""
        extra = self.extra.get("download_origins") or []
        if isinstance(extra, str):  # the connection form's text field: comma-separated
            extra = [origin.strip() for origin in extra.split(",") if origin.strip()]
        if not isinstance(extra, list):
            raise InvalidConnectionError("extra 'download_origins' must be a list of URLs", system=self.system)
        return [self.base_url(), *(str(origin) for origin in extra)]

    def download_partner_file(
        self, url: str, sink: Path | IO[bytes], *, max_bytes: int | None = None, authenticated: bool = True
    ) -> DownloadResult:
        """Stream a file a partner linked to, confined to :meth:`download_origins`.

        Partner input decides the URL, so the transport refuses any other host or port and any
        redirect that leaves them (never requested), sends credentials only to the connection's
        own origin, and stops at ``max_bytes``.
        """
        return self.transport.download(
            url, sink, authenticated=authenticated, allowed_origins=self.download_origins(), max_bytes=max_bytes
        )

    # -- UI ---------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Authenticate and make one cheap call (the connection form's Test button)."""
        if not self.health_path:
            return False, f"{self.hook_name} has no connection test"
        try:
            self.transport.request(
                "GET", self.path(self.health_path) if self.health_path in self.paths else self.health_path
            )
        except PartnerAPIError as exc:
            return False, str(exc)
        return True, f"Connected to {self.hook_name} at {self.transport.redact_url(self.base_url())}"


class RefreshTokenStore:
    """Where rotated refresh tokens go: an Airflow Variable when running in Airflow, else memory.

    Partners that rotate refresh tokens spend the old one on every refresh, so the newest must
    survive the task that received it; the Variable ``<system>_refresh_token__<conn_id>`` is
    masked in the UI and logs (its name contains "token")."""

    def __init__(self, system: str, conn_id: str) -> None:
        self.key = f"{system}_refresh_token__{conn_id}"
        self._memory: str | None = None

    def load(self) -> str | None:
        if self._memory:
            return self._memory
        try:
            from airflow.sdk import Variable

            return Variable.get(self.key, default=None)
        except Exception:
            return None

    def reload(self) -> str | None:
        """The newest stored token, past this process's memory: another task may have rotated it."""
        try:
            from airflow.sdk import Variable

            stored = Variable.get(self.key, default=None)
        except Exception:
            return self.load()
        return stored or self.load()

    def save(self, token: str) -> None:
        self._memory = token
        try:
            from airflow.sdk import Variable

            Variable.set(self.key, token, description="Rotated refresh token (written by contentops)")
        except Exception as exc:
            log.warning(
                "Could not store the rotated refresh token as Variable %s (%s); it is kept "
                "in memory for this process only",
                self.key,
                type(exc).__name__,
            )


class RefreshTokenHook(PartnerHook):
    """A partner hook authenticating with a rotating OAuth2 refresh token (Smint.io, VIP).

    Connection: login = client id, password = client secret, extra ``refresh_token`` (from the
    one-time authorization-code flow). The newest rotated token is kept by
    :class:`RefreshTokenStore` and preferred; if the partner refuses it, the connection's own
    token is tried (an admin who re-authorized updated the connection).
    """

    def __init__(
        self, conn_id: str | None = None, *, refresh_token_store: RefreshTokenStore | None = None, **kwargs: Any
    ) -> None:
        super().__init__(conn_id, **kwargs)
        self.refresh_token_store = refresh_token_store or RefreshTokenStore(self.system, self.conn_id)

    def token_url(self) -> str:
        raise NotImplementedError

    def test_client_credentials(self, transport: HttpTransport) -> str | None:
        """For the connection form's Test button: None when the token endpoint accepts the
        client id and secret, else why not — without presenting the refresh token.

        The partner spends a refresh token on every use and answers with a new one; the Test
        button runs outside any task (a throw-away connection id, no Variable store), so a new
        token could not be kept and the connection's own would be spent: the next Test and the
        next task run refused. So the endpoint is asked to refresh a token that cannot exist: an
        OAuth2 server checks the client first (RFC 6749 §5.2), so ``invalid_grant`` means the
        client id and secret were accepted, ``invalid_client`` (or 401/403) that they were not.
        """
        form = {
            "grant_type": "refresh_token",
            "refresh_token": f"contentops-connection-test-{secrets.token_hex(8)}",
            "client_id": self.connection.login or "",
            "client_secret": self.connection.password or "",
        }
        url = self.token_url()
        response = transport.request(
            "POST", url, data=form, authenticated=False, idempotent=True, expected=(400, 401, 403)
        )
        error = oauth_error(response)
        if response.status_code == 400 and error == "invalid_grant":
            return None
        if error == "invalid_client" or response.status_code in (401, 403):
            return (
                f"{self.hook_name} refused the client id or secret at {transport.redact_url(url)} "
                f"({response.status_code} {error or 'no error code'})"
            )
        return (
            f"the token endpoint {transport.redact_url(url)} answered {response.status_code} "
            f"{error or ''} where an OAuth2 server refuses an unknown refresh token with invalid_grant".rstrip()
        )

    def build_auth(self, conn: Connection) -> Auth | None:
        configured = self.extra.get("refresh_token")
        refresh_token = self.refresh_token_store.load() or configured
        if not conn.login or not conn.password or not refresh_token:
            raise InvalidConnectionError(
                f"connection {self.conn_id!r} needs the client id (login), client secret (password) and a "
                "refresh token (extra 'refresh_token')",
                system=self.system,
            )
        return OAuth2RefreshTokenAuth(
            self.token_url(),
            conn.login,
            conn.password,
            refresh_token,
            scope=self.extra.get("scope"),
            on_rotate=self.refresh_token_store.save,
            fallback_refresh_token=configured,
            latest_refresh_token=self.refresh_token_store.reload,
            reauthorize=(
                f"authorise the client again and put the new refresh token in the extra 'refresh_token' of "
                f"connection {self.conn_id!r} (the Variable {self.refresh_token_store.key} then gives way to it)"
            ),
        )


def oauth_error(response: requests.Response) -> str | None:
    """The ``error`` code of an OAuth2 error answer (RFC 6749 §5.2), if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error else None
