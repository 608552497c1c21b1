"""Read ahead: iterate a paged source in a thread of its own while the caller processes what it has.

A feed paged under a rate ceiling spends most of a page's interval waiting (on the pace, on the
partner building the page); the caller's work on the previous page — validation, index writes —
fits in that wait when both run at once. :func:`read_ahead` is the bounded producer/consumer that
does it without changing what the caller sees:

- the items arrive in the source's order, each once;
- at most ``depth`` items wait in the queue (plus the one the producer holds), so memory stays
  flat however long the feed;
- an error in the source reaches the caller after the items read before it, as it would without
  the thread — so everything before the failing request is processed and checkpointed, nothing after;
- when the caller stops (an error in its own work, ``break``, ``close()``), the producer is told to
  stop, makes no further request and is joined before the caller's exception goes on.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: how long a blocked producer waits before it looks again whether the consumer stopped
_POLL_SECONDS = 0.2
#: how long a stopping consumer waits for the producer to finish its current request
JOIN_SECONDS = 120.0


class _Done:
    """The end of the source (``error`` set when the source raised)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def read_ahead(source: Callable[[], Iterator[T]], *, depth: int = 4, name: str = "read-ahead") -> Iterator[T]:
    """Yield the items of ``source()``, which a producer thread iterates up to ``depth`` items ahead.

    ``source`` is called in the producer thread (so a generator's set-up, e.g. a hook's first
    request, is read ahead too). The generator must be run to its end or closed: closing it (or
    the caller's exception unwinding through its ``for`` loop) stops the producer."""
    if depth < 1:
        raise ValueError("depth must be at least 1")
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        items: Iterator[T] | None = None
        try:
            items = source()
            for item in items:
                if not put(item) or stop.is_set():
                    return
            put(_Done())
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Done(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        producer.join(JOIN_SECONDS)
