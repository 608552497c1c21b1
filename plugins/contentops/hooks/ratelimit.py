"""Client-side request pacing: stay just under a partner's ceiling instead of hitting it.

Airflow only caps concurrency (pools); a sweep that pages a million records needs a
request *rate*. Every call through a hook's transport takes a token first and sleeps
when the bucket is empty, so 429s become the exception rather than the rhythm.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def check_pace(rate: float, burst: int) -> None:
    """A pace is a positive rate with a burst of at least one request (every pacer's arguments)."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    if burst < 1:
        raise ValueError("burst must be at least 1")


class RequestPacer:
    """Token bucket: ``rate`` requests per second, bursts up to ``burst``; ``acquire()`` blocks."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_pace(rate, burst)
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._available = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one request's worth; returns how long the caller was held back."""
        with self._lock:
            now = self._clock()
            self._available = min(self.burst, self._available + (now - self._last) * self.rate)
            self._last = now
            self._available -= 1.0
            wait = 0.0 if self._available >= 0 else -self._available / self.rate
        if wait:
            self._sleep(wait)
        return wait
