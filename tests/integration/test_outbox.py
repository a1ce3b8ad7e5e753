"""The outbox: replies leave only after the commit, in order, retried, and never lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.messages import (
    Capabilities,
    ConversationKey,
    Delivery,
    DeliveryFailed,
    Inbound,
    Outbound,
)
from dialog.outbox import OutboxSender
from dialog.store import ConversationStore
from dialog.tables import Conversation, OutboxRow
from dialog.takeover import Takeover
from storage.clock import utcnow
from tests.conftest import BotFactory
from tests.fakes.unit_of_work import InMemoryDatabase


class RecordingChannel:
    """A channel whose platform answers as scripted: each entry fails one attempt."""

    name = "test"

    def __init__(self, failures: list[DeliveryFailed] | None = None) -> None:
        self.failures = list(failures or [])
        self.delivered: list[str] = []
        self.arrived = asyncio.Event()

    async def send(self, delivery: Delivery) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(delivery.outbound.text)
        self.arrived.set()


async def until(condition, channel: RecordingChannel) -> None:  # type: ignore[no-untyped-def]
    async def wait() -> None:
        while not condition():
            channel.arrived.clear()
            await channel.arrived.wait()

    await asyncio.wait_for(wait(), 10)


async def with_channel(bot: Orderbot, channel: RecordingChannel) -> Orderbot:
    await bot.outbox.stop()
    bot.outbox.add_channel(channel.name, channel)
    await bot.outbox.start()
    return bot


async def test_a_retry_after_is_waited_out_and_order_is_kept(make_bot: BotFactory) -> None:
    channel = RecordingChannel([DeliveryFailed("429", retry_after=0.05)])
    bot = await with_channel(await make_bot(demo={"enabled": False}), channel)
    key = ConversationKey("test", "c1")
    for text in ("hello", "thanks", "bye"):
        await bot.manager.handle(Inbound(key=key, text=text))
    await until(lambda: len(channel.delivered) == 3, channel)
    assert [text.split()[0] for text in channel.delivered] == ["Hello!", "You're", "Goodbye,"]


async def test_a_permanent_failure_is_recorded_and_escalated(make_bot: BotFactory) -> None:
    channel = RecordingChannel([DeliveryFailed("bot was blocked", permanent=True)])
    bot = await with_channel(await make_bot(demo={"enabled": False}), channel)
    key = ConversationKey("test", "c2")
    await bot.manager.handle(Inbound(key=key, text="hello"))
    await bot.manager.handle(Inbound(key=key, text="thanks"))
    await until(lambda: len(channel.delivered) == 1, channel)  # the second one got through
    await bot.outbox.drain()
    async with bot.database.transaction() as session:
        rows = list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        conversation = await session.scalar(
            select(Conversation).where(Conversation.chat_id == "c2")
        )
    assert rows[0].last_error == "bot was blocked" and rows[0].sent_at is None
    assert rows[1].sent_at is not None
    assert conversation is not None
    assert (conversation.status, conversation.escalation_reason) == ("escalated", "delivery_failed")


async def test_unsent_replies_are_delivered_after_a_restart(make_bot: BotFactory) -> None:
    first = await make_bot(demo={"enabled": False})
    await first.outbox.stop()  # the process dies after committing, before sending
    first.outbox.add_channel("test", RecordingChannel())
    await first.manager.handle(Inbound(key=ConversationKey("test", "c3"), text="hello"))
    database_url = first.settings.database.url
    channel = RecordingChannel()
    restarted = await make_bot(database_url, demo={"enabled": False})
    await with_channel(restarted, channel)
    await until(lambda: len(channel.delivered) == 1, channel)
    assert channel.delivered[0].startswith("Hello!")


async def test_last_buttons_and_undeliverable_addresses(make_bot: BotFactory) -> None:
    bot = await make_bot()
    key = ConversationKey("test", "c4")
    await bot.manager.handle(Inbound(key=key, text="hello"))
    assert [b.title for b in await bot.manager.last_buttons(key)] == [
        "Track my order", "Talk to a person"
    ]
    # The email channel (off in this bot) declares that its senders are addresses.
    assert not await bot.manager.mark_undeliverable("email", "Olivia.Brown@example.com")
    bot.capabilities["email"] = Capabilities(senders_are_email=True)
    assert await bot.manager.mark_undeliverable("email", "Olivia.Brown@example.com")
    assert not await bot.manager.mark_undeliverable("email", "nobody@example.com")
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "A-1015")
    assert order is not None and order.customer_email_undeliverable


class OneChatRateLimited(RecordingChannel):
    """The platform makes one chat wait a long time; the others are served as usual."""

    def __init__(self, slow_chat: str) -> None:
        super().__init__()
        self.slow_chat = slow_chat

    async def send(self, delivery: Delivery) -> None:
        if delivery.outbound.key.chat_id == self.slow_chat:
            raise DeliveryFailed("429", retry_after=3600)
        await super().send(delivery)


async def test_a_chat_told_to_wait_holds_back_no_other_chat(make_bot: BotFactory) -> None:
    channel = OneChatRateLimited(slow_chat="busy")
    bot = await with_channel(await make_bot(demo={"enabled": False}), channel)
    await bot.manager.handle(Inbound(key=ConversationKey("test", "busy"), text="hello"))
    await bot.manager.handle(Inbound(key=ConversationKey("test", "calm"), text="hello"))
    await until(lambda: len(channel.delivered) == 1, channel)
    assert channel.delivered[0].startswith("Hello!")
    calm = f"outbox-{ConversationKey('test', 'calm')}"  # its worker ends once it marked it sent
    await asyncio.gather(*[w for w in bot.outbox._workers if w.get_name() == calm])
    async with bot.database.transaction() as session:
        unsent = await session.scalars(select(OutboxRow.chat_id).where(OutboxRow.sent_at.is_(None)))
        assert list(unsent) == ["busy"]  # still waiting its turn, not lost


async def test_a_reply_taken_over_by_another_process_is_not_sent_here(
    make_bot: BotFactory, redis_url: str,
) -> None:
    # With Redis (several processes), a row is sent only while this process still owns it.
    bot = await make_bot(demo={"enabled": False}, redis={"url": redis_url})
    await bot.outbox.stop()  # stalled: the reply committed, not sent
    await bot.manager.handle(Inbound(key=ConversationKey("test", "c9"), text="hello"))
    async with bot.database.transaction() as session:  # as another process's takeover does
        row = await session.scalar(select(OutboxRow))
        assert row is not None
        row.owner = "another:8001"
    channel = RecordingChannel()
    await with_channel(bot, channel)
    await bot.outbox.resume([row.id])  # e.g. queued before the stall
    await bot.outbox.drain()
    assert channel.delivered == []
    async with bot.database.transaction() as session:
        row = await session.get(OutboxRow, row.id)
        assert row is not None and (row.sent_at, row.last_error) == (None, None)  # the taker's


async def test_a_reply_waits_for_an_earlier_one_of_another_process_and_follows_its_takeover(
) -> None:
    """Several processes (check_owner): p1's replies wait while p2's earlier reply of the same
    chat is unsent; taken over by p1, it goes first, then p1's own, in order; another chat's
    reply is held back by nothing."""
    database = InMemoryDatabase()
    channel = RecordingChannel()
    sender = OutboxSender(database.unit_of_work, ConversationStore(owner="p1"),
                          {"test": channel}, check_owner=True)
    key, other = ConversationKey("test", "c1"), ConversationKey("test", "c2")
    now = utcnow()
    ids = []
    async with database.unit_of_work() as uow:
        for chat, text, owner in ((key, "one", "p2"), (key, "two", "p1"), (key, "three", "p1"),
                                  (other, "four", "p1")):
            state = await uow.conversations.find(chat) or await uow.conversations.add(
                chat, "en", None)
            entry = await uow.transcript.add_reply(state.id, Outbound(key=chat, text=text), now)
            ids.append(await uow.outbox.add(entry, chat, {}, now, owner))
        await uow.commit()
    await sender.start()  # p1's own unsent rows: two, three (held back) and four
    try:
        await until(lambda: channel.delivered == ["four"], channel)
        async with database.unit_of_work() as uow:  # p2 stopped: p1 takes its reply over
            await uow.processes.beat("p1", now + timedelta(seconds=2))
            assert await uow.outbox.adopt("p1", now + timedelta(seconds=1), False) == [ids[0]]
            await uow.commit()
        await sender.resume([ids[0]])
        await until(lambda: len(channel.delivered) == 4, channel)
        await sender.drain()
        assert channel.delivered == ["four", "one", "two", "three"]
        async with database.unit_of_work() as uow:
            assert await uow.outbox.unsent(None, "p1") == []
    finally:
        await sender.stop()


async def test_a_reply_first_in_line_is_checked_again_after_a_stall_long_enough_for_a_takeover(
) -> None:
    """Several processes: a reply whose turn found nothing of its conversation still to go
    (first_in_line) is sent without reading that its row is still this process's while the
    heartbeat in force when it was recorded vouches for it. After a stall past the takeover
    period the read is made, though a heartbeat was written again since: the rows another
    process took over meanwhile are left to it."""
    database = InMemoryDatabase()
    started = utcnow()
    now = [started]
    takeover = Takeover(database.unit_of_work, "p1", 6.0, _resume_nothing, clock=lambda: now[0])
    statements = 0

    def counted_units():  # type: ignore[no-untyped-def]
        nonlocal statements
        statements += 1
        return database.unit_of_work()

    channel = RecordingChannel()
    sender = OutboxSender(database.unit_of_work, ConversationStore(owner="p1"),
                          {"test": channel}, check_owner=True,
                          statement_units=counted_units,
                          rows_surely_own=takeover.rows_surely_own)
    await takeover.sweep()  # p1's heartbeat at `started`
    await sender.start()

    async def recorded(chat: str, text: str, at_seconds: float) -> Delivery:
        key, at = ConversationKey("test", chat), started + timedelta(seconds=at_seconds)
        async with database.unit_of_work() as uow:
            state = await uow.conversations.add(key, "en", None)
            reply = Outbound(key=key, text=text)
            entry = await uow.transcript.add_reply(state.id, reply, at)
            outbox_id = await uow.outbox.add(entry, key, {}, at, "p1")
            await uow.commit()
        return Delivery(outbox_id, entry, reply, at.isoformat(), first_in_line=True)

    async def sent(deliveries: list[Delivery]) -> int:
        """The statements the sender made for them: its reads and its sent marks."""
        before = statements
        sender.enqueue(deliveries)
        await sender.drain()
        return statements - before

    try:
        now[0] = started + timedelta(seconds=1)
        assert await sent([await recorded("c1", "fresh", 0.5)]) == 1  # its sent mark only
        stalled = [await recorded("c2", "stalled", 1.5), await recorded("c3", "too", 1.5)]
        now[0] = started + timedelta(seconds=9)  # p1 stalled: p2 took over its rows, and
        async with database.unit_of_work() as uow:  # then p1 wrote a heartbeat again
            await uow.processes.beat("p2", now[0])
            assert len(await uow.outbox.adopt("p2", now[0] - timedelta(seconds=6), False)) == 2
            await uow.commit()
        await takeover.sweep()
        await sent(stalled)  # read: p2's now
        now[0] = started + timedelta(seconds=10)
        assert await sent([await recorded("c4", "after", 9.5)]) == 1
        assert channel.delivered == ["fresh", "after"]
        async with database.unit_of_work() as uow:
            assert [d.outbound.text for d in await uow.outbox.unsent(None, "p2")] == [
                "stalled", "too"]
    finally:
        await sender.stop()


async def _resume_nothing(inbox_ids: list[int], outbox_ids: list[int]) -> None:
    raise AssertionError("nothing to take over here")
