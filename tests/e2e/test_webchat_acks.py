"""The web chat's acknowledgements over a real WebSocket: a message with an id is acked once
recorded; the same id sent again (a resend after a lost ack) is acked and not answered again;
a refused message's error frame names its id, so that the widget stops resending it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets
from sqlalchemy import text
from websockets.typing import Origin

from tests.conftest import LiveServer

TIMEOUT = 10


async def frames_until(socket: Any, frames: list[dict[str, Any]], wanted: dict[str, Any]) -> None:
    async with asyncio.timeout(TIMEOUT):
        while wanted not in frames:
            frames.append(json.loads(await socket.recv()))


async def test_a_resent_id_is_acked_and_answered_once_and_a_refused_one_named(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        token = (await client.post("/webchat/session", json={"language": "en"})).json()["token"]
    async with websockets.connect(f"{live_server.ws_url}/webchat/ws?token={token}",
                                  origin=Origin(live_server.url)) as socket:
        frames: list[dict[str, Any]] = [json.loads(await socket.recv())]
        hello = {"type": "message", "text": "hello", "id": "m-1"}
        await socket.send(json.dumps(hello))
        await frames_until(socket, frames, {"type": "ack", "id": "m-1"})
        await socket.send(json.dumps(hello))  # its ack was lost: the widget sends it again
        await socket.send(json.dumps({"type": "message", "text": "x" * 5000, "id": "m-2"}))
        await socket.send(json.dumps({"type": "message", "text": "thanks", "id": 3}))
        await frames_until(socket, frames, {"type": "ack", "id": 3})
        refused = [f for f in frames if f["type"] == "error"]
        assert [f.get("id") for f in refused] == ["m-2"]
        assert [f["id"] for f in frames if f["type"] == "ack"] == ["m-1", "m-1", 3]
    async with live_server.bot.database.transaction() as session:
        rows = (await session.execute(text(
            "SELECT sender FROM transcript WHERE conversation_id = (SELECT max(id) FROM"
            " conversations WHERE channel = 'webchat') ORDER BY id"))).scalars().all()
    assert list(rows) == ["customer", "bot", "customer", "bot"]  # "hello" answered once
