"""Offset/count listings of Trading Grid, safe against a service that ignores the paging.

OpenText's public collection lists the partner directory and the users without any paging
parameters, so ``offset``/``count`` and the ``{<items>: […], "totalCount": n}`` envelope are
*modelled* (docs/systems/trading_grid.md). A service that ignores ``offset`` answers the same
page again and again, and a plain offset loop would fetch it forever (every 30 minutes, in the
case intake). Here a repeated page ends the listing when it was the whole list (longer than the
page size asked for) and is an error when it cannot be told from a truncated one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contentops.hooks.errors import MalformedResponseError


def iter_listing(
    transport: Any, path: str, key: str, *, page_size: int, params: dict[str, Any] | None = None
) -> Iterator[Any]:
    """Items of ``page[key]`` over ``offset``/``count`` pages until a short page or ``totalCount``."""
    offset = 0
    previous: list[Any] | None = None
    while True:
        page = transport.json("GET", path, params={**(params or {}), "offset": offset, "count": page_size})
        batch = list(page[key])
        if batch and batch == previous:
            if len(batch) > page_size:  # count and offset ignored: the first page was everything
                return
            raise MalformedResponseError(
                f"the listing {path} answered offset {offset} with the page before it again (offset ignored?); "
                "set a larger page size so one page holds the whole list",
                system=transport.system,
            )
        yield from batch
        offset += len(batch)
        total = page.get("totalCount")
        if len(batch) < page_size or (isinstance(total, int) and offset >= total):
            return
        previous = batch
