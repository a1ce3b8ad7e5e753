"""The inbox: recorded before acknowledged, answered once, in order, also after a crash."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select

from composition.bootstrap import Orderbot
from dialog.messages import ConversationKey, Inbound
from dialog.tables import Conversation, InboxRow, TranscriptEntry
from tests.conftest import BotFactory


async def transcript(bot: Orderbot, key: ConversationKey) -> list[tuple[str, str]]:
    async with bot.database.transaction() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(
                Conversation.channel == key.channel, Conversation.chat_id == key.chat_id
            )
        )
        rows = await session.scalars(
            select(TranscriptEntry)
            .where(TranscriptEntry.conversation_id == conversation_id)
            .order_by(TranscriptEntry.id)
        )
        return [(row.sender, row.text) for row in rows]


def message(chat: str, text: str, platform_id: str) -> Inbound:
    return Inbound(key=ConversationKey("telegram", chat), text=text, message_id=platform_id)


async def test_a_replayed_message_is_refused_and_answered_once(
    make_bot: BotFactory, database_url: str
) -> None:
    bot = await make_bot(database_url, demo={"enabled": False})
    assert await bot.inbox.accept(message("c1", "hello", "update-1"))
    assert not await bot.inbox.accept(message("c1", "hello", "update-1"))
    await bot.inbox.drain()
    lines = await transcript(bot, ConversationKey("telegram", "c1"))
    assert [sender for sender, _ in lines] == ["customer", "bot"]


async def test_the_same_message_at_the_same_moment_is_recorded_once(
    make_bot: BotFactory, database_url: str
) -> None:
    bot = await make_bot(database_url, demo={"enabled": False})
    accepted = await asyncio.gather(
        *(bot.inbox.accept(message("c2", "hi", "update-7")) for _ in range(10))
    )
    assert accepted.count(True) == 1
    await bot.inbox.drain()
    assert len(await transcript(bot, ConversationKey("telegram", "c2"))) == 2


async def test_messages_of_one_conversation_are_answered_in_arrival_order(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(demo={"enabled": False})
    texts = ["hello", "thanks", "bye"] * 5
    for number, text in enumerate(texts):
        assert await bot.inbox.accept(message("c3", text, f"u{number}"))
    await bot.inbox.drain()
    lines = await transcript(bot, ConversationKey("telegram", "c3"))
    assert [text for sender, text in lines if sender == "customer"] == texts
    assert [sender for sender, _ in lines] == ["customer", "bot"] * len(texts)


async def test_a_message_recorded_before_a_crash_is_answered_after_the_restart(
    make_bot: BotFactory, database_url: str
) -> None:
    first = await make_bot(database_url, demo={"enabled": False})
    async with first.database.transaction() as session:  # recorded, then the process died
        await session.execute(
            insert(InboxRow).values(
                channel="telegram", chat_id="c4", platform_id="update-9", text="hello"
            )
        )
    restarted = await make_bot(database_url, demo={"enabled": False})
    await restarted.inbox.drain()
    lines = await transcript(restarted, ConversationKey("telegram", "c4"))
    assert [sender for sender, _ in lines] == ["customer", "bot"]
    assert lines[1][1].startswith("Hello!")


async def test_a_row_handed_to_two_workers_is_answered_once(make_bot: BotFactory) -> None:
    bot = await make_bot(demo={"enabled": False})
    async with bot.database.transaction() as session:
        inbox_id = await session.scalar(
            insert(InboxRow)
            .values(channel="telegram", chat_id="c5", platform_id="u", text="hello")
            .returning(InboxRow.id)
        )
    inbound = Inbound(key=ConversationKey("telegram", "c5"), text="hello", inbox_id=inbox_id)
    replies = await asyncio.gather(bot.manager.handle(inbound), bot.manager.handle(inbound))
    assert sorted(len(r) for r in replies) == [0, 1]
