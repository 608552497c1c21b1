"""Pure parts of the transport: Retry-After parsing, request pacing, redaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from unit.fake_clock import FakeClock

from contentops.hooks.ratelimit import RequestPacer
from contentops.hooks.transport import HttpTransport, TransportSettings, parse_retry_after

pytestmark = pytest.mark.unit


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Tue, 24 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Tue, 24 Nov 2026 11:59:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_pacer_holds_requests_to_the_rate_after_the_burst() -> None:
    clock = FakeClock()
    pacer = RequestPacer(10.0, burst=3, clock=clock.time, sleep=clock.sleep)
    for _ in range(13):
        pacer.acquire()
    # 3 go at once, the other 10 are spaced 0.1 s apart: one second in all
    assert clock.now == pytest.approx(1.0)
    assert len(clock.slept) == 10


def test_pacer_refills_while_idle() -> None:
    clock = FakeClock()
    pacer = RequestPacer(2.0, burst=2, clock=clock.time, sleep=clock.sleep)
    pacer.acquire()
    pacer.acquire()
    clock.now += 5.0
    assert pacer.acquire() == 0.0
    assert pacer.acquire() == 0.0
    assert pacer.acquire() == pytest.approx(0.5)


@pytest.mark.parametrize("rate,burst", [(0, 1), (-1, 1), (1, 0)])
def test_pacer_rejects_nonsense(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RequestPacer(rate, burst)


def test_redaction_covers_known_secrets_and_sensitive_query_values() -> None:
    transport = HttpTransport(TransportSettings(base_url="https://partner.example"), system="t")
    transport.add_secret("abcd1234token")
    assert transport.redact("Bearer abcd1234token here") == "Bearer *** here"
    url = transport.redact_url("https://user:pw@partner.example/dl?sig=XYZ&id=7&access_token=abcd1234token")
    assert "XYZ" not in url and "abcd1234token" not in url and "pw" not in url
    assert "id=7" in url
