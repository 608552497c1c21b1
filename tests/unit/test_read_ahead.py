"""The read-ahead producer/consumer the license index sync pages the feed with: order, bounds,
and that an error on either side stops both and surfaces."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from contentops.pipelines.overlap import read_ahead


class Feed:
    """A source that counts what it was asked for and whether it was closed."""

    def __init__(self, pages: int, fail_at: int | None = None) -> None:
        self.pages = pages
        self.fail_at = fail_at
        self.requested: list[int] = []
        self.closed = threading.Event()

    def __call__(self) -> Iterator[int]:
        try:
            for number in range(self.pages):
                if number == self.fail_at:
                    raise ConnectionError(f"page {number} failed")
                self.requested.append(number)
                yield number
        finally:
            self.closed.set()


def producers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "test-feed" and thread.is_alive()]


def test_every_item_arrives_once_in_order_and_the_producer_ends() -> None:
    feed = Feed(50)
    assert list(read_ahead(feed, depth=3, name="test-feed")) == list(range(50))
    assert feed.closed.is_set() and producers() == []


def test_an_error_in_the_source_surfaces_after_the_items_before_it() -> None:
    feed = Feed(10, fail_at=6)
    received: list[int] = []
    with pytest.raises(ConnectionError, match="page 6 failed"):
        for item in read_ahead(feed, depth=2, name="test-feed"):
            received.append(item)
    assert received == [0, 1, 2, 3, 4, 5]  # what a sequential loop would have processed
    assert producers() == []


def test_an_error_in_the_consumer_stops_the_producer_within_the_bound() -> None:
    feed = Feed(1000)
    processed: list[int] = []
    with pytest.raises(RuntimeError, match="cannot store page 3"):
        for item in read_ahead(feed, depth=4, name="test-feed"):
            if item == 3:
                raise RuntimeError("cannot store page 3")
            processed.append(item)
    assert processed == [0, 1, 2]
    # the producer was stopped and joined: the source is closed and read no further than the queue's bound
    assert feed.closed.is_set() and producers() == []
    assert len(feed.requested) <= 4 + 4 + 1  # consumed, queued, and the one the producer held


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    feed = Feed(1000)
    items = read_ahead(feed, depth=2, name="test-feed")
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert feed.closed.is_set() and producers() == []
    assert len(feed.requested) <= 3 + 2 + 1


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(read_ahead(Feed(1), depth=0))
