"""Switchable faults: what a flaky partner does to a client, on demand.

Faults are set at start (``SandboxConfig.faults``) or at run time through
``PUT /_sandbox/faults``. Deterministic ones (``fail_next``) let a test say "the next
three calls get 503, 429, 503"; random ones (``error_rate``, ``throttle_rate``,
``write_error_rate``, ``drop_body_rate``) drive soak runs, the fault matrix and benchmarks
from a fixed seed.

The random faults are the three ways a real partner hurts a client that retries: a call
refused before it did anything (``error_rate``: retrying is safe), a storm of 429s
(``throttle_rate``: the client must wait Retry-After, not give up), a write that *was*
applied but whose answer is lost (``write_error_rate``: retrying must not do it twice), and a
download whose connection drops half-way (``drop_body_rate``: the client must not keep half a
file). Every sandbox gets them from the shared middleware, none has to code them.
"""

from __future__ import annotations

import random
import threading

from pydantic import BaseModel, Field


class FaultSettings(BaseModel):
    """The faults a sandbox injects into its API routes (never into ``/_sandbox``)."""

    latency_ms: int = Field(0, ge=0, description="Added to every API response.")
    error_rate: float = Field(0.0, ge=0.0, le=1.0, description="Share of API calls answered with error_status.")
    error_status: int = Field(503, ge=500, le=599)
    fail_next: list[int] = Field(
        default_factory=list, description="Statuses for the next API calls, in order (e.g. [429, 503])."
    )
    fail_after_next: list[int] = Field(
        default_factory=list,
        description=(
            "Statuses the next API calls answer with after they were served: the partner did the work, "
            "the client sees an error (a gateway's 5xx after the backend committed)."
        ),
    )
    malformed_rate: float = Field(0.0, ge=0.0, le=1.0, description="Share of records served malformed.")
    drop_download_after_bytes: int | None = Field(
        None, ge=0, description="Cut binary downloads after this many bytes (once per URL)."
    )
    retry_after_seconds: int = Field(1, ge=0, description="Retry-After sent with injected 429s.")
    throttle_rate: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of API calls answered 429 with Retry-After (a 429 storm)."
    )
    write_error_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of writes (POST, PUT, PATCH, DELETE) applied and then answered with error_status: "
        "the change is made, the client only sees the error.",
    )
    write_error_spares: list[str] = Field(
        default_factory=lambda: ["/token"],
        description="Path endings write_error_rate never hits. Default: token endpoints, since a one-time "
        "refresh token rotated by a grant whose answer is lost is spent for good; no client can heal that.",
    )
    lose_token_answers: int = Field(
        0,
        ge=0,
        description="The next N token grants (POSTs to a path ending in /token) are executed and their answer "
        "lost: the connection closes before the body arrives. A rotating refresh token presented in such a "
        "grant is spent, and its successor never reached the client.",
    )
    drop_body_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of binary (non-JSON) response bodies cut half-way with the connection closed.",
    )
    seed: int = 7


class FaultState:
    """The live fault settings plus the random source and the fail-next queue."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self.settings = settings or FaultSettings()
        self._random = random.Random(self.settings.seed)
        self._queue = list(self.settings.fail_next)
        self._after = list(self.settings.fail_after_next)
        self.malformed_served = 0  # records served malformed since start: what a client had to quarantine
        self._token_answers_to_lose = self.settings.lose_token_answers

    def replace(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self._queue = list(settings.fail_next)
            self._after = list(settings.fail_after_next)
            self._token_answers_to_lose = settings.lose_token_answers

    def loses_token_answer(self, method: str, path: str) -> bool:
        """Whether this token grant is executed and its answer lost (``lose_token_answers``)."""
        if method != "POST" or not path.rstrip("/").endswith("/token"):
            return False
        with self._lock:
            if self._token_answers_to_lose <= 0:
                return False
            self._token_answers_to_lose -= 1
            return True

    def injected_status(self) -> int | None:
        """The status to answer this call with instead of serving it, if any."""
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            if self.settings.error_rate and self._random.random() < self.settings.error_rate:
                return self.settings.error_status
        return None

    def injected_after_status(self) -> int | None:
        """The status to answer this call with once it has been served, if any."""
        with self._lock:
            return self._after.pop(0) if self._after else None

    def injected_throttle(self) -> bool:
        """Whether this call is answered 429 (after ``fail_next`` and ``error_rate`` had their say)."""
        return self._draw(self.settings.throttle_rate)

    def loses_write_reply(self, path: str) -> bool:
        """Whether this write (to ``path``) is applied and then answered with ``error_status``."""
        if path.rstrip("/").endswith(tuple(self.settings.write_error_spares)):
            return False
        return self._draw(self.settings.write_error_rate)

    def drops_body(self) -> bool:
        """Whether this binary response is cut half-way."""
        return self._draw(self.settings.drop_body_rate)

    def _draw(self, rate: float) -> bool:
        with self._lock:
            return bool(rate) and self._random.random() < rate

    def should_malform(self) -> bool:
        with self._lock:
            malform = bool(self.settings.malformed_rate) and self._random.random() < self.settings.malformed_rate
            self.malformed_served += malform
            return malform

    def pending(self) -> list[int]:
        with self._lock:
            return list(self._queue)

    def pending_after(self) -> list[int]:
        with self._lock:
            return list(self._after)
