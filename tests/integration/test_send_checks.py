"""The send checks of several processes (check_owner) gathered into one read
(dialog/send_checks.py): every reply is still checked by a read begun after it was queued,
a failed read still sends, and the replies of many chats share their reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from dialog.messages import ConversationKey, Outbound
from dialog.outbox import OutboxSender
from dialog.send_checks import SendChecks
from dialog.store import ConversationStore
from dialog.unit_of_work import SendCheck
from storage.clock import utcnow
from tests.fakes.unit_of_work import InMemoryDatabase, InMemoryUnitOfWork
from tests.integration.test_outbox import RecordingChannel, until


class Reads:
    """Units of work over an in-memory database whose send checks are recorded, and can be
    held (answered from what the read saw when it began) or made to fail."""

    def __init__(self, database: InMemoryDatabase) -> None:
        self.database = database
        self.asked: list[list[int]] = []  # the rows of each read
        self.hold: asyncio.Event | None = None
        self.began = asyncio.Event()
        self.failing = False

    def __call__(self) -> InMemoryUnitOfWork:
        uow = self.database.unit_of_work()
        uow.outbox = _RecordedOutbox(uow.outbox, self)  # type: ignore[assignment]
        return uow


class _RecordedOutbox:
    def __init__(self, outbox: Any, reads: Reads) -> None:
        self._outbox = outbox
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outbox, name)

    async def sendable_many(self, rows: Sequence[tuple[int, int]], owner: str,
                            since: datetime) -> dict[int, SendCheck]:
        self._reads.asked.append([outbox_id for outbox_id, _ in rows])
        if self._reads.failing:
            raise ConnectionError("the database went away")
        checks: dict[int, SendCheck] = await self._outbox.sendable_many(rows, owner, since)
        self._reads.began.set()
        if self._reads.hold is not None:
            await self._reads.hold.wait()
        return checks


async def replies(database: InMemoryDatabase, chats: Sequence[tuple[str, str]],
                  owner: str = "p1") -> list[int]:
    """One committed reply per (chat, text), as turns of `owner` commit them."""
    ids = []
    async with database.unit_of_work() as uow:
        for chat, text in chats:
            key = ConversationKey("test", chat)
            state = await uow.conversations.find(key) or await uow.conversations.add(
                key, "en", None)
            entry = await uow.transcript.add_reply(state.id, Outbound(key=key, text=text),
                                                   utcnow())
            ids.append(await uow.outbox.add(entry, key, {}, utcnow(), owner))
        await uow.commit()
    return ids


def sender(reads: Reads, channel: RecordingChannel) -> OutboxSender:
    return OutboxSender(reads, ConversationStore(owner="p1"), {"test": channel},
                        check_owner=True)


async def queued(outbox: OutboxSender, database: InMemoryDatabase, ids: list[int]) -> None:
    async with database.unit_of_work() as uow:
        pending = await uow.outbox.unsent(ids, None)
    outbox.enqueue(pending)


async def test_the_replies_of_many_chats_are_checked_together_and_all_leave() -> None:
    database = InMemoryDatabase()
    reads = Reads(database)
    channel = RecordingChannel()
    outbox = sender(reads, channel)
    await outbox.start()
    try:
        ids = await replies(database, [(f"c{n}", f"reply {n}") for n in range(40)])
        await queued(outbox, database, ids)
        await until(lambda: len(channel.delivered) == 40, channel)
        await outbox.drain()
    finally:
        await outbox.stop()
    assert sorted(channel.delivered) == sorted(f"reply {n}" for n in range(40))
    assert sorted(row for read in reads.asked for row in read) == ids  # each checked once
    assert len(reads.asked) < 40 / 4  # asked for at once, read together


async def test_a_reply_queued_during_a_read_is_checked_by_the_next_one() -> None:
    """A reply queued while a read is on its way, then taken over by another process before
    that read answers, is not sent here: its own check reads after the takeover."""
    database = InMemoryDatabase()
    reads = Reads(database)
    reads.hold = asyncio.Event()
    channel = RecordingChannel()
    outbox = sender(reads, channel)
    await outbox.start()
    try:
        first, second = await replies(database, [("c1", "first"), ("c2", "second")])
        async with database.unit_of_work() as uow:
            later = await uow.outbox.unsent([second], None)
        await queued(outbox, database, [first])
        await asyncio.wait_for(reads.began.wait(), 10)  # the first read has seen the rows
        outbox.enqueue(later)  # a turn's commit queues it (the read holds the fake's lock)
        database.tables.outbox[second].owner = "p2"  # as p2's takeover does
        hold, reads.hold = reads.hold, None
        hold.set()
        await outbox.drain()
    finally:
        await outbox.stop()
    assert channel.delivered == ["first"]
    assert reads.asked == [[first], [second]]
    assert database.tables.outbox[second].sent_at is None  # p2's to send


async def test_a_failed_read_still_sends_each_reply_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = InMemoryDatabase()
    reads = Reads(database)
    reads.failing = True
    channel = RecordingChannel()
    outbox = sender(reads, channel)
    await outbox.start()
    try:
        ids = await replies(database, [("c1", "one"), ("c1", "two"), ("c2", "three")])
        with caplog.at_level(logging.WARNING, logger="dialog.send_checks"):
            await queued(outbox, database, ids)
            await until(lambda: len(channel.delivered) == 3, channel)
            await outbox.drain()
    finally:
        await outbox.stop()
    assert channel.delivered.index("one") < channel.delivered.index("two")  # still in order
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert "sending them" in warned and all(str(i) in warned for i in ids)


async def test_a_row_asked_about_twice_at_once_is_read_for_each() -> None:
    database = InMemoryDatabase()
    reads = Reads(database)
    row, = await replies(database, [("c1", "one")])
    checks = SendChecks(reads, "p1", timedelta(hours=1))
    answers = await asyncio.gather(checks.check(row, row), checks.check(row, row))
    await checks.finish()
    assert answers == [SendCheck.SEND, SendCheck.SEND]
    assert reads.asked == [[row], [row]]

