"""The one HTTP transport every partner hook uses.

Written once so that six hooks don't each grow their own retry loop, paging loop, token
handling and streaming code. :class:`HttpTransport` is composed of focused parts:

- :mod:`.core` — one ``requests.Session`` per hook instance, timeouts, retries with backoff and
  jitter honouring ``Retry-After``, one token refresh and replay on 401/403, client-side pacing
  (:mod:`contentops.hooks.ratelimit`) and typed errors (:mod:`contentops.hooks.errors`);
- :mod:`.paging` — cursor, offset/count, page-number and HAL paging as generators;
- :mod:`.graphql` — GraphQL documents and Relay connections, ``errors`` raised, never data;
- :mod:`.transfers` — streamed downloads and uploads with a SHA-256;
- :mod:`.redaction` — every secret it knows kept out of log lines and exception messages;
- :mod:`.connection` — the session built from an Airflow connection with the stock HTTP
  provider's conventions (headers, proxies, TLS, client certificate, timeouts).
"""

from __future__ import annotations

from contentops.hooks.transport.core import IDEMPOTENT_METHODS, HttpCore
from contentops.hooks.transport.graphql import GraphQLMixin
from contentops.hooks.transport.paging import PagingMixin
from contentops.hooks.transport.responses import parse_retry_after
from contentops.hooks.transport.settings import TransportSettings
from contentops.hooks.transport.transfers import DownloadResult, TransfersMixin

__all__ = [
    "IDEMPOTENT_METHODS",
    "DownloadResult",
    "HttpTransport",
    "TransportSettings",
    "parse_retry_after",
]


class HttpTransport(PagingMixin, GraphQLMixin, TransfersMixin, HttpCore):
    """Session, retries, pacing, paging, GraphQL, streaming and redaction for one partner connection."""
