"""One contract for the dialog's repositories, run over SQLite, PostgreSQL and in memory.

What a turn relies on: a unit of work commits only when told, rolls back when left without
commit, runs its after-commit work only after a commit; a platform message is recorded once;
the outbox hands back what was not sent.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import cast

import pytest

from dialog import demo_history, events
from dialog.attachment_values import AttachmentRef, StoredAttachment
from dialog.demo_history import HistoryPlan, seed_history
from dialog.desk_values import OperatorRef, QueueFilter
from dialog.events import PendingEvent
from dialog.intent_labels import UnknownMessage, label_message, remove_label
from dialog.messages import Button, ConversationKey, Inbound, Outbound
from dialog.state import ConversationState
from dialog.unit_of_work import (
    ROW_LOCK,
    AlreadyRecorded,
    Fenced,
    RecordedExchange,
    SendCheck,
    UnitOfWork,
    UnitOfWorkFactory,
)
from orders.tables import Customer, Order
from storage.clock import utcnow
from storage.database import Database, make_engine
from storage.repositories.demo_history import SqlDemoHistory
from storage.repositories.unit_of_work import SqlUnitOfWork
from storage.upgrade import upgrade
from tests.fakes.unit_of_work import InMemoryDatabase, InMemoryDemoHistory, InMemoryUnitOfWork

KEY = ConversationKey("telegram", "chat-1")
OTHER = ConversationKey("telegram", "chat-2")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def units(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    """A unit-of-work factory over each implementation, on an empty migrated database."""
    if request.param == "memory":
        yield InMemoryDatabase().unit_of_work
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}" if request.param == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    database = Database(make_engine(url))
    await upgrade(database.engine)
    try:
        yield partial(SqlUnitOfWork, database)
    finally:
        await database.dispose()


async def test_a_conversation_is_kept_only_when_committed(units: UnitOfWorkFactory) -> None:
    async with units() as uow:
        await uow.conversations.add(KEY, "pl", None)  # left without commit
    async with units() as uow:
        assert await uow.conversations.find(KEY) is None
        state = await uow.conversations.add(KEY, "pl", None)
        state.flow, state.step, state.slots = "status", "ask_number", {"number": "A-1"}
        state.status, state.escalation_reason = "escalated", "asked"
        await uow.conversations.save(state, utcnow())
        await uow.commit()
    async with units() as uow:
        found = await uow.conversations.find(KEY)
    assert found is not None and found.id == state.id
    assert (found.language, found.flow, found.step, found.slots) == (
        "pl", "status", "ask_number", {"number": "A-1"})
    assert (found.status, found.loaded_status, found.escalation_reason) == (
        "escalated", "escalated", "asked")


async def test_after_commit_work_runs_after_a_commit_only(units: UnitOfWorkFactory) -> None:
    ran: list[str] = []
    async with units() as uow:
        uow.after_commit(lambda: ran.append("rolled back"))
    with pytest.raises(RuntimeError):
        async with units() as uow:
            await uow.conversations.add(KEY, "en", None)
            uow.after_commit(lambda: ran.append("failed"))
            raise RuntimeError("the turn failed")
    async with units() as uow:
        assert await uow.conversations.find(KEY) is None  # nothing of the failed one is kept
        uow.after_commit(lambda: ran.append("committed"))
        await uow.commit()
    assert ran == ["committed"]


async def test_escalating_moves_only_a_conversation_with_the_bot(units: UnitOfWorkFactory) -> None:
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        assert await uow.conversations.escalate_if_bot(KEY, "delivery_failed", utcnow()) == state.id
        assert await uow.conversations.escalate_if_bot(KEY, "again", utcnow()) is None
        assert await uow.conversations.escalate_if_bot(
            ConversationKey("telegram", "nobody"), "x", utcnow()) is None
        await uow.commit()
    async with units() as uow:
        found = await uow.conversations.find(KEY)
    assert found is not None and (found.status, found.escalation_reason) == (
        "escalated", "delivery_failed")


async def test_the_transcript_records_a_platform_message_once(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        hello = Inbound(key=KEY, text="hello", message_id="m-1")
        assert await uow.transcript.add_inbound(state.id, hello, now, "greet", "greet")
        assert await uow.transcript.add_inbound(state.id, hello, now, None, None) is None
        # the transaction stays usable after the duplicate
        await uow.transcript.add_reply(state.id, Outbound(key=KEY, text="Hi!", buttons=(
            Button("Track", "intent:order_status"),)), now)
        await uow.commit()
    async with units() as uow:
        language, history = await uow.transcript.history(KEY, 200)
        last = await uow.transcript.last_from_bot(state.id)
        buttons = await uow.transcript.last_buttons(KEY)
        nothing = await uow.transcript.history(ConversationKey("telegram", "x"), 200)
    assert language == "en"
    assert [(e.sender, e.text) for e in history] == [("customer", "hello"), ("bot", "Hi!")]
    assert last is not None and last.text == "Hi!"
    assert buttons == [Button("Track", "intent:order_status")]
    assert nothing == ("en", [])


async def test_a_message_whose_inbox_row_this_turn_holds_is_recorded_with_its_id(
    units: UnitOfWorkFactory,
) -> None:
    """The turn recorded (or claimed) the inbox row: the transcript keeps the platform id,
    and the message and a reply after it are both kept."""
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        hello = Inbound(key=KEY, text="hello", message_id="w-1")
        await uow.inbox.add(hello, processed=True, owner=None)
        assert await uow.transcript.add_inbound(
            state.id, hello, utcnow(), None, None, recorded_in_inbox=True)
        await uow.transcript.add_reply(state.id, Outbound(key=KEY, text="Hi!"), utcnow())
        await uow.commit()
    async with units() as uow:
        _language, history = await uow.transcript.history(KEY, 200)
        with pytest.raises(AlreadyRecorded):  # a copy is refused by the inbox, first
            await uow.inbox.add(hello, processed=True, owner=None)
    assert [(e.sender, e.text) for e in history] == [("customer", "hello"), ("bot", "Hi!")]


async def test_a_message_and_its_replies_written_at_once_read_as_written_one_by_one(
    units: UnitOfWorkFactory,
) -> None:
    """add_exchange (one statement on SQL) keeps the message before its replies, each as
    add_inbound and add_reply write it."""
    now = utcnow()
    hello = Inbound(key=KEY, text="dzień dobry", message_id="w-1", action="intent:greet")
    replies = [Outbound(key=KEY, text="Witaj!", buttons=(Button("Track", "intent:status"),)),
               Outbound(key=KEY, text="Card", rich={"kind": "order", "number": "A-1"}),
               Outbound(key=KEY, text="Ola here", sender="operator", author="ola")]
    async with units() as uow:
        at_once = await uow.conversations.add(KEY, "pl", None)
        one_by_one = await uow.conversations.add(OTHER, "pl", None)
        ids = await uow.transcript.add_exchange(at_once.id, hello, replies, now, "greet",
                                                "greet")
        await uow.transcript.add_inbound(one_by_one.id, replace(hello, key=OTHER), now,
                                         "greet", "greet", recorded_in_inbox=True)
        for reply in replies:
            await uow.transcript.add_reply(one_by_one.id, reply, now)
        await uow.commit()
    async with units() as uow:
        _, written_at_once = await uow.transcript.history(KEY, 200)
        _, written_one_by_one = await uow.transcript.history(OTHER, 200)
        last = await uow.transcript.last_from_bot(at_once.id)
    assert ids == sorted(ids) and ids == [entry.id for entry in written_at_once]
    assert [replace(entry, id=0) for entry in written_at_once] == [
        replace(entry, id=0) for entry in written_one_by_one]
    assert [(e.sender, e.text) for e in written_at_once] == [
        ("customer", "dzień dobry"), ("bot", "Witaj!"), ("bot", "Card"),
        ("operator", "Ola here")]
    assert last is not None and last.rich == {"kind": "order", "number": "A-1"}


@pytest.mark.parametrize("count", [1, 3])
async def test_an_answered_message_is_written_with_its_outbox_rows_and_state_or_not_at_all(
    units: UnitOfWorkFactory, count: int,
) -> None:
    """exchanges.record (one statement on PostgreSQL): each reply's outbox row delivers that
    reply, in order, with the state's context; the state is saved; left without commit,
    none of it is kept."""
    now = utcnow()
    question = Inbound(key=KEY, text="where is A-1?", message_id="w-7")
    replies = [Outbound(key=KEY, text=f"reply {n}", buttons=(Button("Yes", "yes"),))
               for n in range(count)]
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        await uow.commit()
    async with units() as uow:  # left without commit
        await uow.exchanges.record(state, question, replies, now, "status", "status", "p1")
    async with units() as uow:
        assert await uow.outbox.unsent(None, "p1") == []
        state.flow, state.step, state.context = "status", "ask_number", {"thread": "t-9"}
        entry_ids, outbox_ids, _ = await uow.exchanges.record(
            state, question, replies, now, "status", "status", "p1")
        await uow.commit()
    async with units() as uow:
        unsent = await uow.outbox.unsent(None, "p1")
        _, history = await uow.transcript.history(KEY, 200)
        found = await uow.conversations.find(KEY)
    assert [(e.id, e.sender, e.text) for e in history] == list(zip(
        entry_ids, ["customer"] + ["bot"] * count, ["where is A-1?"] + [r.text for r in replies],
        strict=True))
    assert [(d.outbox_id, d.message_id, d.outbound.text, d.context) for d in unsent] == [
        (outbox_id, entry_id, reply.text, {"thread": "t-9"})
        for outbox_id, entry_id, reply in zip(outbox_ids, entry_ids[1:], replies, strict=True)]
    assert found is not None and (found.flow, found.step, found.context) == (
        "status", "ask_number", {"thread": "t-9"})


async def test_an_answer_writes_the_events_and_order_watches_of_its_turn_with_it(
    units: UnitOfWorkFactory,
) -> None:
    """exchanges.record also writes the turn's events and the watches of the orders it
    proved (in its one statement on PostgreSQL): an order watched already is not watched
    twice, an unknown number watches nothing, and without a commit none of it is kept."""
    now = utcnow()
    async with units() as uow:
        eva = await _customer(uow, "Eva", "eva@example.com")
        await _order(uow, "A-3001", eva)
        await _order(uow, "A-3002", eva)
        state = await uow.conversations.add(KEY, "en", None)
        await uow.commit()
    reply = [Outbound(key=KEY, text="A-3001 is on its way.")]
    noted = [PendingEvent(events.STATUS_ANSWERED, "A-3001"),
             PendingEvent(events.RATING_OFFERED)]

    async def answered(message_id: str, watch: list[str], commit: bool) -> None:
        question = Inbound(key=KEY, text="where is A-3001?", message_id=message_id)
        async with units() as uow:
            await uow.exchanges.record(state, question, reply, now, "status", "status", "p1",
                                       noted, watch)
            if commit:
                await uow.commit()

    await answered("w-1", ["A-3002"], commit=False)
    async with units() as uow:
        assert await uow.events.latest_rating_offer(state.id) is None
        assert await uow.conversations.watching("A-3002") == []
    await answered("w-2", ["A-3001", "A-3001", "A-9999"], commit=True)
    await answered("w-3", ["A-3001"], commit=True)  # watched already
    async with units() as uow:
        offer = await uow.events.latest_rating_offer(state.id)
        assert await uow.conversations.watching("A-3001") == [(KEY, eva)]
        assert await uow.conversations.watching("A-3002") == []
        assert await uow.conversations.watching("A-9999") == []
    assert offer is not None and (offer.handoff_id, offer.rated) == (None, False)
    with pytest.raises(ValueError, match="unknown event kind"):  # a typo is refused
        async with units() as uow:
            await uow.exchanges.record(state, Inbound(key=KEY, text="hi", message_id="w-4"),
                                       reply, now, None, None, "p1",
                                       [PendingEvent("no_such_kind")])


async def test_an_answer_is_first_in_line_only_with_no_reply_of_its_conversation_to_go(
    units: UnitOfWorkFactory, request: pytest.FixtureRequest,
) -> None:
    """exchanges.record tells whether a reply of the conversation was still to be sent when
    it recorded the new ones (PostgreSQL reads it in the same statement; elsewhere it is not
    read, and never claimed): the outbox then sends without reading it again."""
    told = request.node.callspec.params["units"] == "postgresql"
    now = utcnow()
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        other = await uow.conversations.add(OTHER, "en", None)
        await uow.commit()
    asked = iter(range(1, 100))

    async def answered(conversation: ConversationState) -> RecordedExchange:
        question = Inbound(key=conversation.key, text="where is A-1?",
                           message_id=f"w-{next(asked)}")
        async with units() as uow:
            reply = Outbound(key=conversation.key, text="On its way.")
            recorded = await uow.exchanges.record(conversation, question, [reply], now,
                                                  "status", "status", "p1")
            await uow.commit()
        return recorded

    first = await answered(state)
    second = await answered(state)  # the first reply is not sent yet
    elsewhere = await answered(other)  # another conversation's reply is not in its way
    async with units() as uow:
        await uow.outbox.mark_sent([*first.outbox, *second.outbox], now)
        await uow.commit()
    third = await answered(state)
    async with units() as uow:
        await uow.outbox.mark_failed(third.outbox[0], "blocked by the customer")
        await uow.commit()
    fourth = await answered(state)  # a reply given up on holds nothing back
    assert [r.first_in_line for r in (first, second, elsewhere, third, fourth)] == [
        told, False, told, told, told]


async def test_the_inbox_refuses_a_replay_and_is_claimed_once(units: UnitOfWorkFactory) -> None:
    message = Inbound(key=KEY, text="hi", message_id="update-1", language="pl")
    async with units() as uow:
        inbox_id = await uow.inbox.add(message, processed=False, owner="p1")
        await uow.commit()
    with pytest.raises(AlreadyRecorded):
        async with units() as uow:
            await uow.inbox.add(message, processed=False, owner="p1")
    async with units() as uow:
        pending = await uow.inbox.unprocessed(None, "p1")
        assert await uow.inbox.unprocessed(None, "p2") == []
        assert await uow.inbox.claim(inbox_id)
        assert not await uow.inbox.claim(inbox_id)
        await uow.commit()
    assert [(p.inbox_id, p.text, p.message_id, p.language) for p in pending] == [
        (inbox_id, "hi", "update-1", "pl")]
    async with units() as uow:
        assert await uow.inbox.unprocessed([inbox_id], None) == []


async def test_the_outbox_hands_back_what_was_not_sent(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        ids = []
        for text in ("one", "two", "three"):
            entry = await uow.transcript.add_reply(state.id, Outbound(key=KEY, text=text), now)
            ids.append(await uow.outbox.add(entry, KEY, {"thread": "t"}, now, "p1"))
        await uow.commit()
    async with units() as uow:
        await uow.outbox.mark_sent([ids[0]], utcnow())
        await uow.outbox.mark_failed(ids[1], "refused")
        await uow.commit()
    async with units() as uow:
        unsent = await uow.outbox.unsent(None, "p1")
        assert await uow.outbox.unsent(None, "p2") == []
        assert [d.outbox_id for d in await uow.outbox.unsent(ids, None)] == [ids[2]]
    assert [(d.outbox_id, d.outbound.text, d.context) for d in unsent] == [
        (ids[2], "three", {"thread": "t"})]


async def test_a_replys_structure_travels_with_it_to_the_outbox_and_history(
    units: UnitOfWorkFactory,
) -> None:
    card = {"card": {"number": "A-1015", "status": "shipped", "items": [
        {"name": "SSD 1 TB", "quantity": 1}]}}
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        rich = await uow.transcript.add_reply(
            state.id, Outbound(key=KEY, text="On its way", rich=card), utcnow())
        plain = await uow.transcript.add_reply(state.id, Outbound(key=KEY, text="Hi"), utcnow())
        for entry in (rich, plain):
            await uow.outbox.add(entry, KEY, {}, utcnow(), "p1")
        await uow.commit()
    async with units() as uow:
        sent = await uow.outbox.unsent(None, "p1")
        _, history = await uow.transcript.history(KEY, 10)
    assert [d.outbound.rich for d in sent] == [card, None]
    assert [entry.rich for entry in history] == [card, None]


async def test_a_token_is_found_touched_and_removed_once(units: UnitOfWorkFactory) -> None:
    issued = utcnow() - timedelta(hours=1)
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        await uow.tokens.add("hash-1", state.id, issued)
        await uow.commit()
    async with units() as uow:
        found = await uow.tokens.find("hash-1")
        assert found is not None and (found.key, found.conversation_id) == (KEY, state.id)
        await uow.tokens.touch("hash-1", utcnow())
        await uow.commit()
    async with units() as uow:
        touched = await uow.tokens.find("hash-1")
        assert touched is not None and touched.last_used_at > issued
        assert await uow.tokens.find("unknown") is None
        assert await uow.tokens.remove("hash-1")
        assert not await uow.tokens.remove("hash-1")
        await uow.commit()


async def test_the_work_of_a_stopped_process_is_adopted_once(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    long_ago = now - timedelta(hours=1)
    async with units() as uow:
        await uow.processes.beat("live", now)
        await uow.processes.beat("newcomer", now)
        await uow.processes.beat("gone", long_ago)
        state = await uow.conversations.add(KEY, "en", None)
        ids = {}
        for owner in ("live", "gone", None):
            message = Inbound(key=KEY, text="hi", message_id=f"m-{owner}")
            ids[owner] = await uow.inbox.add(message, processed=False, owner=owner)
            entry = await uow.transcript.add_reply(state.id, Outbound(key=KEY, text="hi"), now)
            ids[f"out-{owner}"] = await uow.outbox.add(entry, KEY, {}, now, owner)
        await uow.commit()
    alive_since = now - timedelta(minutes=1)
    async with units() as uow:  # settling: only rows nobody owns
        assert await uow.inbox.adopt("newcomer", alive_since, True) == [ids[None]]
        assert await uow.outbox.adopt("newcomer", alive_since, True) == [ids["out-None"]]
        await uow.commit()
    async with units() as uow:
        assert await uow.inbox.adopt("newcomer", alive_since, False) == [ids["gone"]]
        assert await uow.outbox.adopt("newcomer", alive_since, False) == [ids["out-gone"]]
        assert await uow.inbox.adopt("third", alive_since, False) == []  # taken already
        await uow.commit()
    async with units() as uow:
        mine = await uow.inbox.unprocessed(None, "newcomer")
        assert sorted(m.inbox_id or 0 for m in mine) == sorted([ids[None], ids["gone"]])
        assert [m.inbox_id for m in await uow.inbox.unprocessed(None, "live")] == [ids["live"]]
    async with units() as uow:  # a process whose own heartbeat looks late too (its sweep
        # waited long for its transaction) takes the others' rows, never its own: it has them
        # in hand, and would send its replies, queued or being sent, a second time
        late = now + timedelta(hours=1)
        assert await uow.inbox.adopt("live", late, False) == sorted([ids[None], ids["gone"]])
        assert await uow.outbox.adopt("live", late, False) == sorted(
            [ids["out-None"], ids["out-gone"]])
        await uow.commit()


async def test_a_stale_fencing_token_is_refused_and_changes_nothing(
    units: UnitOfWorkFactory,
) -> None:
    async with units() as uow:  # a new conversation keeps the token of the turn that made it
        state = await uow.conversations.add(KEY, "en", None, fence=10)
        await uow.commit()
    async with units() as uow:  # a newer holder of the lock: its token is recorded
        newer = await uow.conversations.find(KEY, fence=20)
        assert newer is not None and newer.id == state.id
        newer.flow = "status"
        await uow.conversations.save(newer, utcnow())
        await uow.commit()
    for stale in (20, 15):  # the same hold again, or an older one: refused
        with pytest.raises(Fenced):
            async with units() as uow:
                await uow.conversations.find(KEY, fence=stale)
    async with units() as uow:
        found = await uow.conversations.find(KEY)  # unfenced (one process): read as before
        assert found is not None and found.flow == "status"
        assert await uow.conversations.find(KEY, fence=21) is not None
        assert await uow.conversations.find(ConversationKey("telegram", "new"), fence=1) is None


async def test_a_row_locked_load_reads_the_state_and_refuses_nothing(
    units: UnitOfWorkFactory,
) -> None:
    """ROW_LOCK (several processes, the conversation's row as their lock): the state is read
    whatever token was recorded before, nothing is recorded, and the message of a turn is
    recorded in the inbox once, as with a token."""
    async with units() as uow:
        assert await uow.conversations.find(KEY, ROW_LOCK) is None  # none yet
        state = await uow.conversations.add(KEY, "pl", None, ROW_LOCK)
        state.flow = "status"
        await uow.conversations.save(state, utcnow())
        await uow.commit()
    async with units() as uow:
        assert await uow.conversations.find(KEY, fence=50) is not None  # a lease's token
        await uow.commit()
    message = Inbound(key=KEY, text="hi", message_id="w-1")
    async with units() as uow:
        found = await uow.exchanges.open(message, ROW_LOCK, "p1")
        await uow.commit()
    assert found is not None and (found.id, found.flow) == (state.id, "status")
    with pytest.raises(AlreadyRecorded):  # a replay
        async with units() as uow:
            await uow.exchanges.open(message, ROW_LOCK, "p1")
    async with units() as uow:  # ROW_LOCK recorded nothing: the lease's token still holds
        assert await uow.conversations.find(KEY, fence=51) is not None
        await uow.commit()
    with pytest.raises(Fenced):
        async with units() as uow:
            await uow.conversations.find(KEY, fence=50)


async def test_an_answered_message_is_recorded_once_as_its_fenced_state_is_read(
    units: UnitOfWorkFactory,
) -> None:
    """exchanges.open (one statement on PostgreSQL): the inbox row and the fenced load
    together; a replay or a stale token keeps neither."""
    message = Inbound(key=KEY, text="hi", message_id="w-1")
    async with units() as uow:
        assert await uow.exchanges.open(message, 10, "p1") is None  # no conversation yet
        state = await uow.conversations.add(KEY, "pl", None, fence=10)
        await uow.commit()
    with pytest.raises(AlreadyRecorded):  # a replay
        async with units() as uow:
            await uow.exchanges.open(message, 20, "p1")
    async with units() as uow:
        found = await uow.exchanges.open(replace(message, message_id="w-2"), 20, "p1")
        await uow.commit()
    assert found is not None and (found.id, found.language) == (state.id, "pl")
    late = replace(message, message_id="w-3")
    with pytest.raises(Fenced):  # the token recorded by w-2's turn is newer
        async with units() as uow:
            await uow.exchanges.open(late, 15, "p1")
    for seen in (message, replace(message, message_id="w-2")):
        with pytest.raises(AlreadyRecorded):
            async with units() as uow:
                await uow.exchanges.open(seen, 30, "p1")
    async with units() as uow:
        await uow.inbox.add(late, processed=False, owner="p1")  # not kept by the fenced turn
        await uow.commit()
    async with units() as uow:
        assert [m.message_id for m in await uow.inbox.unprocessed(None, "p1")] == ["w-3"]


async def test_a_process_sends_only_the_rows_it_still_owns(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    long_ago = now - timedelta(hours=1)
    async with units() as uow:
        ids = []
        for key, owner in ((KEY, "p1"), (KEY, "p1"), (KEY, "p1"), (OTHER, "p2")):
            state = await uow.conversations.find(key) or await uow.conversations.add(key, "en",
                                                                                      None)
            entry = await uow.transcript.add_reply(state.id, Outbound(key=key, text="hi"), now)
            ids.append(await uow.outbox.add(entry, key, {}, now, owner))
        await uow.commit()
    async with units() as uow:
        await uow.outbox.mark_sent([ids[1]], now)
        await uow.outbox.mark_failed(ids[2], "refused")
        await uow.commit()
    async with units() as uow:
        # another's (taken over), sent, given up, and one that never was: not this process's
        assert await uow.outbox.sendable_many(
            [(outbox_id, outbox_id) for outbox_id in [*ids, ids[3] + 1]], "p1", long_ago,
        ) == {ids[0]: SendCheck.SEND, ids[1]: SendCheck.NOT_MINE, ids[2]: SendCheck.NOT_MINE,
              ids[3]: SendCheck.NOT_MINE, ids[3] + 1: SendCheck.NOT_MINE}
        assert await uow.outbox.sendable_many([(ids[3], ids[3])], "p2",
                                              long_ago) == {ids[3]: SendCheck.SEND}
        assert await uow.outbox.sendable_many([], "p1", long_ago) == {}


async def test_a_reply_waits_for_every_earlier_unsent_reply_of_its_conversation(
    units: UnitOfWorkFactory,
) -> None:
    now = utcnow()
    long_ago = now - timedelta(hours=1)

    async def reply(key: ConversationKey, owner: str, at: datetime = now) -> int:
        async with units() as uow:
            state = await uow.conversations.find(key) or await uow.conversations.add(key, "en",
                                                                                      None)
            entry = await uow.transcript.add_reply(state.id, Outbound(key=key, text="hi"), at)
            outbox_id = await uow.outbox.add(entry, key, {}, at, owner)
            await uow.commit()
        return outbox_id

    async def check(outbox_id: int, owner: str, delivered_from: int | None = None,
                    since: datetime = long_ago) -> SendCheck:
        async with units() as uow:
            checks = await uow.outbox.sendable_many([(outbox_id, delivered_from or outbox_id)],
                                                    owner, since)
        assert list(checks) == [outbox_id]
        return checks[outbox_id]

    first = await reply(KEY, "a")
    unrelated = await reply(OTHER, "c")  # another chat's unsent reply holds nothing back
    second = await reply(KEY, "b")
    third = await reply(KEY, "b")
    assert await check(first, "a") is SendCheck.SEND
    assert await check(unrelated, "c") is SendCheck.SEND
    assert await check(second, "b") is SendCheck.WAIT  # the other process's first is unsent
    async with units() as uow:
        await uow.outbox.mark_sent([first], now)
        await uow.commit()
    assert await check(second, "b") is SendCheck.SEND
    # b's own second, delivered and not marked yet, holds back its third only if b says so
    assert await check(third, "b") is SendCheck.WAIT
    assert await check(third, "b", delivered_from=second) is SendCheck.SEND
    # given up (a dead letter): it holds back nothing
    async with units() as uow:
        await uow.outbox.mark_failed(second, "blocked")
        await uow.commit()
    assert await check(third, "b") is SendCheck.SEND
    # older than the hold limit: it holds back nothing either
    stale = await reply(KEY, "a", at=now - timedelta(minutes=5))
    fourth = await reply(KEY, "b")
    async with units() as uow:
        await uow.outbox.mark_sent([third], now)
        await uow.commit()
    assert await check(fourth, "b") is SendCheck.WAIT  # the stale one, within this limit
    assert await check(fourth, "b", since=now - timedelta(minutes=1)) is SendCheck.SEND
    assert await check(stale, "a") is SendCheck.SEND


async def test_the_checks_of_many_replies_are_answered_by_one_read_as_each_alone(
    units: UnitOfWorkFactory,
) -> None:
    """Replies of 70 chats, two processes (dialog/send_checks.py asks for them together):
    every row is answered as its own check would be, past the rows one statement holds."""
    now = utcnow()
    long_ago = now - timedelta(hours=1)
    rows: list[int] = []  # in the order of the ids
    async with units() as uow:
        for n in range(70):
            key = ConversationKey("telegram", f"many-{n}")
            state = await uow.conversations.add(key, "en", None)
            for owner in ("a", "b", "a") if n % 3 else ("b", "b"):
                entry = await uow.transcript.add_reply(state.id, Outbound(key=key, text="hi"),
                                                       now)
                rows.append(await uow.outbox.add(entry, key, {}, now, owner))
        await uow.commit()
    async with units() as uow:  # every ninth reply already left
        await uow.outbox.mark_sent(rows[::9], now)
        await uow.commit()
    expected: dict[int, SendCheck] = {}
    for outbox_id in rows:
        async with units() as uow:
            alone = await uow.outbox.sendable_many([(outbox_id, outbox_id)], "a", long_ago)
        expected[outbox_id] = alone[outbox_id]
    assert set(expected.values()) == set(SendCheck)  # each answer is among them
    async with units() as uow:
        together = await uow.outbox.sendable_many(
            [(outbox_id, outbox_id) for outbox_id in reversed(rows)], "a", long_ago)
    assert len(rows) > 128 and together == expected


async def test_events_answer_the_newest_rating_offer_once(units: UnitOfWorkFactory) -> None:
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        other = await uow.conversations.add(ConversationKey("slack", "D1"), "en", None)
        assert await uow.events.latest_rating_offer(state.id) is None
        await uow.events.add(state.id, [PendingEvent(events.RATING_OFFERED)], utcnow())
        await uow.events.add(state.id, [PendingEvent(events.RATING, value=5)], utcnow())
        await uow.events.add(other.id, [PendingEvent(events.RATING_OFFERED)], utcnow())
        await uow.commit()
    async with units() as uow:
        first = await uow.events.latest_rating_offer(state.id)
        assert first is not None and first.rated and first.handoff_id is None
        offered = await uow.events.latest_rating_offer(other.id)
        assert offered is not None and not offered.rated  # the other chat's rating is not its
        await uow.events.add(state.id, [PendingEvent(events.RATING_OFFERED),
                                        PendingEvent(events.STATUS_ANSWERED, "A-1")], utcnow())
        newest = await uow.events.latest_rating_offer(state.id)
    assert newest is not None and newest.id > first.id and not newest.rated


async def test_an_unknown_event_kind_is_refused(units: UnitOfWorkFactory) -> None:
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        with pytest.raises(ValueError, match="unknown event kind"):
            await uow.events.add(state.id, [PendingEvent("status_answerd")], utcnow())


async def test_an_operators_label_is_kept_replaced_and_removed(units: UnitOfWorkFactory) -> None:
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        other = await uow.conversations.add(ConversationKey("slack", "D2"), "en", None)
        asked = await uow.transcript.add_inbound(
            state.id, Inbound(key=KEY, text="  my parcel never came "), utcnow(), None, "human")
        reply = await uow.transcript.add_reply(state.id, Outbound(key=KEY, text="Sorry!"), utcnow())
        assert asked is not None
        first = await label_message(uow.labels, state.id, asked, "order_status", 7)
        with pytest.raises(UnknownMessage, match="no message"):  # the bot's, not the customer's
            await label_message(uow.labels, state.id, reply, "order_status", 7)
        with pytest.raises(UnknownMessage, match="no message"):  # not shown in that chat
            await label_message(uow.labels, other.id, asked, "order_status", 7)
        with pytest.raises(UnknownMessage, match="no conversation"):
            await label_message(uow.labels, 987654, asked, "order_status", 7)
        await uow.commit()
    assert (first.text, first.guessed, first.operator_id) == ("my parcel never came", "human", 7)
    async with units() as uow:
        again = await label_message(uow.labels, state.id, asked, "return_order", None)
        await uow.commit()
    async with units() as uow:
        assert [(label.message_id, label.intent) for label in await uow.labels.every()] == [
            (asked, "return_order")]
        assert await uow.labels.latest(5) == [again]
        assert await uow.labels.of_messages([asked, reply]) == {asked: again}
        assert await remove_label(uow.labels, state.id, asked)
        assert not await remove_label(uow.labels, state.id, asked)
        await uow.commit()
    async with units() as uow:
        assert await uow.labels.every() == []


async def test_old_transcript_lines_go_with_their_labels(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        old = await uow.transcript.add_inbound(
            state.id, Inbound(key=KEY, text="refund please"), now - timedelta(days=40), None, None)
        new = await uow.transcript.add_inbound(
            state.id, Inbound(key=KEY, text="money back"), now - timedelta(days=2), None, None)
        assert old is not None and new is not None
        for message in (old, new):
            await label_message(uow.labels, state.id, message, "return_order", None)
        await uow.commit()
    async with units() as uow:
        assert await uow.erasures.delete_transcripts_before(now - timedelta(days=30)) == 1
        await uow.commit()
    async with units() as uow:
        _language, history = await uow.transcript.history(KEY, 200)
        labels = await uow.labels.every()
        assert await uow.erasures.erase(987654) is None  # no such customer
        assert await uow.erasures.customer_with_email("nobody@example.com") is None
    assert [entry.text for entry in history] == ["money back"]
    assert [label.message_id for label in labels] == [new]


async def test_the_demo_history_is_seeded_into_finished_conversations(
    units: UnitOfWorkFactory,
) -> None:
    now = utcnow()
    plan = HistoryPlan(random.Random(3), now)
    for hours in range(30, 0, -1):
        plan.conversation(now - timedelta(hours=hours))
    async with units() as uow:
        records = (InMemoryDemoHistory(uow) if uow.session is None
                   else SqlDemoHistory(uow.session))
        ids = await records.add(plan)
        made = await seed_history(records, now)
        await uow.commit()
    assert len(ids) == 30 and made > 30
    offered = {index for index, _handoff, row in plan.events
               if row["kind"] == events.RATING_OFFERED}
    assert offered, "the plan offers some ratings"
    async with units() as uow:
        for index, conversation_id in enumerate(ids):
            said = await uow.transcript.last_from_bot(conversation_id)
            assert said is not None and said.text in demo_history.BOT_SAYS.values()
            offer = await uow.events.latest_rating_offer(conversation_id)
            assert (offer is not None) == (index in offered)


async def _customer(uow: UnitOfWork, name: str, email: str) -> int:
    """A customer of the order core (the fake keeps only what the queue shows of one)."""
    if uow.session is None:
        tables = cast(InMemoryUnitOfWork, uow).tables
        customer_id = len(tables.customers) + 1
        tables.customers[customer_id], tables.customer_names[customer_id] = email, name
        return customer_id
    row = Customer(name=name, email=email)
    uow.session.add(row)
    await uow.session.flush()
    return row.id


async def test_a_handoff_is_claimed_replied_to_requeued_and_ended(
    units: UnitOfWorkFactory,
) -> None:
    now = utcnow()
    anna = OperatorRef("console:1", "Anna")
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        assert await uow.handoffs.current(state.id) is None
        first = await uow.handoffs.open(state.id, "asked", now, "status")
        await uow.handoffs.assign(state.id, anna, now + timedelta(minutes=1))
        await uow.commit()
    async with units() as uow:
        held = await uow.handoffs.current(state.id)
        assert held is not None and (held.id, held.operator, held.quiet_since) == (
            first, anna, now + timedelta(minutes=1))
        await uow.handoffs.replied(state.id, now + timedelta(minutes=2))
        await uow.handoffs.replied(state.id, now + timedelta(minutes=3))
        replied = await uow.handoffs.current(state.id)
        assert replied is not None and replied.quiet_since == now + timedelta(minutes=3)
        await uow.handoffs.requeue(first)
        requeued = await uow.handoffs.current(state.id)
        assert requeued is not None and (requeued.operator, requeued.claimed_at) == (None, None)
        await uow.handoffs.assign(state.id, anna, now + timedelta(minutes=4))
        await uow.handoffs.end(state.id, "resolved", now + timedelta(minutes=9))
        assert await uow.handoffs.current(state.id) is None
        await uow.commit()
    async with units() as uow:  # the finished handoff is what the wait estimate measures
        assert await uow.queue.recent_handling(5) == [
            (now + timedelta(minutes=4), now + timedelta(minutes=9))]
        assert await uow.queue.operators_at_work(now) == 1
        assert await uow.queue.operators_at_work(now + timedelta(minutes=10)) == 0


async def test_the_queue_shows_waiting_and_held_conversations(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    anna = OperatorRef("console:1", "Anna")
    keys = [ConversationKey("telegram", f"chat-{n}") for n in range(3)]
    async with units() as uow:
        customer = await _customer(uow, "Jan Kowalski", "jan@example.com")
        ids = []
        for n, key in enumerate(keys):
            state = await uow.conversations.add(key, "pl", customer if n == 0 else None)
            ids.append(state.id)
            await uow.conversations.escalate_if_bot(key, "asked", now)
            await uow.handoffs.open(state.id, "asked", now + timedelta(minutes=2 - n), None)
            await uow.transcript.add_inbound(state.id, Inbound(key=key, text=f"help {n}"),
                                             now, None, None)
            await uow.transcript.add_reply(state.id, Outbound(key=key, text=f"wait {n}"), now)
        await uow.commit()
    async with units() as uow:
        assert await uow.queue.key(ids[1]) == keys[1]
        assert await uow.queue.key(987654) is None and await uow.queue.item(987654) is None
        waiting = await uow.queue.items("escalated", 200)
        assert [i.conversation_id for i in waiting] == ids[::-1]  # the longest waiting first
        assert await uow.queue.waiting_ahead(ids[0], now) == 2
        assert await uow.queue.take(ids[0], now) is True
        assert await uow.queue.take(ids[0], now) is False  # one of two operators wins
        await uow.handoffs.assign(ids[0], anna, now)
        await uow.commit()
    async with units() as uow:
        held = await uow.queue.items("claimed", 200)
        assert [i.conversation_id for i in held] == [ids[0]]
        item = held[0]
        assert (item.status, item.reason, item.operator, item.language) == (
            "claimed", "asked", anna, "pl")
        assert (item.customer_name, item.customer_email) == ("Jan Kowalski", "jan@example.com")
        assert item.last_message is not None and item.last_message.text == "wait 0"
        # the preview is the customer's own words, not the bot's answer
        assert item.customer_said is not None and item.customer_said.text == "help 0"
        assert item.to_json()["customer_message"]["text"] == "help 0"
        assert len(await uow.queue.items("all", 2)) == 2


async def test_an_operator_sees_every_line_said_with_the_customer(
    units: UnitOfWorkFactory,
) -> None:
    now = utcnow()
    email = ConversationKey("email", "jan@example.com")
    async with units() as uow:
        customer = await _customer(uow, "Jan", "jan@example.com")
        chat = await uow.conversations.add(KEY, "en", customer)
        mail = await uow.conversations.add(email, "en", customer)
        stranger = await uow.conversations.add(ConversationKey("webchat", "w1"), "en", None)
        await uow.transcript.add_inbound(chat.id, Inbound(key=KEY, text="hi"), now, None, None)
        await uow.transcript.add_reply(mail.id, Outbound(key=email, text="by mail", buttons=(
            Button("Yes", "yes"),)), now + timedelta(seconds=1))
        await uow.transcript.add_reply(stranger.id, Outbound(key=KEY, text="not his"), now)
        await uow.commit()
    async with units() as uow:
        lines = await uow.queue.lines(chat.id, 1000)
        last = await uow.queue.lines(chat.id, 1)
        alone = await uow.queue.lines(stranger.id, 1000)
    assert [(line.channel, line.sender, line.text) for line in lines] == [
        ("telegram", "customer", "hi"), ("email", "bot", "by mail")]
    assert lines[1].buttons == (Button("Yes", "yes"),)
    assert [line.text for line in last] == ["by mail"]
    assert [line.text for line in alone] == ["not his"]


async def test_idle_operators_conversations_are_found(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    anna = OperatorRef("console:1", "Anna")
    quiet, answered = KEY, ConversationKey("telegram", "chat-2")
    async with units() as uow:
        ids = {}
        for key in (quiet, answered):
            state = await uow.conversations.add(key, "en", None)
            ids[key] = state.id
            await uow.handoffs.open(state.id, "asked", now, None)
            await uow.queue.take(state.id, now)
            await uow.handoffs.assign(state.id, anna, now)
        # the operator answered the second customer, who has not written since
        await uow.handoffs.replied(ids[answered], now + timedelta(minutes=1))
        await uow.commit()
    async with units() as uow:
        assert await uow.queue.idle(now) == []  # nobody silent that long yet
        assert await uow.queue.idle(now + timedelta(minutes=20)) == [(ids[quiet], quiet)]


async def test_operators_notes_are_kept_per_conversation(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        other = await uow.conversations.add(ConversationKey("slack", "D1"), "en", None)
        first = await uow.notes.add(state.id, "Anna", "Called twice.", now)
        await uow.notes.add(state.id, "Boris", "Refund promised.", now)
        await uow.notes.add(other.id, "Anna", "Another one.", now)
        await uow.commit()
    async with units() as uow:
        notes = await uow.notes.of_conversation(state.id)
    assert [(n.author, n.text) for n in notes] == [("Anna", "Called twice."),
                                                  ("Boris", "Refund promised.")]
    assert notes[0].id == first.id and notes[0].conversation_id == state.id


async def _order(uow: UnitOfWork, number: str, customer_id: int) -> None:
    """An order of the order core (the fake keeps only whose it is)."""
    if uow.session is None:
        cast(InMemoryUnitOfWork, uow).tables.order_customers[number] = customer_id
        return
    uow.session.add(Order(number=number, customer_id=customer_id, status="confirmed",
                                currency="EUR", pay_token=f"pay-{number}"))
    await uow.session.flush()


async def test_conversations_are_tagged_and_the_queue_shows_the_tags(
    units: UnitOfWorkFactory,
) -> None:
    now = utcnow()
    async with units() as uow:
        state = await uow.conversations.add(KEY, "en", None)
        other = await uow.conversations.add(ConversationKey("slack", "D1"), "en", None)
        assert await uow.tags.add(state.id, "vip", now) is True
        assert await uow.tags.add(state.id, "vip", now) is False  # once a conversation
        assert await uow.tags.add(state.id, "damaged-item", now) is True
        assert await uow.tags.add(other.id, "vip", now) is True
        await uow.commit()
    async with units() as uow:
        assert await uow.tags.of_conversation(state.id) == ["damaged-item", "vip"]
        assert await uow.tags.remove(other.id, "vip") is True
        assert await uow.tags.remove(other.id, "vip") is False
        item = await uow.queue.item(state.id)
        assert item is not None and item.tags == ("damaged-item", "vip")
        await uow.commit()
    async with units() as uow:
        assert await uow.tags.of_conversation(other.id) == []


async def test_the_queue_is_filtered_by_view_channel_language_and_tag(
    units: UnitOfWorkFactory,
) -> None:
    now = utcnow()
    anna, boris = OperatorRef("console:1", "Anna"), OperatorRef("console:2", "Boris")
    ids: dict[str, int] = {}
    async with units() as uow:
        for n, (name, channel, language) in enumerate([
            ("waiting", "telegram", "pl"), ("annas", "webchat", "en"),
            ("boris", "webchat", "ru"), ("closed", "email", "en"), ("bot", "webchat", "en"),
        ]):
            key = ConversationKey(channel, f"c-{name}")
            state = await uow.conversations.add(key, language, None)
            ids[name] = state.id
            if name != "bot":
                await uow.conversations.escalate_if_bot(key, "asked", now)
                await uow.handoffs.open(state.id, "asked", now, None)
            if name in ("annas", "boris", "closed"):
                await uow.queue.take(state.id, now)
                await uow.handoffs.assign(state.id, boris if name == "boris" else anna, now)
            found = await uow.conversations.find(key)
            assert found is not None
            if name == "closed":
                found.status = "bot"
                await uow.handoffs.end(state.id, "resolved", now)
            await uow.conversations.save(found, now + timedelta(minutes=n))  # newest last
        await uow.tags.add(ids["boris"], "vip", now)
        await uow.tags.add(ids["closed"], "vip", now)
        await uow.commit()

    async def chosen(**given: object) -> list[int]:
        async with units() as uow:
            found = await uow.queue.browse(QueueFilter(operator_key=anna.key,
                                                       **given))  # type: ignore[arg-type]
        return [item.conversation_id for item in found]

    assert await chosen(view="open") == [ids["boris"], ids["annas"], ids["waiting"]]
    assert await chosen(view="mine") == [ids["annas"]]
    assert await chosen(view="unassigned") == [ids["waiting"]]
    assert await chosen(view="closed") == [ids["closed"]]  # not the one never with a person
    assert len(await chosen(view="all")) == 5
    assert await chosen(view="all", channel="webchat", language="en") == [
        ids["bot"], ids["annas"]]
    assert await chosen(view="all", tag="vip") == [ids["closed"], ids["boris"]]
    # a page: limit + 1 rows tell the caller there are more
    assert await chosen(view="all", offset=1, limit=2) == [
        ids["closed"], ids["boris"], ids["annas"]]


async def test_search_finds_customers_orders_and_words_said(units: UnitOfWorkFactory) -> None:
    now = utcnow()
    async with units() as uow:
        jan = await _customer(uow, "Jan Kowalski", "jan@example.com")
        eva = await _customer(uow, "Eva Green", "eva@example.org")
        await _order(uow, "A-2041", eva)
        by_jan = await uow.conversations.add(KEY, "pl", jan)
        by_eva = await uow.conversations.add(ConversationKey("email", "eva"), "en", eva)
        anonymous = await uow.conversations.add(ConversationKey("webchat", "w1"), "en", None)
        await uow.transcript.add_inbound(anonymous.id, Inbound(
            key=anonymous.key, text="The parcel arrived DAMAGED, 100% broken"), now, None, None)
        await uow.transcript.add_inbound(by_jan.id, Inbound(key=KEY, text="hello"), now,
                                         None, None)
        for n, state in enumerate((by_jan, by_eva, anonymous)):
            await uow.conversations.save(state, now + timedelta(minutes=n))
        await uow.commit()
    async with units() as uow:
        by_name = await uow.queue.search("kowalski", 0, 10)
        by_email = await uow.queue.search("EXAMPLE.ORG", 0, 10)
        by_number = await uow.queue.search("a-2041", 0, 10)
        by_words = await uow.queue.search("damaged", 0, 10)
        literal = await uow.queue.search("100%", 0, 10)
        wildcard = await uow.queue.search("_", 0, 10)
        every = await uow.queue.search("e", 0, 1)
    assert [(f.item.conversation_id, f.matched) for f in by_name] == [(by_jan.id, ("customer",))]
    assert [f.item.conversation_id for f in by_email] == [by_eva.id]
    assert [(f.item.conversation_id, f.matched) for f in by_number] == [(by_eva.id, ("order",))]
    assert [(f.item.conversation_id, f.matched) for f in by_words] == [
        (anonymous.id, ("message",))]
    assert by_words[0].snippet is not None and "DAMAGED" in by_words[0].snippet.text
    assert [f.item.conversation_id for f in literal] == [anonymous.id]
    assert wildcard == []  # "_" and "%" are the customer's characters, not LIKE's
    assert [f.item.conversation_id for f in every] == [anonymous.id, by_eva.id]  # limit + 1


async def test_an_attachment_joins_only_a_message_of_its_own_conversation(
    units: UnitOfWorkFactory,
) -> None:
    """Uploaded under a conversation's key, a file joins the message that carries it there;
    another conversation's message naming its id joins nothing; the transcript, the inbox
    and the operators' lines show what each message carried."""
    now = utcnow()
    other_key = ConversationKey("webchat", "someone-else")

    def stored(attachment_id: str, key: ConversationKey) -> StoredAttachment:
        return StoredAttachment(
            ref=AttachmentRef(attachment_id, "parcel.jpg", "image/jpeg", 1234),
            channel=key.channel, chat_id=key.chat_id, conversation_id=None, transcript_id=None,
            sha256="0" * 64, stored_path=f"ab/{attachment_id}.jpg", created_at=now)

    async with units() as uow:
        await uow.attachments.add(stored("photo-of-mine-1", KEY))
        await uow.attachments.add(stored("photo-of-theirs", other_key))
        state = await uow.conversations.add(KEY, "en", None)
        other = await uow.conversations.add(other_key, "en", None)
        message = Inbound(key=KEY, text="", message_id="p-1",
                          attachments=("photo-of-mine-1", "photo-of-theirs"))
        await uow.inbox.add(message, processed=False, owner="p1")
        entry = await uow.transcript.add_inbound(state.id, message, now, None, None)
        assert entry is not None
        joined = await uow.attachments.join(KEY, state.id, entry, message.attachments)
        theirs = await uow.transcript.add_inbound(
            other.id, Inbound(key=other_key, text="mine?"), now, None, None)
        assert theirs is not None
        stolen = await uow.attachments.join(other_key, other.id, theirs, ["photo-of-mine-1"])
        await uow.commit()
    async with units() as uow:
        _language, history = await uow.transcript.history(KEY, 200)
        lines = await uow.queue.lines(state.id, 100)
        found = await uow.attachments.find("photo-of-mine-1")
        pending = await uow.inbox.unprocessed(None, "p1")
        assert await uow.attachments.find("no-such-one") is None
    assert [ref.id for ref in joined] == ["photo-of-mine-1"] and stolen == []
    assert [ref.name for ref in history[0].attachments] == ["parcel.jpg"]
    assert [ref.id for ref in lines[0].attachments] == ["photo-of-mine-1"]
    assert lines[0].to_json()["attachments"][0]["type"] == "image/jpeg"
    assert found is not None and found.transcript_id == entry and found.conversation_id == state.id
    assert pending[0].attachments == ("photo-of-mine-1", "photo-of-theirs")
    async with units() as uow:  # the daily sweep: uploads no message took go, a day on
        assert await uow.attachments.forget_unjoined(now - timedelta(minutes=1)) == 0
        assert await uow.attachments.forget_unjoined(now + timedelta(days=1)) == 1
        paths = await uow.attachments.stored_paths()
        await uow.commit()
    assert paths == {"ab/photo-of-mine-1.jpg"}
