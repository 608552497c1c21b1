"""Switchable faults: what a flaky partner does to a client, on demand.

Faults are set at start (``SandboxConfig.faults``) or at run time through
``PUT /_sandbox/faults``. Deterministic ones (``fail_next``) let a test say "the next
three calls get 503, 429, 503"; random ones (``error_rate``) drive soak runs and
benchmarks from a fixed seed.
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
    seed: int = 7


class FaultState:
    """The live fault settings plus the random source and the fail-next queue."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self.settings = settings or FaultSettings()
        self._random = random.Random(self.settings.seed)
        self._queue = list(self.settings.fail_next)
        self._after = list(self.settings.fail_after_next)

    def replace(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self._queue = list(settings.fail_next)
            self._after = list(settings.fail_after_next)

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

    def should_malform(self) -> bool:
        with self._lock:
            return bool(self.settings.malformed_rate) and self._random.random() < self.settings.malformed_rate

    def pending(self) -> list[int]:
        with self._lock:
            return list(self._queue)

    def pending_after(self) -> list[int]:
        with self._lock:
            return list(self._after)
