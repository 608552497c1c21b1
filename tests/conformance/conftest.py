"""Conformance fixtures: published exchanges served over real HTTP (see ``published.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from conformance.published import Exchange, ReplayServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "conformance" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.conformance)


@pytest.fixture
def replay() -> Iterator[Callable[..., ReplayServer]]:
    """Factory: ``replay(load("exstream", "upload"), ...)`` starts a server answering with them."""
    started: list[ReplayServer] = []

    def start(*exchanges: Exchange) -> ReplayServer:
        server = ReplayServer(list(exchanges)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
