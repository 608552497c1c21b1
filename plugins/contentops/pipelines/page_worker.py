"""The license index sync's page worker: a process that validates and assesses feed pages while
the task's process pages the feed and stores what comes back.

Why a process: a page of 100 transactions costs ~18 ms of CPU to validate and assess, and a
partner ceiling of 50 requests a second leaves 20 ms a page for everything. Threads share one
interpreter lock, so in the task's process the feed's reader and the page's processing take
turns and the sweep cannot keep the partner's pace; a process of its own runs on another core.

What moves is pure computation (:func:`contentops.pipelines.license_pages.prepare_page`, the same
function the task's process runs for a short feed): it never imports Airflow (0.5-0.9 s to start,
~60 MB), never opens the ledger and holds no secret. Every write — quarantine, rows, findings,
cursor — stays in the task's process, in feed order, exactly as without a worker; a page comes
back as its index rows and its malformed records (each with the reason it failed validation).

The two talk over the worker's stdin and stdout in frames (a 4-byte length, then a pickle; both
ends are this module, one machine, one run):

- task -> worker: the :class:`Job`, then ``(requested_cursor, page)`` per page (the page as the
  hook read it: its bytes); the end of input means no more pages;
- worker -> task: ``("ready",)`` once it can take pages; ``("page", prepared)`` per page, in the
  order sent; ``("done", peak_rss_mb)`` at the end of its input; ``("failed", error, traceback)``
  when a page could not be prepared: it stops there.

Either side stopping stops the other: the task closes the worker's input after the last page,
or on an error of its own, and waits for it to exit; a task process that dies closes it too. A
worker that dies is an error the task raises, naming its exit status; the pages stored before
are kept with their cursor, so a re-run resumes there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import resource
import struct
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contentops.pipelines.license_pages import PreparedPage

log = logging.getLogger(__name__)

#: pages the task's process prepares itself before a page worker takes the rest over: a shorter
#: feed never starts one (starting one costs ~0.5 s of CPU, which a short feed does not win back)
PAGE_WORKER_AFTER = 20
#: pages sent and not yet back at any moment (each up to ~0.5 MB)
IN_FLIGHT_PAGES = 4
#: how long a task waits for its worker to exit when it stops
STOP_SECONDS = 60.0
_LENGTH = struct.Struct(">I")


class PageWorkerError(RuntimeError):
    """The page worker died, or failed without an error the task could raise as its own."""


@dataclass(frozen=True)
class Job:
    """What the worker needs to prepare pages as the task's run would: the sweep's assessment
    (as of when, over which horizon), when the sync makes it."""

    assess_as_of: datetime | None = None
    assess_horizon_days: int | None = None


def write_frame(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next message, or ``None`` at the end of the stream (a partial frame is an end too:
    its writer died while writing it)."""
    head = _read_exactly(stream, _LENGTH.size)
    if head is None:
        return None
    body = _read_exactly(stream, _LENGTH.unpack(head)[0])
    return None if body is None else pickle.loads(body)  # noqa: S301 - our own child or parent


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _Exited:
    """The worker's output ended (it exited, or died)."""


