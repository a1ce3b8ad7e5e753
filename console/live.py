"""WS /console/ws: the live queue and the messages of conversations that are with a person.

One subscription to the desk's pub/sub topic per process feeds every open console socket, so
an operator sees a customer whose WebSocket is on another process. Each socket gets the queue
first, then every desk event; a socket whose operator has logged out (or whose login ran out)
is closed with 4401, like one that never had a login.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from console.accounts import Accounts
from console.origins import ConsoleOrigins
from coordination.base import Subscription
from dialog.desk import OperatorDesk

log = logging.getLogger(__name__)

COOKIE = "orderbot_console"
CLOSE_NO_SESSION = 4401
CLOSE_BAD_ORIGIN = 4403
CLOSE_TOO_SLOW = 1013  # the browser reconnects and gets a fresh queue
CLOSE_GOING_AWAY = 1001
SESSION_CHECK_SECONDS = 60.0
BACKLOG = 1000  # events waiting for one socket before it is dropped as too slow


class _Socket:
    def __init__(self, token: str) -> None:
        self.token = token
        self.events: asyncio.Queue[str | int] = asyncio.Queue(BACKLOG)  # data, or a close code
        self.overflowed = False

    def push(self, event: str | int) -> None:
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class LiveConsole:
    def __init__(self, desk: OperatorDesk, accounts: Accounts, origins: ConsoleOrigins,
                 session_check_seconds: float = SESSION_CHECK_SECONDS) -> None:
        self._desk = desk
        self._accounts = accounts
        self._origins = origins
        self._check_every = session_check_seconds
        self._sockets: set[_Socket] = set()
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._desk.subscribe(self._forward)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        for socket in list(self._sockets):
            socket.push(CLOSE_GOING_AWAY)

    def logged_out(self, token: str) -> None:
        """Close this process's sockets of a login that has just ended (other processes
        notice within SESSION_CHECK_SECONDS)."""
        for socket in list(self._sockets):
            if socket.token == token:
                socket.push(CLOSE_NO_SESSION)

    async def _forward(self, event: dict[str, Any]) -> None:
        data = json.dumps(event)
        for socket in list(self._sockets):
            socket.push(data)

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if not self._origins.allowed(websocket.headers.get("origin"),
                                     websocket.headers.get("host")):
            await websocket.close(CLOSE_BAD_ORIGIN, "origin not allowed")
            return
        token = websocket.cookies.get(COOKIE, "")
        if await self._accounts.by_session(token) is None:
            await websocket.close(CLOSE_NO_SESSION, "log in first")
            return
        socket = _Socket(token)
        self._sockets.add(socket)  # before the snapshot, so that no event falls between
        try:
            waiting = await self._desk.queue("escalated") + await self._desk.queue("claimed")
            await websocket.send_text(json.dumps(
                {"type": "queue", "conversations": [item.to_json() for item in waiting]}))
            listening = asyncio.create_task(_until_closed(websocket))
            sending = asyncio.create_task(self._send(websocket, socket))
            done, _ = await asyncio.wait((listening, sending),
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in (listening, sending):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if sending in done and not sending.cancelled() and sending.exception() is None:
                with contextlib.suppress(Exception):
                    await websocket.close(sending.result(), "")
        except WebSocketDisconnect:
            pass
        finally:
            self._sockets.discard(socket)

    async def _send(self, websocket: WebSocket, socket: _Socket) -> int:
        """Forward the socket's events until it must close; the close code."""
        while True:
            try:
                event = await asyncio.wait_for(socket.events.get(), self._check_every)
            except TimeoutError:
                if await self._accounts.by_session(socket.token) is None:
                    return CLOSE_NO_SESSION
                continue
            if socket.overflowed:
                return CLOSE_TOO_SLOW
            if isinstance(event, int):
                return event
            await websocket.send_text(event)


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the browser sends, until it goes."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
