"""Keep the garbage collector's full passes out of a bulk loop (the license sync, the sweep's
assessment).

A task process holds ~250,000 long-lived objects (Airflow and its providers). A loop that makes
and drops many objects (a feed page's models, a batch of index rows) triggers the collector's
passes, and every full pass rescans all of those long-lived objects: measured, about a third of
a feed page's CPU, and half of the assessment step's reading 100,000 index rows. Inside
:func:`quiet_collector` they are frozen (``gc.freeze()``: left out of every pass) and the third
threshold is set out of reach — once everything alive is frozen, the collector's own guard
against needless full passes (one only when the survivors grew by a quarter) compares against
nothing, so it would otherwise run one every few pages. The loop's objects are still freed by
their reference counts, and the young passes still find their cycles.

The young passes are spaced out too: the collector counts container objects made minus freed,
and a feed page holds some 10,000 of them at once (up to five pages with the read-ahead), so at
the default 700 a pass ran every few records and scanned the page's live models again and again
— about 2 ms of a page's CPU (``benchmarks/sweep_page_cpu.py`` reports the collector's time
per page). At :data:`YOUNG_THRESHOLD` a pass runs when that many more objects are
alive than at the last one — what the pages leave behind (~150 cyclic objects each), every few
hundred pages, a few MB at most.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: the collector's third threshold inside :func:`quiet_collector`: never reached, so no full pass
NO_FULL_PASS = 1_000_000_000
#: the first (young) threshold inside :func:`quiet_collector`: above what a read-ahead holds alive
YOUNG_THRESHOLD = 100_000

_lock = threading.Lock()
_depth = 0
_thresholds: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Freeze what is alive, space the young passes out and hold off full ones while the block
    runs; all undone after.

    Re-entrant (and safe from several threads): only the outermost block freezes and restores,
    so an inner one never unfreezes what an outer one still relies on."""
    global _depth, _thresholds
    with _lock:
        _depth += 1
        if _depth == 1:
            _thresholds = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(_thresholds[0], YOUNG_THRESHOLD), _thresholds[1], NO_FULL_PASS)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_thresholds)
                gc.unfreeze()
