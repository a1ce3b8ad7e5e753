"""Sent marks: a reply delivered is marked sent while the bot runs, so nothing a customer
already has is sent again after a stop."""

from __future__ import annotations

import asyncio

from dialog.messages import ConversationKey, Delivery, Outbound
from dialog.outbox import OutboxSender
from dialog.store import ConversationStore
from dialog.unit_of_work import Repositories
from storage.clock import utcnow
from tests.fakes.unit_of_work import InMemoryDatabase

DEADLINE = 10.0


class Chat:
    name = "test"

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.arrived = asyncio.Condition()

    async def send(self, delivery: Delivery) -> None:
        async with self.arrived:
            self.delivered.append(delivery.outbound.text)
            self.arrived.notify_all()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(DEADLINE), self.arrived:
            await self.arrived.wait_for(lambda: len(self.delivered) >= count)


class CountingStore(ConversationStore):
    """Records each batch of rows marked sent (one per transaction)."""

    def __init__(self) -> None:
        super().__init__(owner="p1")
        self.batches: list[list[int]] = []

    async def mark_sent(self, uow: Repositories, outbox_ids: list[int]) -> None:
        self.batches.append(list(outbox_ids))
        await super().mark_sent(uow, outbox_ids)


async def _reply(database: InMemoryDatabase, chat_id: str, text: str) -> int:
    key = ConversationKey("test", chat_id)
    async with database.unit_of_work() as uow:
        state = await uow.conversations.find(key) or await uow.conversations.add(key, "en", None)
        entry = await uow.transcript.add_reply(state.id, Outbound(key=key, text=text), utcnow())
        outbox_id = await uow.outbox.add(entry, key, {}, utcnow(), "p1")
        await uow.commit()
    return outbox_id


async def _unsent(database: InMemoryDatabase) -> list[str]:
    async with database.unit_of_work() as uow:
        return [d.outbound.text for d in await uow.outbox.unsent(None, "p1")]


async def test_a_reply_is_marked_sent_while_the_bot_runs() -> None:
    """No stop needed: the mark is written once the reply is delivered (a crash after that
    sends nothing twice)."""
    database, chat, store = InMemoryDatabase(), Chat(), CountingStore()
    sender = OutboxSender(database.unit_of_work, store, {"test": chat})
    await sender.start()
    try:
        reply = await _reply(database, "anna", "Thank you, have a nice day!")
        await sender.resume([reply])
        await chat.until(1)
        async with asyncio.timeout(DEADLINE):
            await sender.drain()  # the worker ends once its reply is marked
        assert store.batches == [[reply]]
        assert await _unsent(database) == []
        # The next reply, after the worker ended, is marked too.
        later = await _reply(database, "anna", "Anything else?")
        await sender.resume([later])
        await chat.until(2)
        async with asyncio.timeout(DEADLINE):
            await sender.drain()
        assert store.batches == [[reply], [later]]
        assert await _unsent(database) == []
    finally:
        await sender.stop()
    assert chat.delivered == ["Thank you, have a nice day!", "Anything else?"]
