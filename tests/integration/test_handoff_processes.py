"""An operator on one bot process, the customer's WebSocket on another: the handoff travels over
Redis pub/sub and one PostgreSQL, and a claim is exclusive across the processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dialog.desk_values import AlreadyTaken, OperatorRef
from tests.conftest import BotFactory, LiveServer, serve
from tests.e2e.test_webchat import REPLY_TIMEOUT, chat
from tests.servers import free_port

ANNA = OperatorRef("console:1", "Anna K.")
BORIS = OperatorRef("console:2", "Boris")


@pytest.fixture
async def two_processes(
    make_bot: BotFactory, postgres_url: str, redis_url: str
) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    servers = []
    for _ in range(2):
        bot = await make_bot(postgres_url, redis={"url": redis_url}, http={"port": free_port()})
        servers.append(await serve(bot))
    yield servers[0], servers[1]
    for server in servers:
        await server.stop()


async def test_an_operator_on_b_talks_with_a_customer_connected_to_a(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_processes
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    subscription = await b.bot.desk.subscribe(events.put)

    async def event(kind: str, **match: Any) -> dict[str, Any]:
        while True:
            found = await asyncio.wait_for(events.get(), REPLY_TIMEOUT)
            body = found.get("message") or found.get("conversation") or {}
            if found["type"] == kind and all(body.get(k) == v for k, v in match.items()):
                return found

    try:
        async with chat(a, language="en") as customer:
            handoff = await customer.say("I want to talk to a person")
            assert "passing you to a colleague" in handoff["text"]
            await customer.next()  # the wait estimate
            queued = await event("conversation", status="escalated")
            conversation = queued["conversation"]["id"]
            assert [item.conversation_id for item in await b.bot.desk.queue()] == [conversation]

            await b.bot.desk.claim(conversation, ANNA)
            with pytest.raises(AlreadyTaken, match="already taken by Anna K."):
                await a.bot.desk.claim(conversation, BORIS)  # the other process knows

            await b.bot.desk.say(conversation, ANNA, "Hi, Anna here. How can I help?")
            reply = await customer.next()
            assert (reply["from"], reply.get("author"), reply["text"]) == (
                "operator", "Anna K.", "Hi, Anna here. How can I help?")

            await customer.socket.send('{"type": "message", "text": "My parcel is late"}')
            seen = await event("message", **{"from": "customer", "text": "My parcel is late"})
            assert seen["conversation_id"] == conversation

            await b.bot.desk.hand_back(conversation, ANNA)
            back = await customer.next()
            assert back["from"] == "bot" and "handed you back" in back["text"]
            answer = await customer.say("hello")
            assert answer["from"] == "bot" and answer["text"]
    finally:
        await subscription.close()
