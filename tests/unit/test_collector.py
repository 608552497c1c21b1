"""The sync's and the sweep assessment's collector settings hold inside the block only, nested or not."""

from __future__ import annotations

import gc

import pytest

from contentops.pipelines.collector import NO_FULL_PASS, YOUNG_THRESHOLD, quiet_collector

pytestmark = pytest.mark.unit


def test_inside_the_block_no_full_pass_and_spaced_young_passes_then_all_as_before() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with quiet_collector():
        assert gc.get_threshold() == (max(before[0], YOUNG_THRESHOLD), before[1], NO_FULL_PASS)
        assert gc.get_freeze_count() > frozen  # what was alive is left out of every pass
        with quiet_collector():  # nested: the inner block changes nothing and undoes nothing
            assert gc.get_threshold()[2] == NO_FULL_PASS
        assert gc.get_threshold()[2] == NO_FULL_PASS and gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_an_error_in_the_block_still_restores_the_collector() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError), quiet_collector():
        raise RuntimeError("the feed failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_cycles_made_inside_the_block_are_still_collected() -> None:
    class Node:
        pass

    with quiet_collector():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        del node
        assert gc.collect(0) >= 1  # a young pass finds it (and a full one would too)