class PageWorker:
    """The task's side of one page worker: start it, send it pages, take back what it prepared.

    :meth:`ready` says (without waiting) whether it takes pages yet; until then the caller
    prepares pages itself. :meth:`send` blocks only while :data:`IN_FLIGHT_PAGES` pages are out.
    :meth:`finish` waits for every page sent; :meth:`stop` (in a ``finally``) closes the worker
    down whatever happened."""

    def __init__(self, job: Job) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self.pid = self._process.pid
        self.pages_prepared = 0
        #: the worker's peak resident memory, as it reported it on finishing (MB)
        self.peak_rss_mb: float | None = None
        self._results: queue.Queue[Any] = queue.Queue()
        self._is_ready = False
        self._in_flight = 0
        self._stopped = False
        assert self._process.stdin is not None and self._process.stdout is not None
        self._inbox: IO[bytes] = self._process.stdin
        self._reader = threading.Thread(
            target=self._collect, args=(self._process.stdout,), name="page-worker-results", daemon=True
        )
        self._reader.start()
        write_frame(self._inbox, job)
        log.info("License page worker starting (pid %d); this process prepares the pages until it is ready", self.pid)

    def _collect(self, stream: IO[bytes]) -> None:
        try:
            while (message := read_frame(stream)) is not None:
                self._results.put(message)
        finally:
            self._results.put(_Exited())

    def ready(self) -> bool:
        """Whether the worker takes pages (never waits). One that failed to start raises."""
        while not self._is_ready:
            try:
                message = self._results.get_nowait()
            except queue.Empty:
                return False
            self._take(message)
        return True

    def send(self, requested: str | None, raw_page: Any) -> list[PreparedPage]:
        """Hand over one page (``requested``: the cursor it was asked for with, for its
        quarantine references); returns the pages prepared meanwhile, in feed order."""
        prepared: list[PreparedPage] = []
        while self._in_flight >= IN_FLIGHT_PAGES:
            prepared.extend(self._take(self._results.get()))
        try:
            write_frame(self._inbox, (requested, raw_page))
        except BrokenPipeError:  # it died: its last words are raised, else its exit status
            self._drain()
            raise self._died() from None
        self._in_flight += 1
        while True:  # what it finished meanwhile, without waiting
            try:
                message = self._results.get_nowait()
            except queue.Empty:
                return prepared
            prepared.extend(self._take(message))

    def finish(self) -> list[PreparedPage]:
        """No more pages: every page sent, prepared, in feed order."""
        self._close_inbox()
        prepared = self._drain()
        if self._in_flight:
            raise self._died()
        self._wait()
        return prepared

    def stop(self) -> None:
        """Close the worker down (after :meth:`finish`, or on the caller's own error, whose error
        is the one that goes on): it exits once its input ends, or is killed."""
        if self._stopped:
            return
        self._close_inbox()
        if self._wait() not in (0, None):
            log.warning("License page worker (pid %d) stopped with status %s", self.pid, self._process.returncode)

    def _take(self, message: Any) -> list[PreparedPage]:
        if isinstance(message, _Exited):
            self._results.put(message)  # seen again by whoever waits next
            raise self._died()
        kind = message[0]
        if kind == "ready":
            self._is_ready = True
            log.info("License page worker ready (pid %d): it prepares the feed's pages from here on", self.pid)
            return []
        if kind == "page":
            self._in_flight -= 1
            self.pages_prepared += 1
            return [message[1]]
        if kind == "done":
            self.peak_rss_mb = message[1]
            return []
        _, error, trace = message  # "failed"
        self._in_flight = 0
        if not isinstance(error, BaseException):
            error = PageWorkerError(str(error))
        error.add_note(f"in the license page worker (pid {self.pid}) after {self.pages_prepared} pages:\n{trace}")
        raise error

    def _drain(self) -> list[PreparedPage]:
        """Every message until the worker's output ends."""
        prepared: list[PreparedPage] = []
        while True:
            try:
                message = self._results.get(timeout=STOP_SECONDS)
            except queue.Empty:
                raise PageWorkerError(
                    f"the license page worker (pid {self.pid}) sent nothing for {STOP_SECONDS:.0f} s"
                ) from None
            if isinstance(message, _Exited):
                return prepared
            prepared.extend(self._take(message))

    def _died(self) -> PageWorkerError:
        code = self._wait()
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
        return PageWorkerError(
            f"the license page worker (pid {self.pid}) {how} after {self.pages_prepared} pages "
            f"({self._in_flight} sent and not back); the pages stored before are kept with their cursor "
            "and a re-run resumes after them"
        )

    def _close_inbox(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self._inbox.close()

    def _wait(self) -> int | None:
        if self._stopped:
            return self._process.returncode
        try:
            self._process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log.error("License page worker (pid %d) did not stop within %.0f s: killed", self.pid, STOP_SECONDS)
            self._process.kill()
            self._process.wait()
        self._stopped = True
        self._reader.join(timeout=5)
        return self._process.returncode


# -- the worker's side ------------------------------------------------------------------------


def _portable(exc: BaseException) -> BaseException | str:
    """The error itself when it survives a pickle (so the task raises the same type, and its
    retry policy sees the same error), else its description."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - made here, a moment ago
        return exc
    except Exception:
        return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started this program: Linux's ``VmHWM``
    (``ru_maxrss`` would count the task's memory too, shared for the moment between the fork
    that made this process and its ``exec``)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> int:
    """Run as ``python -m contentops.pipelines.page_worker`` by :class:`PageWorker`."""
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must never land in a frame
    inbox = sys.stdin.buffer
    job = read_frame(inbox)
    if job is None:
        return 0
    try:
        from contentops.pipelines.collector import quiet_collector
        from contentops.pipelines.license_pages import prepare_page, sweep_assessment

        assess = None
        if job.assess_as_of is not None and job.assess_horizon_days is not None:
            assess = sweep_assessment(job.assess_as_of, job.assess_horizon_days)
        write_frame(results, ("ready",))
        with quiet_collector():
            while (message := read_frame(inbox)) is not None:
                requested, raw_page = message
                write_frame(results, ("page", prepare_page(raw_page, requested, assess)))
        write_frame(results, ("done", peak_rss_mb()))
    except BrokenPipeError:  # the task is gone: nothing more to do
        return 0
    except Exception as exc:
        with contextlib.suppress(BrokenPipeError):
            write_frame(results, ("failed", _portable(exc), traceback.format_exc()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
