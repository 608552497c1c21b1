"""A notifier for chat tools: one JSON POST to an incoming webhook named by an Airflow connection.

Slack, Mattermost, Rocket.Chat, Google Chat and most chat tools take a message as a JSON body
posted to a secret URL, and show its ``text``. The URL, and a token when the tool wants one,
live in the connection (host, extra ``endpoint``, password) — never in the DAGs, the settings
file, the logs or the error raised when the post fails.

Connection (any type, e.g. ``http``): ``host`` the tool's address (``https://chat.example.com``,
or a bare host with ``schema`` http/https and ``port``); extra ``endpoint`` the webhook's path;
``password`` sent as ``Authorization: Bearer …`` when set; extra ``headers`` more headers;
extra ``timeout`` seconds (default 10).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseNotifier

DEFAULT_TIMEOUT = 10.0


class WebhookError(RuntimeError):
    """The webhook did not take the message; says which connection and status, not the URL."""


class WebhookNotifier(BaseNotifier):
    """POST ``payload`` (templated) as JSON to the webhook of connection ``conn_id``.

    ``payload`` is typically ``{"text": "…"}``; further keys are passed as they are, so a tool
    that reads other fields gets them too.
    """

    template_fields: Sequence[str] = ("payload",)

    def __init__(self, *, conn_id: str, payload: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.payload = dict(payload)

    def _target(self) -> tuple[str, dict[str, str], float]:
        """The URL, headers and timeout the connection describes."""
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(self.conn_id)
        extra = conn.extra_dejson
        host = (conn.host or "").rstrip("/")
        if not host:
            raise WebhookError(f"webhook connection {self.conn_id!r} has no host")
        if not host.startswith(("http://", "https://")):
            host = f"{conn.schema or 'https'}://{host}" + (f":{conn.port}" if conn.port else "")
        endpoint = str(extra.get("endpoint") or "")
        url = host + ("/" + endpoint.lstrip("/") if endpoint else "")
        headers = {
            "Content-Type": "application/json",
            **{str(k): str(v) for k, v in (extra.get("headers") or {}).items()},
        }
        if conn.password:
            headers["Authorization"] = f"Bearer {conn.password}"
        return url, headers, float(extra.get("timeout") or DEFAULT_TIMEOUT)

    def notify(self, context: Any) -> None:
        import requests

        url, headers, timeout = self._target()
        try:
            response = requests.post(url, json=self.payload, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            # the exception's text carries the URL (and so the webhook's secret path): name its kind only
            raise WebhookError(
                f"webhook connection {self.conn_id!r}: {type(exc).__name__} (host unreachable or too slow)"
            ) from None
        if response.status_code >= 300:
            raise WebhookError(f"webhook connection {self.conn_id!r} answered HTTP {response.status_code}")
        self.log.info("Alert posted to the webhook of connection %s", self.conn_id)

    async def async_notify(self, context: Any) -> None:
        """In the triggerer (deadline alerts): the same post, off the event loop."""
        await asyncio.to_thread(self.notify, context)
