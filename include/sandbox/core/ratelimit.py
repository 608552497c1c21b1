"""Server-side request ceiling: a token bucket that answers 429 with Retry-After."""

from __future__ import annotations

import math
import threading
import time


class TokenBucket:
    """``rate`` requests per second on average, bursts up to ``burst``.

    ``take()`` returns 0 when the request may go ahead, else the whole seconds the client
    should wait (what the server sends as ``Retry-After``).
    """

    def __init__(self, rate: float, burst: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = float(burst if burst is not None else max(1, math.ceil(rate)))
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - self._tokens) / self.rate))
