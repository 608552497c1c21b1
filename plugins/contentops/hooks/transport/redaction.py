"""Secrets a transport knows of, kept out of every log line and exception message it writes."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters whose value is hidden in any URL the transport logs or reports.
SENSITIVE_NAME = re.compile(r"token|key|secret|sig|password|passwd|code|auth|credential", re.IGNORECASE)


class SecretRedactor:
    """Collects secret values (credentials, tokens as they are issued) and hides them in text.

    ``on_secret`` hears of every new value too, so Airflow's own log masking learns it.
    """

    def __init__(self, on_secret: Callable[[str], None] | None = None) -> None:
        self.on_secret = on_secret
        self._secrets: set[str] = set()

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
        """``url`` without user info, with sensitive query values and known secrets hidden."""
        parts = urlsplit(url)
        query = urlencode(
            [(k, "***" if SENSITIVE_NAME.search(k) else v) for k, v in parse_qsl(parts.query, True)],
            safe="*:/,",
        )
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return self.redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))
