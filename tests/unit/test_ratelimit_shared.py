"""The request pacer shared across processes (one bucket file per connection, under flock)."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from unit.fake_clock import FakeClock

from contentops.hooks.ratelimit import RequestPacer
from contentops.hooks.ratelimit_shared import SharedRequestPacer, bucket_path
from contentops.hooks.transport import TransportSettings
from contentops.hooks.transport.core import make_pacer

pytestmark = pytest.mark.unit

FORK = multiprocessing.get_context("fork")


#: a wall-clock-like start: the bucket file holds moments, and drops one implausibly far ahead
START = 1_000_000.0


def test_paces_like_the_in_process_bucket(tmp_path: Path) -> None:
    clock = FakeClock(start=START)
    shared = SharedRequestPacer(10.0, burst=3, path=tmp_path / "b", clock=clock.time, sleep=clock.sleep)
    start = clock.now
    for _ in range(13):
        shared.acquire()
    # 3 go at once, the other 10 are spaced 0.1 s apart: one second in all (as RequestPacer)
    assert clock.now - start == pytest.approx(1.0)
    assert len(clock.slept) == 10
    clock.now += 5.0  # idle: the bucket refills to its burst, no more
    assert [shared.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(0.1)]


def test_two_pacers_on_one_file_share_the_rate(tmp_path: Path) -> None:
    clock = FakeClock(start=START)
    first = SharedRequestPacer(10.0, path=tmp_path / "b", clock=clock.time, sleep=clock.sleep)
    second = SharedRequestPacer(10.0, path=tmp_path / "b", clock=clock.time, sleep=clock.sleep)
    waits = [pacer.reserve() for pacer in (first, second, first, second)]
    # four reservations against one bucket: the slots follow each other, 0.1 s apart
    assert waits == [0.0, pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.3)]


def test_a_moment_far_ahead_is_a_clock_step_and_dropped(tmp_path: Path) -> None:
    clock = FakeClock(start=START)
    pacer = SharedRequestPacer(10.0, path=tmp_path / "b", clock=clock.time, sleep=clock.sleep)
    pacer.reserve()
    clock.now -= 3600.0  # the wall clock stepped back an hour
    assert pacer.reserve() == 0.0


def _paced_requests(path: str, rate: float, count: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    pacer = SharedRequestPacer(rate, path=Path(path))
    stamps = []
    for _ in range(count):
        pacer.acquire()
        stamps.append(time.time())
    out.put(stamps)


def test_two_processes_sharing_a_bucket_stay_under_its_rate(tmp_path: Path) -> None:
    rate, each = 40.0, 20
    out = FORK.Queue()
    workers = [FORK.Process(target=_paced_requests, args=(str(tmp_path / "b"), rate, each, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    stamps = sorted(out.get(timeout=30) + out.get(timeout=30))
    for worker in workers:
        worker.join(timeout=10)
    # 40 requests at 40/s together take at least 39 intervals (each process alone at 40/s: half that)
    assert stamps[-1] - stamps[0] >= (2 * each - 1) / rate * 0.97
    # and no second of them holds more than the rate (+1 for the window's edge)
    assert max(sum(1 for s in stamps if t <= s < t + 1.0) for t in stamps) <= rate + 1


def _hold_the_lock_and_die(path: str, ready: Any) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    ready.set()
    time.sleep(60)  # killed long before


def test_a_holder_killed_mid_update_does_not_wedge_the_bucket(tmp_path: Path) -> None:
    path = tmp_path / "b"
    ready = FORK.Event()
    holder = FORK.Process(target=_hold_the_lock_and_die, args=(str(path), ready))
    holder.start()
    assert ready.wait(10)
    pacer = SharedRequestPacer(10.0, path=path)
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (pacer.reserve(), done.set()), daemon=True)
    waiter.start()
    assert not done.wait(0.5)  # the holder has the lock: the others wait for it
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=10)
    assert done.wait(5)  # the kernel released the dead holder's lock
    assert pacer.reserve() == pytest.approx(0.1, abs=0.05)  # and the bucket goes on pacing


def test_the_connection_chooses_the_scope(tmp_path: Path) -> None:
    common = {"base_url": "https://partner.example/", "rate_limit_per_second": 19.0, "rate_limit_dir": str(tmp_path)}
    assert make_pacer(TransportSettings(base_url="https://partner.example"), "exstream") is None
    alone = make_pacer(TransportSettings(**common, rate_limit_scope="task"), "exstream")
    assert isinstance(alone, RequestPacer)
    one = make_pacer(TransportSettings(**common, rate_limit_key="exstream_default"), "exstream")
    same = make_pacer(TransportSettings(**common, rate_limit_key="exstream_default"), "exstream")
    other = make_pacer(TransportSettings(**common, rate_limit_key="exstream_eu"), "exstream")
    assert isinstance(one, SharedRequestPacer) and isinstance(same, SharedRequestPacer)
    assert isinstance(other, SharedRequestPacer)
    assert one.path == same.path == bucket_path(tmp_path, "exstream\0exstream_default\0https://partner.example")
    assert other.path != one.path and one.rate == 19.0


def test_the_shared_buckets_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTOPS_RATE_LIMIT_DIR", str(tmp_path / "pacing"))
    pacer = make_pacer(TransportSettings(base_url="https://p.example", rate_limit_per_second=5.0), "vip")
    assert isinstance(pacer, SharedRequestPacer) and pacer.path.parent == tmp_path / "pacing"
    assert (tmp_path / "pacing").is_dir()
