"""The channel seam (dialog/seam.py): a channel written against Conversations alone works end
to end; bad input at the seam is refused, a duplicate is answered once; the web chat goes
through the inbox in its turn's own transaction."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from sqlalchemy import func, select

from dialog.messages import Capabilities, ConversationKey, Delivery, Inbound
from dialog.seam import Conversations
from dialog.tables import InboxRow, TranscriptEntry
from tests.conftest import BotFactory, LiveServer
from tests.e2e.test_webchat import REPLY_TIMEOUT, chat

FAKE = "fake"


class FakeChannel:
    """A platform of our own making: it knows nothing of the dialog but the seam."""

    name = FAKE
    capabilities = Capabilities()

    def __init__(self, conversations: Conversations) -> None:
        self._conversations = conversations
        self.sent: list[Delivery] = []
        self._arrived = asyncio.Condition()

    async def receive(self, chat_id: str, text: str, platform_id: str) -> bool:
        inbound = Inbound(ConversationKey(FAKE, chat_id), text=text, message_id=platform_id)
        return await self._conversations.accept(inbound)

    async def send(self, delivery: Delivery) -> None:
        async with self._arrived:
            self.sent.append(delivery)
            self._arrived.notify_all()

    async def replies(self, count: int) -> list[Delivery]:
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.sent) >= count), REPLY_TIMEOUT)
        return list(self.sent)


async def fake_channel(make_bot: BotFactory) -> tuple[Any, FakeChannel]:
    bot = await make_bot()
    channel = FakeChannel(bot.conversations)
    bot.capabilities[FAKE] = channel.capabilities
    bot.outbox.add_channel(FAKE, channel)
    return bot, channel


async def test_a_channel_written_against_the_seam_alone_gets_its_answer(
    make_bot: BotFactory,
) -> None:
    bot, channel = await fake_channel(make_bot)
    assert await channel.receive("c1", "Gdzie jest moje zamówienie A-1017?", "m-1")
    [reply] = await channel.replies(1)
    assert reply.outbound.key == ConversationKey(FAKE, "c1")
    assert "A-1017" in reply.outbound.text
    # What the sender needs travels with the delivery: the conversation's language.
    assert reply.language == "pl"
    language, history = await bot.conversations.history(ConversationKey(FAKE, "c1"))
    assert language == "pl" and [e.sender for e in history] == ["customer", "bot"]


async def test_a_platform_id_seen_before_gets_no_second_answer(make_bot: BotFactory) -> None:
    bot, channel = await fake_channel(make_bot)
    assert await channel.receive("c2", "hello", "same-id")
    assert not await channel.receive("c2", "hello", "same-id")
    await channel.replies(1)
    await bot.inbox.drain()
    await bot.outbox.drain()
    assert len(channel.sent) == 1
    _language, history = await bot.conversations.history(ConversationKey(FAKE, "c2"))
    assert [e.sender for e in history] == ["customer", "bot"]


async def test_unknown_session_tokens_are_refused_at_the_seam(make_bot: BotFactory) -> None:
    bot = await make_bot()
    assert await bot.conversations.resolve_token("no-such-token") is None
    assert await bot.conversations.resume_session("no-such-token") is None


async def test_web_chat_messages_go_through_the_inbox_and_a_resent_id_is_answered_once(
    live_server: LiveServer,
) -> None:
    async with chat(live_server, language="en") as conversation:
        frame = json.dumps({"type": "message", "text": "hello", "id": "c-1"})
        await conversation.socket.send(frame)
        first = [await conversation.next(), await conversation.next()]
        # the reply and the ack may come in either order (docs/channels/webchat.md)
        assert sorted(f["type"] for f in first) == ["ack", "message"]
        assert [f["id"] for f in first if f["type"] == "ack"] == ["c-1"]
        await conversation.socket.send(frame)  # the client lost the ack and sends it again
        assert await conversation.next() == {"type": "ack", "id": "c-1"}
        thanks = await conversation.say("thanks")
        assert thanks["type"] == "message"  # the resend's answer would have come before this
    async with live_server.bot.database.transaction() as session:
        recorded = await session.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.channel == "webchat"))
        unprocessed = await session.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.processed_at.is_(None)))
        said = await session.scalar(
            select(func.count()).select_from(TranscriptEntry)
            .where(TranscriptEntry.sender == "customer"))
    assert (recorded, unprocessed, said) == (2, 0, 2)


async def test_bad_frames_at_the_seam_are_refused_and_store_nothing(
    live_server: LiveServer,
) -> None:
    async with chat(live_server, language="en") as conversation:
        for bad in ('{"type": "message", "text": "hi", "id": {"x": 1}}', "not json",
                    json.dumps({"type": "message", "text": "x" * 2001, "id": "c-2"})):
            await conversation.socket.send(bad)
            assert (await conversation.next())["type"] == "error"
        assert "Hello" in (await conversation.say("hello"))["text"]
    async with live_server.bot.database.transaction() as session:
        recorded = await session.scalar(select(func.count()).select_from(InboxRow))
    assert recorded == 1


async def test_a_closed_socket_with_an_unknown_token_records_nothing(
    live_server: LiveServer,
) -> None:
    async with websockets.connect(
        f"{live_server.ws_url}/webchat/ws?token=unknown", origin=live_server.url
    ) as socket:
        try:
            await socket.send(json.dumps({"type": "message", "text": "hello"}))
        except websockets.ConnectionClosed:
            pass
        closed = socket.close_code
        try:
            await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)
        except websockets.ConnectionClosed as error:
            closed = error.rcvd.code if error.rcvd else closed
    assert closed == 4401
    async with live_server.bot.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(InboxRow)) == 0


async def test_a_bounce_marks_an_address_only_from_a_channel_whose_senders_are_addresses(
    make_bot: BotFactory,
) -> None:
    bot, _channel = await fake_channel(make_bot)
    address = "Olivia.Brown@example.com"
    assert not await bot.conversations.mark_undeliverable(FAKE, address)
    bot.capabilities["mail-like"] = Capabilities(senders_are_email=True)
    assert await bot.conversations.mark_undeliverable("mail-like", address)
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "A-1015")
    assert order is not None and order.customer_email_undeliverable
