"""A request pacer shared by every process on one host that talks to the same partner connection.

:class:`~contentops.hooks.ratelimit.RequestPacer` paces one hook instance. Mapped tasks and
concurrent runs each have their own, so two tasks on one partner send at twice the rate the
connection allows, and the partner answers the excess with 429 (each costing a ``Retry-After``
wait). :class:`SharedRequestPacer` keeps the bucket's state in a small file instead, one file per
connection under a directory every task process of the host sees, and updates it under
``fcntl.flock``: all of a host's tasks on one connection *together* stay at its rate.

The state is one number, the bucket's "theoretical arrival time" (GCRA, the token bucket written
as the moment the next request is due): each ``acquire`` reserves the next slot under the lock,
writes the moment after it, releases the lock and sleeps until its slot outside the lock. Nothing
in the file says "held": the lock is the kernel's, released when its process exits however it
exits, so a task killed mid-request cannot wedge the others — at most the one slot it reserved
goes unused. The moments are wall-clock time (the file outlives a process; on one host every
process reads the same clock); a moment implausibly far ahead (a clock stepped back) is dropped.

Scope: one host (LocalExecutor, one Celery worker's tasks). Each host paces on its own; across
hosts the partner's 429 with ``Retry-After``, which the transport honours, covers the rest.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from contentops.hooks.ratelimit import check_pace

_STATE = struct.Struct("<d")
#: Environment variable naming the directory of the shared buckets (a connection's extra
#: ``rate_limit_dir`` wins over it).
DIR_ENV = "CONTENTOPS_RATE_LIMIT_DIR"


def default_directory() -> Path:
    """``$CONTENTOPS_RATE_LIMIT_DIR``, else a folder of this user's under the system temp dir
    (per user: a bucket file is only shared by processes allowed to write it)."""
    configured = os.environ.get(DIR_ENV)
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"contentops-pacing-{os.getuid()}"


def bucket_path(directory: Path, key: str) -> Path:
    """The state file of the bucket named ``key`` (hashed: a key holds URLs and connection ids)."""
    return directory / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.bucket"


class SharedRequestPacer:
    """Token bucket of ``rate`` requests/s (bursts up to ``burst``) shared through the file ``path``.

    Same interface as :class:`~contentops.hooks.ratelimit.RequestPacer`; ``acquire()`` blocks
    until this caller's slot and returns how long it waited.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        path: Path,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_pace(rate, burst)
        self.rate = rate
        self.burst = burst
        self.path = Path(path)
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / rate
        # a queue of this many slots is plausible (tasks x threads waiting); beyond: a clock step
        self._max_ahead = max(60.0, 1024 * self._interval)
        self._threads = threading.Lock()  # threads of one process: one open description at a time
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    def reserve(self) -> float:
        """Reserve the next slot; returns the seconds until it (0: now). Does not sleep."""
        with self._threads:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released by close(), or by the kernel at exit
                raw = os.pread(fd, _STATE.size, 0)
                now = self._clock()
                due = _STATE.unpack(raw)[0] if len(raw) == _STATE.size else now
                if math.isnan(due) or due > now + self._max_ahead:  # garbage, or a clock stepped back
                    due = now
                slot = max(due, now)
                os.pwrite(fd, _STATE.pack(slot + self._interval), 0)
            finally:
                os.close(fd)
        # the bucket holds ``burst`` requests: a slot up to (burst - 1) intervals ahead goes now
        return max(0.0, slot - (self.burst - 1) * self._interval - now)

    def acquire(self) -> float:
        """Take one request's worth, sleeping until its slot; returns how long the caller waited."""
        wait = self.reserve()
        if wait:
            self._sleep(wait)
        return wait
