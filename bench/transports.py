"""How a simulated customer reaches a server: the web chat (session + WebSocket), the bare
echo WebSocket, and Telegram (updates to the webhook, replies at the Bot API double)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

# As in channels/telegram/webhook.py; not imported from there, because that imports all of
# aiogram, which takes a client process seconds to start.
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class _SocketTransport:
    """Frames as the widget sends them over one WebSocket; a subclass opens it."""

    _socket: ClientConnection | None = None

    async def send(self, text: str) -> None:
        assert self._socket is not None
        await self._socket.send(json.dumps({"type": "message", "text": text}))

    async def _frame(self) -> dict[str, Any] | None:
        assert self._socket is not None
        try:
            frame: dict[str, Any] = json.loads(await self._socket.recv())
        except ConnectionClosed:
            return None
        return frame

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()


class WebchatTransport(_SocketTransport):
    """The widget's protocol: POST /webchat/session, then WS /webchat/ws?token=..."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession, language: str = "en") -> None:
        self._base = base_url
        self._http = http
        self._language = language

    async def open(self) -> None:
        async with self._http.post(f"{self._base}/webchat/session",
                                   json={"language": self._language}) as response:
            response.raise_for_status()
            token = (await response.json())["token"]
        ws_base = "ws" + self._base.removeprefix("http")
        self._socket = await connect(f"{ws_base}/webchat/ws?token={token}", open_timeout=60)
        history = await self._frame()
        if history is None or history.get("type") != "history":
            raise RuntimeError("expected the history first")

    async def receive(self) -> str | None:
        frame = await self._frame()
        if frame is None:
            return None
        if frame.get("type") != "message":
            return f"<{frame.get('type')} frame: {frame.get('reason', '')}>"
        return str(frame["text"])


class EchoTransport(_SocketTransport):
    """The echo baseline: the same frames over a bare WebSocket, each sent straight back."""

    def __init__(self, base_url: str) -> None:
        self._url = "ws" + base_url.removeprefix("http") + "/ws"

    async def open(self) -> None:
        self._socket = await connect(self._url, open_timeout=60)

    async def receive(self) -> str | None:
        frame = await self._frame()
        return None if frame is None else str(frame["text"])


_update_ids = itertools.count(int(time.time() * 1000))


class TelegramTransport:
    """A private chat: each message an update POSTed to the webhook (200 = recorded); the
    bot's sendMessage calls to this chat arrive at the double, which queues them here."""

    def __init__(self, webhook_base: str, secret: str, http: aiohttp.ClientSession,
                 chat_id: int, replies: asyncio.Queue[str]) -> None:
        self._url = webhook_base + WEBHOOK_PATH
        self._headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
        self._http = http
        self._chat_id = chat_id
        self._replies = replies

    async def open(self) -> None:
        return None

    async def send(self, text: str) -> None:
        update_id = next(_update_ids)
        body = json.dumps({"update_id": update_id, "message": _message(update_id,
                                                                      self._chat_id, text)})
        async with self._http.post(self._url, data=body, headers=self._headers) as response:
            if response.status != 200:
                raise RuntimeError(f"webhook answered {response.status}")

    async def receive(self) -> str | None:
        return await self._replies.get()

    async def close(self) -> None:
        return None


def _message(message_id: int, chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": f"Customer {chat_id}",
            "language_code": "en"}
    return {"message_id": message_id, "date": int(time.time()), "text": text, "from": user,
            "chat": {"id": chat_id, "type": "private", "first_name": user["first_name"]}}
