"""A partner's HTTP answer read the same way everywhere: typed errors, Retry-After, excerpts."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from contentops.hooks.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PartnerAPIError,
    PartnerServerError,
    PartnerUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)

EXCERPT_CHARS = 500


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


def body_excerpt(response: requests.Response, redact: Callable[[str], str]) -> str:
    """The start of the answer's body on one line, secrets hidden, for an error message."""
    try:
        text = response.text
    except (requests.RequestException, UnicodeDecodeError):  # a body we cannot read is just not quoted
        return ""
    text = " ".join(text.split())
    return redact(text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else ""))


def error_for_status(common: dict[str, Any], response: requests.Response) -> PartnerAPIError:
    """The typed error of a failed answer; ``common`` holds the error's system, method, url, excerpt."""
    status = response.status_code
    common = {**common, "status": status}
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
