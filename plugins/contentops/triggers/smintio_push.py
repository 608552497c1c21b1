"""Listen to Smint.io's push channel in the triggerer: a license change starts the license sync.

Smint.io's clients take live license changes from Pusher (the CLAPI-C cores): a private channel
``private-2-{ChannelId}`` authorised by CLAPI-C, and the event
``global-transaction-history-update``, on which they run a sync from their stored cursor. This
trigger is that listener as an Airflow event trigger: an ``AssetWatcher`` of
``contentops://smintio/license-push`` (:mod:`contentops.assets`) runs it, each event it yields
becomes an event of that Asset, and ``smintio_license_sync`` is scheduled on the Asset as well as
on its hourly timetable (polling stays the fallback: a push that never arrives loses nothing, the
next hourly run reads the same cursor).

Why it is shaped this way:

- **The hook owns auth.** The channel is authorised through
  :meth:`~contentops.hooks.smintio.SmintioHook.authorize_push_channel`, the hook's transport and
  token (refreshed on 401/403 like every call; rotated refresh tokens go where tasks read them).
  One hook for the trigger's life: one access token across reconnects, not one per socket.
- **It never ends.** A watcher that returned would stop the push until the triggerer restarted:
  a dropped socket, a refused subscription or the partner down are retried with exponential
  backoff (with jitter, capped), Pusher's "reconnect immediately" close codes (4200-4299) at once.
  No channel configured (extra ``channel_id`` missing or <= 0) is not an error: the trigger looks
  at the connection again every ``recheck_seconds``, so adding the channel later needs no restart.
- **Nothing is lost across a reconnect.** Changes pushed while the socket was down were not heard,
  so a reconnect that follows a drop yields one catch-up event: the sync reads from its cursor,
  which costs one short run when nothing changed.
- **A burst is one sync.** Events arriving within ``debounce_seconds`` of the first are yielded as
  one (with their count and license ids), so a batch of 100 license changes starts one run.
- **Secrets stay out of the logs.** The channel authorization is sent, never logged.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from contentops.hooks.smintio import SmintioHook

#: Seconds to wait for a pong after our ``pusher:ping`` before the socket is taken as dead.
PONG_TIMEOUT = 30.0
#: At most this many license ids travel in one event (the sync reads the feed, not this list).
MAX_IDS_IN_EVENT = 50


class PushRefusedError(Exception):
    """The push service refused us (an unknown app, a subscription not authorised)."""


class SmintioLicensePushTrigger(BaseEventTrigger):
    """Yield an event whenever Smint.io pushes a license change (see the module docstring)."""

    def __init__(
        self,
        conn_id: str = "smintio_default",
        debounce_seconds: float = 2.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        recheck_seconds: float = 300.0,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.debounce_seconds = debounce_seconds
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.recheck_seconds = recheck_seconds
        self._hook: SmintioHook | None = None
        #: sockets that reached a subscription (tests and the log read it)
        self.subscriptions = 0

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "contentops.triggers.smintio_push.SmintioLicensePushTrigger",
            {
                "conn_id": self.conn_id,
                "debounce_seconds": self.debounce_seconds,
                "backoff_initial": self.backoff_initial,
                "backoff_max": self.backoff_max,
                "recheck_seconds": self.recheck_seconds,
            },
        )

    @property
    def hook(self) -> SmintioHook:
        if self._hook is None:
            from contentops.hooks.smintio import SmintioHook

            self._hook = SmintioHook(self.conn_id)
        return self._hook

    def _endpoint(self) -> tuple[str, str | None]:
        """(websocket URL, channel or None) from the connection (blocking: run in a thread, where
        the first call also imports the websocket client, so the triggerer's loop never waits)."""
        import websockets.asyncio.client  # noqa: F401 - imported here, off the event loop

        return self.hook.push_url(), self.hook.push_channel

    def _delay(self, failures: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * 2 ** max(failures - 1, 0))
        return base * random.uniform(0.5, 1.0)  # jitter, not a secret

    async def run(self) -> AsyncIterator[TriggerEvent]:
        failures = 0
        dropped = False  # a socket of ours was subscribed and then lost
        while True:
            try:
                url, channel = await asyncio.to_thread(self._endpoint)
            except Exception as exc:
                self._hook = None  # read the connection again next time
                self.log.warning(
                    "Smint.io push: cannot read connection %r (%s: %s); looking again in %.0f s",
                    self.conn_id,
                    type(exc).__name__,
                    exc,
                    self.recheck_seconds,
                )
                await asyncio.sleep(self.recheck_seconds)
                continue
            if channel is None:
                self._hook = None  # a channel_id added later is seen at the next look
                self.log.info(
                    "Smint.io push: connection %r has no channel_id: polling only; looking again in %.0f s",
                    self.conn_id,
                    self.recheck_seconds,
                )
                await asyncio.sleep(self.recheck_seconds)
                continue
            immediate = False
            try:
                async with aclosing(self._listen(url, channel, catch_up=dropped)) as events:
                    async for event in events:
                        if event is None:  # subscribed
                            failures = 0
                            dropped = False
                            continue
                        yield event
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                immediate = _reconnect_immediately(exc)
                if _is_refused_credentials(exc):
                    self._hook = None  # read the connection again: an admin may have replaced the secret
                self.log.warning("Smint.io push: socket lost or refused (%s: %s)", type(exc).__name__, exc)
            dropped = dropped or self.subscriptions > 0
            failures += 1
            delay = 0.0 if immediate and failures == 1 else self._delay(failures)
            self.log.info("Smint.io push: reconnecting in %.1f s (attempt %d)", delay, failures)
            await asyncio.sleep(delay)

    async def _listen(self, url: str, channel: str, *, catch_up: bool) -> AsyncIterator[TriggerEvent | None]:
        """One socket: handshake, channel authorization, subscription, then the events.

        Yields None once subscribed, then the (debounced) events; returns or raises when the
        socket ends. Events already heard when it ends are yielded before it does."""
        from websockets.asyncio.client import connect

        async with connect(url, open_timeout=20, close_timeout=5, ping_interval=None) as ws:
            established = await _expect(ws, "pusher:connection_established", timeout=20)
            data = _data(established)
            socket_id = str(data["socket_id"])
            activity_timeout = float(data.get("activity_timeout") or 120)
            auth = await asyncio.to_thread(self.hook.authorize_push_channel, socket_id, channel)
            await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth}}))
            await _expect(ws, "pusher_internal:subscription_succeeded", timeout=20)
            self.subscriptions += 1
            self.log.info("Smint.io push: subscribed to %s (socket %s)", channel, socket_id)
            yield None
            heard: list[str] = []
            count = 0
            first_at: float | None = None
            if catch_up:  # what was pushed while we were away was not heard
                count, first_at = 0, time.monotonic() - self.debounce_seconds
            silent_since = time.monotonic()
            pinged = False
            try:
                while True:
                    now = time.monotonic()
                    if first_at is not None and now >= first_at + self.debounce_seconds:
                        yield _event(channel, count, heard, reason="push" if count else "reconnected")
                        heard, count, first_at = [], 0, None
                        continue
                    limit = silent_since + (PONG_TIMEOUT if pinged else activity_timeout)
                    if now >= limit:
                        if pinged:
                            raise TimeoutError(f"no pong within {PONG_TIMEOUT:.0f} s")
                        await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
                        pinged, silent_since = True, now
                        continue
                    wait = limit - now
                    if first_at is not None:
                        wait = min(wait, first_at + self.debounce_seconds - now)
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=max(wait, 0.01))
                    except TimeoutError:
                        continue
                    silent_since, pinged = time.monotonic(), False
                    message = json.loads(raw)
                    name = message.get("event")
                    if name == "pusher:ping":
                        await ws.send(json.dumps({"event": "pusher:pong", "data": {}}))
                    elif name == "pusher:error":
                        raise PushRefusedError(_describe_error(message))
                    elif name == _license_event() and message.get("channel") == channel:
                        count += 1
                        lpt = _data(message).get("license_purchase_transaction_uuid")
                        if lpt and len(heard) < MAX_IDS_IN_EVENT and lpt not in heard:
                            heard.append(str(lpt))
                        if first_at is None:
                            first_at = time.monotonic()
            except Exception:
                if count:  # the socket ended with changes heard: they still start a sync
                    yield _event(channel, count, heard, reason="push")
                raise


