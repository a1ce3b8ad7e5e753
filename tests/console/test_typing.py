"""An operator typing in the console is shown to the customer in the web chat ("Anna K. is
typing…"): POST /console/api/conversations/{id}/typing, by the operator who holds it."""

from __future__ import annotations

import asyncio
import json

import websockets

from tests.conftest import LiveServer
from tests.console.conftest import TIMEOUT, LogIn, escalated


async def test_the_customer_sees_the_operator_who_holds_the_chat_typing(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna, boris = await log_in("anna", display_name="Anna K."), await log_in("boris")
    async with escalated(console_server) as emma, websockets.connect(
        f"{console_server.ws_url}/webchat/ws?token={emma.token}&typing=true",
        origin=console_server.url,
    ) as widget:
        assert json.loads(await asyncio.wait_for(widget.recv(), TIMEOUT))["type"] == "history"
        path = f"/console/api/conversations/{emma.conversation}"
        assert (await anna.post(f"{path}/typing")).status_code == 409  # not claimed yet
        await anna.post(f"{path}/claim")
        refused = await boris.post(f"{path}/typing")
        assert refused.status_code == 409
        assert refused.json() == {"detail": "held by Anna K., not by you"}

        assert (await anna.post(f"{path}/typing")).status_code == 204
        frame = json.loads(await asyncio.wait_for(widget.recv(), TIMEOUT))
        while frame["type"] != "typing":  # the notice that Anna joined comes first
            frame = json.loads(await asyncio.wait_for(widget.recv(), TIMEOUT))
        assert frame == {"type": "typing", "from": "operator", "author": "Anna K."}
        missing = await anna.post("/console/api/conversations/999999/typing")
        assert missing.status_code == 404
