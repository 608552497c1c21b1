"""Access and refresh tokens with real expiry, rotation and revocation.

Tokens are random strings stored in the sandbox's document store, so they survive a
restart like a real authorization server's would. Expiry follows the sandbox clock, which
``/_sandbox/clock`` can move forward to expire tokens without waiting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from contentops_sandbox.core.clock import SandboxClock
from contentops_sandbox.core.store import DocumentStore


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    refresh_token: str | None
    scope: str

    def as_response(self, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        body.update(extra)
        return body


class TokenIssuer:
    """Issues, validates, rotates and revokes tokens for one sandbox."""

    def __init__(self, store: DocumentStore, clock: SandboxClock, ttl_seconds: int = 3600) -> None:
        self.store = store
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def issue(self, subject: str, scope: str = "", *, with_refresh: bool = True) -> IssuedToken:
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32) if with_refresh else None
        now = self.clock.now().timestamp()
        self.store.put(
            "access_token", access, {"subject": subject, "scope": scope, "expires_at": now + self.ttl_seconds}
        )
        if refresh:
            self.store.put("refresh_token", refresh, {"subject": subject, "scope": scope, "used": False})
        return IssuedToken(access, self.ttl_seconds, refresh, scope)

    def subject_of(self, access_token: str) -> str | None:
        """The token's subject if it is known, unexpired and not revoked."""
        record = self.store.get("access_token", access_token)
        if not record or record.get("revoked"):
            return None
        if record["expires_at"] <= self.clock.now().timestamp():
            return None
        return str(record["subject"])

    def refresh(self, refresh_token: str) -> IssuedToken | None:
        """Rotate: the old refresh token is spent, a new pair comes back."""
        record = self.store.get("refresh_token", refresh_token)
        if not record or record.get("used") or record.get("revoked"):
            return None
        self.store.put("refresh_token", refresh_token, {**record, "used": True})
        return self.issue(record["subject"], record.get("scope", ""))

    def register_refresh_token(self, refresh_token: str, subject: str, scope: str = "") -> None:
        """Seed a refresh token (what a completed authorization-code flow leaves a client)."""
        self.store.put("refresh_token", refresh_token, {"subject": subject, "scope": scope, "used": False})

    def revoke_all(self) -> int:
        """Revoke every access token (a password reset, a key rotation on the partner's side)."""
        revoked = 0
        for doc in self.store.documents("access_token"):
            if not doc.body.get("revoked"):
                self.store.put("access_token", doc.id, {**doc.body, "revoked": True})
                revoked += 1
        return revoked
