"""Smint.io's live notifications, served the way Pusher serves them: channels over a websocket.

Sourced (the public CLAPI-C integration cores): clients take live license changes from Pusher,
subscribe to the private channel ``private-2-{ChannelId}``, have that subscription authorised by
CLAPI-C's ``POST {base}/notifications/pusher/auth`` (Pusher's form ``socket_id`` /
``channel_name``, Bearer token) and react to the event ``global-transaction-history-update`` by
running a sync from their stored cursor (the payload is not read).

Pusher's own protocol (public, pusher.com's "Pusher Channels Protocol", version 7) as far as this
sandbox follows it: the websocket is ``/app/{key}``; the server opens with
``pusher:connection_established`` whose ``data`` (a JSON *string*) carries ``socket_id`` and
``activity_timeout``; the client sends ``pusher:subscribe`` with ``{"channel", "auth"}`` where
``auth`` is ``<key>:<HMAC-SHA256 hex of "socket_id:channel">``; the server confirms with
``pusher_internal:subscription_succeeded`` on the channel; ``pusher:ping`` is answered with
``pusher:pong``; an unknown app key gets ``pusher:error`` code 4001 and a close.

Modelled (not public): the event's payload (the changed license's uuid, version and update time),
the code and text of a refused subscription (``pusher:error`` code 4009, the socket stays open),
which channel id the tenant has (``options["push_channel_id"]``, default
:data:`DEMO_CHANNEL_ID`), the auth endpoint refusing another tenant's channel with 403, and the
operator's side (list the sockets, drop them all).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

#: The sandbox's own Pusher app key (channel authorizations are signed for it).
PUSHER_APP_KEY = "sandbox-pusher-key"
#: Pusher's websocket path (Pusher serves it on ``ws-{cluster}.pusher.com``).
WEBSOCKET_PATH = "/app/{key}"
PUSHER_CHANNEL_PREFIX = "private-2-"  # sourced: the cores subscribe to private-2-{channel id}
LICENSE_EVENT = "global-transaction-history-update"  # sourced: the cores' event name
#: The demo tenant's channel id (the cores' ``ChannelId`` setting).
DEMO_CHANNEL_ID = 7
#: Seconds of silence after which a Pusher client sends ``pusher:ping`` (told in the handshake).
ACTIVITY_TIMEOUT = 120
#: Pusher's close codes 4200-4299: "reconnect immediately".
CLOSE_RECONNECT = 4200


def pusher_message(event: str, data: Any, channel: str | None = None) -> str:
    """One server-to-client frame: Pusher sends ``data`` as a JSON-encoded string."""
    message: dict[str, Any] = {"event": event, "data": data if isinstance(data, str) else json.dumps(data)}
    if channel is not None:
        message["channel"] = channel
    return json.dumps(message)


@dataclass
class _Socket:
    socket_id: str
    loop: asyncio.AbstractEventLoop
    outbox: asyncio.Queue[str | int] = field(default_factory=asyncio.Queue)  # a frame, or a close code
    channels: set[str] = field(default_factory=set)


class PushHub:
    """The sockets of one sandbox and what is published to them.

    Routes of the sandbox run in a thread pool as well as on the event loop, so :meth:`publish`
    and :meth:`disconnect_all` hand frames to each socket's loop thread-safely."""

    def __init__(self, signing_key: Callable[[], bytes], channel_id: int) -> None:
        self.signing_key = signing_key
        self.channel = f"{PUSHER_CHANNEL_PREFIX}{channel_id}"
        self.published = 0
        self._sockets: dict[str, _Socket] = {}
        self._lock = threading.Lock()

    def signature(self, socket_id: str, channel: str) -> str:
        return hmac.new(self.signing_key(), f"{socket_id}:{channel}".encode(), hashlib.sha256).hexdigest()

    def channel_auth(self, socket_id: str, channel: str) -> str:
        """The ``auth`` value the auth endpoint answers and a subscription must present."""
        return f"{PUSHER_APP_KEY}:{self.signature(socket_id, channel)}"

    # -- publishing (from any thread) ---------------------------------------------------
    def publish(self, event: str, data: dict[str, Any], channel: str | None = None) -> int:
        """Send ``event`` to every socket subscribed to ``channel`` (the tenant's by default);
        returns how many sockets it went to."""
        channel = channel or self.channel
        frame = pusher_message(event, data, channel)
        with self._lock:
            targets = [s for s in self._sockets.values() if channel in s.channels]
            self.published += 1
        for sock in targets:
            sock.loop.call_soon_threadsafe(sock.outbox.put_nowait, frame)
        return len(targets)

    def license_changed(self, lpt: dict[str, Any]) -> int:
        """A license purchase transaction was created or changed (the payload is modelled)."""
        data = {
            "license_purchase_transaction_uuid": lpt.get("uuid"),
            "version": lpt.get("version"),
            "last_updated_at": lpt.get("last_updated_at"),
        }
        return self.publish(LICENSE_EVENT, data)

    def disconnect_all(self, code: int = CLOSE_RECONNECT) -> int:
        """Close every socket with ``code`` (a Pusher restart, a network blip)."""
        with self._lock:
            targets = list(self._sockets.values())
        for sock in targets:
            sock.loop.call_soon_threadsafe(sock.outbox.put_nowait, code)
        return len(targets)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            sockets = [{"socket_id": s.socket_id, "channels": sorted(s.channels)} for s in self._sockets.values()]
            return {"channel": self.channel, "sockets": sockets, "published": self.published}

    # -- one websocket ------------------------------------------------------------------
    async def serve(self, websocket: WebSocket, key: str) -> None:
        await websocket.accept()
        if key != PUSHER_APP_KEY:
            await websocket.send_text(
                pusher_message("pusher:error", {"code": 4001, "message": f"App key {key} not in this cluster"})
            )
            await websocket.close(code=4001)
            return
        sock = _Socket(f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}", asyncio.get_running_loop())
        with self._lock:
            self._sockets[sock.socket_id] = sock
        try:
            established = {"socket_id": sock.socket_id, "activity_timeout": ACTIVITY_TIMEOUT}
            await websocket.send_text(pusher_message("pusher:connection_established", established))
            reader = asyncio.create_task(self._read(websocket, sock))
            writer = asyncio.create_task(self._write(websocket, sock))
            _, pending = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        finally:
            with self._lock:
                self._sockets.pop(sock.socket_id, None)

    async def _write(self, websocket: WebSocket, sock: _Socket) -> None:
        while True:
            item = await sock.outbox.get()
            if isinstance(item, int):
                await websocket.close(code=item)
                return
            await websocket.send_text(item)

    async def _read(self, websocket: WebSocket, sock: _Socket) -> None:
        try:
            while True:
                self._handle(sock, await websocket.receive_text())
        except WebSocketDisconnect:
            return

    def _handle(self, sock: _Socket, raw: str) -> None:
        try:
            message = json.loads(raw)
            event = message["event"]
            data = message.get("data") or {}
            if isinstance(data, str):
                data = json.loads(data) if data else {}
        except (ValueError, KeyError, TypeError):
            sock.outbox.put_nowait(pusher_message("pusher:error", {"code": None, "message": "Invalid message"}))
            return
        if event == "pusher:ping":
            sock.outbox.put_nowait(pusher_message("pusher:pong", {}))
        elif event == "pusher:subscribe":
            channel = str(data.get("channel") or "")
            expected = self.channel_auth(sock.socket_id, channel).encode()
            presented = str(data.get("auth") or "").encode()
            if channel.startswith("private-") and not hmac.compare_digest(presented, expected):
                refusal = {"code": 4009, "message": f"Invalid signature for channel {channel}"}
                sock.outbox.put_nowait(pusher_message("pusher:error", refusal))
                return
            with self._lock:
                sock.channels.add(channel)
            sock.outbox.put_nowait(pusher_message("pusher_internal:subscription_succeeded", {}, channel))
        elif event == "pusher:unsubscribe":
            with self._lock:
                sock.channels.discard(str(data.get("channel") or ""))
