"""Two bot processes' worth of parts on one PostgreSQL and one Redis."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets
from sqlalchemy import select

from channels.webchat.identity import signed_identity
from dialog.messages import ConversationKey, Inbound
from dialog.tables import Conversation, TranscriptEntry
from orders.demo import seed
from tests.conftest import API_KEY, BotFactory, serve
from tests.servers import free_port


async def test_reply_reaches_a_websocket_held_by_the_other_bot(
    make_bot: BotFactory, postgres_url: str, redis_url: str
) -> None:
    """The shop API call lands on bot A; the customer's WebSocket is on bot B."""
    settings = {"redis": {"url": redis_url}, "demo": {"enabled": False}}
    bot_a = await make_bot(postgres_url, http={"port": free_port()}, **settings)
    bot_b = await make_bot(postgres_url, http={"port": free_port()}, **settings)
    async with bot_a.database.transaction() as session:
        await seed(session, bot_a.orders)
    server_a, server_b = await serve(bot_a), await serve(bot_b)
    try:
        email = "james.wilson@example.com"  # owns confirmed demo order A-1014
        async with httpx.AsyncClient() as client:
            session_b = await client.post(
                f"{server_b.url}/webchat/session",
                json={"customer": {"email": email},
                      **signed_identity("test-identity-secret", email)},
            )
            token = session_b.json()["token"]
            async with websockets.connect(
                f"{server_b.ws_url}/webchat/ws?token={token}", origin=server_b.url
            ) as socket:
                assert json.loads(await socket.recv())["type"] == "history"
                response = await client.post(
                    f"{server_a.url}/api/orders/A-1014/events",
                    headers={"Authorization": f"Bearer {API_KEY}"},
                    json={"type": "shipped", "carrier": "DPD", "tracking_number": "DPD77"},
                )
                assert response.status_code == 200
                pushed = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert "A-1014 is on its way with DPD" in pushed["text"]
    finally:
        await server_a.stop()
        await server_b.stop()


async def test_turns_of_one_conversation_on_two_bots_never_interleave(
    make_bot: BotFactory, postgres_url: str, redis_url: str
) -> None:
    """20 messages at once, split over two bots: each answer follows its own question."""
    settings = {"redis": {"url": redis_url}, "demo": {"enabled": False}}
    bot_a = await make_bot(postgres_url, **settings)
    bot_b = await make_bot(postgres_url, **settings)
    key = ConversationKey("webchat", "shared-conversation")
    messages = [("hello", "Hello!"), ("thanks", "You're welcome"), ("bye", "Goodbye")]

    async def send(index: int) -> None:
        bot = (bot_a, bot_b)[index % 2]
        text = messages[index % 3][0]
        await bot.manager.handle(Inbound(key=key, text=text, message_id=f"m{index}"))

    await asyncio.gather(*(send(i) for i in range(20)))
    async with bot_a.database.transaction() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.chat_id == key.chat_id)
        )
        entries = list(await session.scalars(
            select(TranscriptEntry).where(TranscriptEntry.conversation_id == conversation_id)
            .order_by(TranscriptEntry.id)
        ))
    assert len(entries) == 40
    expected = dict(messages)
    for question, answer in zip(entries[::2], entries[1::2], strict=True):
        assert question.sender == "customer" and answer.sender == "bot"
        assert answer.text.startswith(expected[question.text])
