"""A partner connection's HTTP session, built the way the stock HTTP provider builds one.

Whoever runs Airflow already knows the HTTP provider's connection extras: ``proxies`` (or
``proxy``), ``verify`` (or ``verify_ssl``: false, or a CA bundle path), ``cert`` (a client
certificate, or a [certificate, key] pair), ``timeout``, ``trust_env``, ``max_redirects``,
``allow_redirects``, and headers. A partner connection takes the same keys with the same
meaning, and the session is made by :class:`~airflow.providers.http.hooks.http.HttpHook`'s own
connection handling, so the two cannot drift apart; pacing, ``Retry-After``, token refresh and
paging stay the transport's, on top.

Two differences, both deliberate:

- HttpHook sends *every* other extra key as a header. A partner connection's extra also holds
  its own settings (``refresh_token``, ``paths``, ``tenant_id`` …), which must never travel as
  headers, so here a header is a key written as HTTP writes header names (``Accept-Language``,
  ``X-Request-Source``: anything but a lowercase ``snake_case`` name) with a text or number value.
- ``verify`` given as the text ``"false"`` / ``"true"`` (the connection form and URIs only carry
  text) means the boolean, not a CA bundle file of that name; a ``cert`` pair written as a JSON
  list works (requests itself takes only a tuple there); ``proxies`` given as one URL (the
  connection form's text field) is the proxy for both http and https.

``check_response``, ``stream`` and ``srv_lookup`` are not used: the transport always checks the
answer (a failed call never reads as success), chooses streaming per call, and calls the host.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk import Connection

from contentops.hooks.transport.redaction import SENSITIVE_NAME

#: The extras HttpHook reads as request options rather than headers, and that we pass on to it.
HTTP_OPTION_KEYS = frozenset(
    {"proxies", "proxy", "verify", "verify_ssl", "cert", "timeout", "trust_env", "max_redirects", "allow_redirects"}
)
#: HttpHook options the transport does not take from the connection (see the module docstring).
IGNORED_HTTP_OPTION_KEYS = frozenset({"check_response", "stream", "srv_lookup"})

_SETTING_NAME = re.compile(r"[a-z][a-z0-9_]*")


def header_extras(extra: dict[str, Any]) -> dict[str, str]:
    """The connection-extra entries that are HTTP headers (see the module docstring)."""
    headers = {}
    for key, value in extra.items():
        if key in HTTP_OPTION_KEYS or key in IGNORED_HTTP_OPTION_KEYS or _SETTING_NAME.fullmatch(key):
            continue
        if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
            headers[key] = str(value)
    return headers


def timeouts(value: Any) -> dict[str, float]:
    """``connect_timeout`` / ``read_timeout`` from HttpHook's ``timeout`` extra: one number for
    both, or a ``[connect, read]`` pair (as requests takes it)."""
    if value in (None, ""):
        return {}
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError("extra 'timeout' must be a number of seconds or a [connect, read] pair")
        return {"connect_timeout": float(value[0]), "read_timeout": float(value[1])}
    seconds = float(value)
    return {"connect_timeout": seconds, "read_timeout": seconds}


@dataclass
class ConnectionHttp:
    """What the connection's extras make of HTTP: the session and the per-request options."""

    session: requests.Session
    #: connect/read timeouts from ``timeout`` (empty when not given)
    timeouts: dict[str, float] = field(default_factory=dict)
    allow_redirects: bool | None = None
    #: values that authenticate (headers named like keys or tokens, proxy passwords): never logged
    secrets: list[str] = field(default_factory=list)


class _ConnectionSessionHook(HttpHook):
    """HttpHook reading a connection handed to it instead of looking one up by id."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(method="GET", http_conn_id=connection.conn_id)
        self._connection = connection

    def get_connection(self, conn_id: str) -> Connection:  # type: ignore[override]
        return self._connection


def connection_http(conn_id: str, base_url: str, extra: dict[str, Any]) -> ConnectionHttp:
    """The session for a partner connection at ``base_url`` with these extras, made by HttpHook.

    HttpHook sees only what it should act on: the request options and the headers. The login and
    password stay out (the partner hook's own authentication scheme uses them, not Basic auth).
    """
    options = {key: extra[key] for key in HTTP_OPTION_KEYS if extra.get(key) not in (None, "")}
    headers = header_extras(extra)
    connection = Connection(conn_id=conn_id, conn_type="http", host=base_url, extra=json.dumps({**options, **headers}))
    hook = _ConnectionSessionHook(connection)
    session = hook.get_conn()
    session.verify = _verify(session.verify)
    if isinstance(session.cert, list):  # JSON has no tuples; requests needs a hashable pair
        session.cert = tuple(session.cert)
    if isinstance(session.proxies, str):  # the connection form's text field: one proxy for both
        session.proxies = {"http": session.proxies, "https": session.proxies} if session.proxies else {}
    allow_redirects = hook.merged_extra.get("allow_redirects")
    return ConnectionHttp(
        session=session,
        timeouts=timeouts(hook.merged_extra.get("timeout")),
        allow_redirects=None if allow_redirects is None else _flag(allow_redirects),
        secrets=[value for name, value in headers.items() if SENSITIVE_NAME.search(name)]
        + _proxy_passwords(session.proxies),
    )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off", "")
    return bool(value)


def _verify(value: Any) -> bool | str:
    """``verify`` as requests takes it: a boolean, or the path of a CA bundle."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value if isinstance(value, str) else bool(value)


def _proxy_passwords(proxies: dict[str, str]) -> list[str]:
    passwords = {urlsplit(str(url)).password for url in (proxies or {}).values()}
    return sorted(password for password in passwords if password)
