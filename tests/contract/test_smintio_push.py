"""Smint.io's push channel: the sandbox's Pusher-like websocket, and the trigger listening to it.

The sandbox side is judged with a plain websocket client (the Pusher protocol's frames), the
channel authorised by the real hook over HTTP; the trigger side runs
``SmintioLicensePushTrigger.run()`` against the sandbox and changes licenses through the
sandbox's admin API while it listens.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from contentops.hooks.errors import AuthenticationError
from contentops.hooks.smintio import LICENSE_PUSH_EVENT, SmintioHook
from contentops.triggers.smintio_push import SmintioLicensePushTrigger
from contentops_sandbox.connections import smintio_connection
from contentops_sandbox.smintio import seed
from contentops_sandbox.smintio.push import DEMO_CHANNEL_ID, PUSHER_APP_KEY

pytestmark = pytest.mark.contract

CHANNEL = f"private-2-{DEMO_CHANNEL_ID}"
T = TypeVar("T")


@pytest.fixture
def smintio(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> Callable[..., tuple[SmintioHook, Any]]:
    def start(**extra: Any) -> tuple[SmintioHook, Any]:
        running = sandbox("smintio", options={"seeded_transactions": 24})
        conn = smintio_connection(running.url, backoff_initial=0.01, backoff_max=0.05, max_attempts=3, **extra)
        monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(conn))
        return SmintioHook(refresh_token_store=token_store("smintio")), running

    return start


def _socket(running: Any, key: str = PUSHER_APP_KEY) -> ClientConnection:
    return connect(f"{running.url.replace('http', 'ws', 1)}/app/{key}?protocol=7", open_timeout=10)


def _frame(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=timeout))
    data = message.get("data")
    message["data"] = json.loads(data) if isinstance(data, str) and data else data  # Pusher: data is a JSON string
    return message


def _change_license(running: Any, index: int, **changes: Any) -> str:
    lpt = seed.stable_uuid("lpt", index)
    running.admin("POST", f"smintio/lpt/{lpt}", json=changes or {"valid_until": "2027-06-30T00:00:00Z"})
    return lpt


def test_a_subscriber_authorised_by_clapi_hears_each_license_change(smintio: Callable[..., Any]) -> None:
    hook, running = smintio()
    with _socket(running) as ws:
        established = _frame(ws)
        assert established["event"] == "pusher:connection_established"
        socket_id = established["data"]["socket_id"]
        assert established["data"]["activity_timeout"] > 0
        auth = hook.authorize_push_channel(socket_id, CHANNEL)  # the hook's token, over HTTP
        assert auth.startswith(f"{PUSHER_APP_KEY}:")
        ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": CHANNEL, "auth": auth}}))
        subscribed = _frame(ws)
        assert (subscribed["event"], subscribed["channel"]) == ("pusher_internal:subscription_succeeded", CHANNEL)
        ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
        assert _frame(ws)["event"] == "pusher:pong"

        changed = _change_license(running, 5)
        event = _frame(ws)
        assert (event["event"], event["channel"]) == (LICENSE_PUSH_EVENT, CHANNEL)
        assert event["data"]["license_purchase_transaction_uuid"] == changed
        assert event["data"]["version"] == 2  # the changed license's new version
    assert running.admin("GET", "smintio/push")["sockets"] == []  # the closed socket is gone


def test_bad_tokens_forged_auth_other_channels_and_unknown_apps_are_refused(smintio: Callable[..., Any]) -> None:
    hook, running = smintio()
    form = {"socket_id": "1.2", "channel_name": CHANNEL}
    url = f"{running.url}/consumer/v1/notifications/pusher/auth"
    refused = requests.post(url, data=form, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert refused.status_code == 401 and "auth" not in refused.json()
    with pytest.raises(AuthenticationError):
        hook.authorize_push_channel("1.2", f"private-2-{DEMO_CHANNEL_ID + 1}")  # another tenant's channel: 403

    with _socket(running) as ws:
        socket_id = _frame(ws)["data"]["socket_id"]
        other_socket_auth = hook.authorize_push_channel("999.999", CHANNEL)  # signed for another socket
        for auth in (other_socket_auth, f"{PUSHER_APP_KEY}:{'0' * 64}", ""):
            ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": CHANNEL, "auth": auth}}))
            error = _frame(ws)
            assert error["event"] == "pusher:error" and error["data"]["code"] == 4009
        assert running.admin("GET", "smintio/push")["sockets"] == [{"socket_id": socket_id, "channels": []}]
        _change_license(running, 6)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.0)  # not subscribed: the change is not heard

    with _socket(running, key="not-the-app") as ws:
        error = _frame(ws)
        assert error["event"] == "pusher:error" and error["data"]["code"] == 4001
        with pytest.raises(Exception, match="4001"):
            ws.recv(timeout=5)  # closed with Pusher's "app does not exist"


# -- the trigger ------------------------------------------------------------------------------
def _run(trigger: SmintioLicensePushTrigger, script: Callable[[AsyncIterator[Any]], Awaitable[T]]) -> T:
    """Run ``script`` over the trigger's events (at most 60 s), then close the trigger."""

    async def main() -> T:
        async with aclosing(trigger.run()) as events:
            return await asyncio.wait_for(script(events), timeout=60)

    return asyncio.run(main())