def _license_event() -> str:
    from contentops.hooks.smintio import LICENSE_PUSH_EVENT

    return LICENSE_PUSH_EVENT


def _event(channel: str, count: int, heard: list[str], *, reason: str) -> TriggerEvent:
    """The Asset event's payload: why, how many changes, which licenses (a sample)."""
    return TriggerEvent(
        {
            "reason": reason,
            "channel": channel,
            "changes": count,
            "license_purchase_transactions": list(heard),
            "heard_at": datetime.now(UTC).isoformat(),
        }
    )


def _data(message: dict[str, Any]) -> dict[str, Any]:
    """A Pusher frame's ``data``: a JSON string from the server (an object is accepted too)."""
    data = message.get("data")
    if isinstance(data, str):
        data = json.loads(data) if data else {}
    return data if isinstance(data, dict) else {}


def _describe_error(message: dict[str, Any]) -> str:
    data = _data(message)
    return f"pusher:error {data.get('code')}: {data.get('message')}"


async def _expect(ws: ClientConnection, event: str, *, timeout: float) -> dict[str, Any]:
    """The next frame, which must be ``event`` (a ``pusher:error`` instead is a refusal)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))
        name = message.get("event")
        if name == event:
            return message
        if name == "pusher:error":
            raise PushRefusedError(_describe_error(message))
        # anything else before the handshake ends (a ping) is answered or skipped
        if name == "pusher:ping":
            await ws.send(json.dumps({"event": "pusher:pong", "data": {}}))


def _is_refused_credentials(exc: BaseException) -> bool:
    from contentops.hooks.errors import AuthenticationError, InvalidConnectionError

    return isinstance(exc, AuthenticationError | InvalidConnectionError)


def _reconnect_immediately(exc: BaseException) -> bool:
    """Pusher's close codes 4200-4299 ask the client to reconnect at once."""
    from websockets.exceptions import ConnectionClosed

    if not isinstance(exc, ConnectionClosed) or exc.rcvd is None:
        return False
    return 4200 <= exc.rcvd.code <= 4299
