"""The paging styles our partners use, each a generator over :meth:`HttpCore.json` calls.

Cursor feeds (Smint.io's sync), offset/count lists (most list endpoints), page numbers
(Consonance REST) and HAL ``_links.next`` collections: every page is one retried, paced request,
and a listing that repeats itself is a malformed answer rather than an endless loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

from contentops.hooks.errors import MalformedResponseError
from contentops.hooks.transport.core import HttpCore


class PagingMixin(HttpCore):
    """Paged listings on top of the transport's requests."""

    def iter_cursor_pages(
        self,
        path: str,
        *,
        cursor_param: str,
        next_cursor: Callable[[Any], str | None],
        is_last: Callable[[Any], bool],
        params: dict[str, Any] | None = None,
        start_cursor: str | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> Iterator[Any]:
        """Yield page bodies of a cursor-paged feed, the last (empty) page included.

        The last page matters: feeds like Smint.io's hand out the cursor to keep on it.
        ``decode``: how a page's response becomes its body (see :meth:`HttpCore.json`).
        """
        cursor = start_cursor
        while True:
            query = dict(params or {})
            if cursor:
                query[cursor_param] = cursor
            page = self.json("GET", path, params=query, decode=decode)
            yield page
            if is_last(page):
                return
            following = next_cursor(page)
            if not following or following == cursor:
                return
            cursor = following

    def iter_offset(
        self,
        path: str,
        *,
        items: Callable[[Any], list[Any]],
        page_size: int,
        offset_param: str = "offset",
        count_param: str = "count",
        params: dict[str, Any] | None = None,
        total: Callable[[Any], int | None] | None = None,
        start: int = 0,
    ) -> Iterator[Any]:
        """Yield items of an offset/count-paged list until a short page or the total."""
        offset = start
        while True:
            page = self.json("GET", path, params={**(params or {}), offset_param: offset, count_param: page_size})
            batch = items(page)
            yield from batch
            offset += len(batch)
            known_total = total(page) if total else None
            if len(batch) < page_size or (known_total is not None and offset >= known_total):
                return

    def iter_page_numbers(
        self,
        path: str,
        *,
        items: Callable[[Any], list[Any]],
        per_page: int,
        total_pages: Callable[[Any], int | None],
        page_param: str = "page",
        per_page_param: str = "per_page",
        first_page: int = 1,
        params: dict[str, Any] | None = None,
    ) -> Iterator[Any]:
        """Yield items of a page-number-paged list until the last page."""
        number = first_page
        while True:
            page = self.json("GET", path, params={**(params or {}), page_param: number, per_page_param: per_page})
            batch = items(page)
            yield from batch
            pages = total_pages(page)
            if not batch or (pages is not None and number - first_page + 1 >= pages):
                return
            number += 1

    def iter_hal(
        self, path: str, *, embedded_key: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield items of a HAL collection, following ``_links.next.href`` until there is none."""
        target: str | None = path
        query = params
        seen: set[str] = set()
        while target:
            page = self.json("GET", target, params=query)
            if not isinstance(page, dict):
                raise MalformedResponseError("expected a HAL object", system=self.system, url=self.redact_url(target))
            yield from (page.get("_embedded") or {}).get(embedded_key) or []
            href = ((page.get("_links") or {}).get("next") or {}).get("href")
            if not href:
                return
            target = (
                self.url_for(href) if href.startswith(("http://", "https://")) else urljoin(self.url_for(target), href)
            )
            if target in seen:
                raise MalformedResponseError("HAL next link repeats", system=self.system, url=self.redact_url(target))
            seen.add(target)
            query = None  # the next link carries its own query