async def _until_subscribed(running: Any, count: int = 1, timeout: float = 15) -> None:
    """Until ``count`` sockets are subscribed to the demo channel (seen from the sandbox)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sockets = (await asyncio.to_thread(running.admin, "GET", "smintio/push"))["sockets"]
        if sum(CHANNEL in s["channels"] for s in sockets) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no subscription to {CHANNEL} within {timeout} s")


def test_the_trigger_yields_an_event_within_seconds_of_a_license_change(smintio: Callable[..., Any]) -> None:
    _, running = smintio()
    trigger = SmintioLicensePushTrigger(debounce_seconds=0.3, backoff_initial=0.05, backoff_max=0.2)

    async def script(events: AsyncIterator[Any]) -> tuple[dict[str, Any], float, str]:
        waiting = asyncio.ensure_future(anext(events))
        await _until_subscribed(running)
        changed_at = time.monotonic()
        lpt = await asyncio.to_thread(_change_license, running, 3)
        event = await waiting
        return dict(event.payload), time.monotonic() - changed_at, lpt

    payload, seconds, lpt = _run(trigger, script)
    assert payload["reason"] == "push" and payload["channel"] == CHANNEL
    assert payload["changes"] == 1 and payload["license_purchase_transactions"] == [lpt]
    assert seconds < 5, f"the push took {seconds:.1f} s"
    json.dumps(payload)  # an Asset event's extra: JSON only


def test_a_burst_of_changes_is_one_event(smintio: Callable[..., Any]) -> None:
    _, running = smintio()
    trigger = SmintioLicensePushTrigger(debounce_seconds=1.5)

    async def script(events: AsyncIterator[Any]) -> tuple[dict[str, Any], list[str]]:
        waiting = asyncio.ensure_future(anext(events))
        await _until_subscribed(running)
        changed = [await asyncio.to_thread(_change_license, running, i) for i in range(5)]
        event = await waiting
        second = asyncio.ensure_future(anext(events))
        done, _ = await asyncio.wait({second}, timeout=2.5)  # nothing more: the burst was one event
        assert not done
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        return dict(event.payload), changed

    payload, changed = _run(trigger, script)
    assert payload["changes"] == 5 and sorted(payload["license_purchase_transactions"]) == sorted(changed)


def test_the_trigger_reconnects_after_the_socket_drops_and_catches_up(smintio: Callable[..., Any]) -> None:
    _, running = smintio()
    trigger = SmintioLicensePushTrigger(debounce_seconds=0.2, backoff_initial=0.05, backoff_max=0.2)

    async def script(events: AsyncIterator[Any]) -> list[dict[str, Any]]:
        payloads = []
        waiting = asyncio.ensure_future(anext(events))
        await _until_subscribed(running)
        first_socket = (await asyncio.to_thread(running.admin, "GET", "smintio/push"))["sockets"][0]["socket_id"]
        closed = await asyncio.to_thread(running.admin, "POST", "smintio/push/disconnect", params={"code": 4201})
        assert closed == {"closed": 1}
        # a change while the socket is down is not heard: the reconnect yields a catch-up event
        payloads.append(dict((await waiting).payload))
        sockets = (await asyncio.to_thread(running.admin, "GET", "smintio/push"))["sockets"]
        assert [s["socket_id"] for s in sockets] != [first_socket]
        # then pushes are heard again on the new socket; a drop with an error code (1011) too
        waiting = asyncio.ensure_future(anext(events))
        lpt = await asyncio.to_thread(_change_license, running, 8)
        payloads.append({**(await waiting).payload, "expected": lpt})
        await asyncio.to_thread(running.admin, "POST", "smintio/push/disconnect", params={"code": 1011})
        payloads.append(dict((await anext(events)).payload))
        return payloads

    catch_up, pushed, second_catch_up = _run(trigger, script)
    assert catch_up["reason"] == "reconnected" and catch_up["changes"] == 0
    assert pushed["reason"] == "push" and pushed["license_purchase_transactions"] == [pushed["expected"]]
    assert second_catch_up["reason"] == "reconnected"
    assert trigger.subscriptions == 3
    # one hook for the trigger's life: the sockets were authorised with one access token
    assert trigger.hook.transport.auth.token_fetches == 1  # type: ignore[union-attr]


def test_no_channel_id_means_no_socket_and_no_event(smintio: Callable[..., Any]) -> None:
    _, running = smintio(channel_id=0)
    trigger = SmintioLicensePushTrigger(recheck_seconds=0.2)

    async def script(events: AsyncIterator[Any]) -> None:
        waiting = asyncio.ensure_future(anext(events))
        await asyncio.sleep(1.0)  # several looks at the connection
        await asyncio.to_thread(_change_license, running, 2)
        done, _ = await asyncio.wait({waiting}, timeout=1.0)
        assert not done
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)

    _run(trigger, script)
    assert running.admin("GET", "smintio/push")["sockets"] == []
    assert trigger.subscriptions == 0


def test_the_trigger_serializes_to_what_the_triggerer_rebuilds_it_from() -> None:
    trigger = SmintioLicensePushTrigger("smintio_other", debounce_seconds=1.0, backoff_max=30.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "contentops.triggers.smintio_push.SmintioLicensePushTrigger"
    rebuilt = SmintioLicensePushTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["conn_id"] == "smintio_other" and kwargs["backoff_max"] == 30.0
