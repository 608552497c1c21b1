"""Real servers the alert tests read alerts on: an SMTP server (aiosmtpd) and a webhook (HTTP) server,
both on free loopback ports, each with the Airflow connection that points at it."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_LOGIN = "alerts"
SMTP_PASSWORD = "smtp-pass-4f9c2e"
WEBHOOK_TOKEN = "chat-token-8d1b7a"
WEBHOOK_PATH = "/hooks/T01/secret-path-55aa"


@dataclass
class Mailbox:
    """What the SMTP server received: parsed messages, envelope recipients, logins accepted."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": self.port,
            "login": SMTP_LOGIN,
            "password": SMTP_PASSWORD,
            "extra": {
                "disable_ssl": True,
                "disable_tls": True,
                "from_email": "contentops@example.com",
                "retry_limit": 0,
                "timeout": 5,
            },
        }

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)

    @staticmethod
    def body(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html", "plain"))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.box.recipients.append(list(envelope.rcpt_tos))
        self.box.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An SMTP server that takes mail only after a LOGIN/PLAIN auth with the test credentials."""
    box = Mailbox(port=0)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            SMTP_LOGIN.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            box.logins.append(SMTP_LOGIN)
        return AuthResult(success=ok)

    with socket.socket() as probe:  # aiosmtpd checks its server by connecting: it needs a real port up front
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(
        _Handler(box),
        hostname="127.0.0.1",
        port=box.port,
        authenticator=authenticate,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Webhook:
    """What the webhook server received: (path, headers, JSON body) per POST."""

    port: int
    status: int = 200
    posts: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)

    def connection(self) -> dict[str, Any]:
        return {
            "conn_type": "http",
            "host": "127.0.0.1",
            "schema": "http",
            "port": self.port,
            "password": WEBHOOK_TOKEN,
            "extra": {"endpoint": WEBHOOK_PATH, "timeout": 5},
        }


@contextmanager
def webhook_server() -> Iterator[Webhook]:
    hook = Webhook(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            hook.posts.append((self.path, dict(self.headers.items()), json.loads(raw or b"null")))
            self.send_response(hook.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    # a short poll: shutdown() waits for serve_forever's next look (half a second by default)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
