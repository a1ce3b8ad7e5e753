"""The web chat's live frames from the console: who has joined when an operator claims the
chat, and "Anna K. is typing…" (POST /console/api/conversations/{id}/typing, by the operator
who holds it). Nothing of either is stored, nor sent to a client that did not ask. And the
customer's typing, the other way, on every console."""

from __future__ import annotations

import asyncio
import json

import websockets

from tests.conftest import LiveServer
from tests.console.conftest import TIMEOUT, LogIn, escalated, live


async def test_the_customer_sees_the_operator_who_holds_the_chat_typing(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna, boris = await log_in("anna", display_name="Anna K."), await log_in("boris")
    async with escalated(console_server) as emma, websockets.connect(
        f"{console_server.ws_url}/webchat/ws?token={emma.token}&live=true",
        origin=console_server.url,
    ) as widget:
        assert json.loads(await asyncio.wait_for(widget.recv(), TIMEOUT))["type"] == "history"
        path = f"/console/api/conversations/{emma.conversation}"
        assert (await anna.post(f"{path}/typing")).status_code == 409  # not claimed yet
        await anna.post(f"{path}/claim")
        refused = await boris.post(f"{path}/typing")
        assert refused.status_code == 409
        assert refused.json() == {"detail": "held by Anna K., not by you"}

        joined = json.loads(await asyncio.wait_for(widget.recv(), TIMEOUT))
        assert joined == {"type": "operator", "event": "joined", "name": "Anna K."}

        assert (await anna.post(f"{path}/typing")).status_code == 204
        typing = json.loads(await asyncio.wait_for(widget.recv(), TIMEOUT))
        assert typing == {"type": "typing", "from": "operator", "author": "Anna K."}
        # the plain client (no live=true) got neither: Anna's message is its next frame
        await anna.post(f"{path}/messages", json={"text": "Hello, Anna here."})
        told = await emma.chat.next()
        assert (told["type"], told["from"], told["text"]) == (
            "message", "operator", "Hello, Anna here.")
        missing = await anna.post("/console/api/conversations/999999/typing")
        assert missing.status_code == 404


async def test_every_console_sees_the_waiting_customer_typing_and_no_answer_comes(
    console_server: LiveServer, log_in: LogIn
) -> None:
    admin = await log_in()
    async with escalated(console_server) as emma, live(console_server, admin) as watching:
        await watching.next()  # the queue
        await emma.chat.socket.send(json.dumps({"type": "typing"}))
        event = await watching.until(lambda f: f["type"] == "typing")
        assert event == {"type": "typing", "conversation_id": emma.conversation}
        answer = await emma.chat.say("are you there?")  # the next frame answers the message
        assert answer["type"] == "message" and answer["from"] == "bot"
