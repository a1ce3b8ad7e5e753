"""The operators' desk: the queue of conversations waiting for a person, and what an operator
does with one - claim it, write to the customer, hand it back to the bot, or resolve it.

The console (console/) and the Slack operators channel (channels/slack/) both work through
this one desk, so they always see the same state. Every change runs under the conversation's
lock (the same one a customer turn takes) in one transaction; a claim is a conditional UPDATE,
so of two operators - on any process - exactly one wins. After each commit the change is
published on pub/sub topic "desk" for every process's console sockets and Slack bridge:

    {"type": "conversation", "conversation": {...QueueItem.to_json()}}
    {"type": "message", "conversation_id": N, "message": {...TranscriptLine.to_json()}}
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordination.base import Locks, PubSub, Subscription
from dialog.desk_values import (
    AlreadyTaken,
    DeskError,
    Listener,
    Note,
    NotFound,
    NotHeld,
    OperatorRef,
    QueueItem,
    TranscriptLine,
)
from dialog.events import RATING_OFFERED, PendingEvent
from dialog.flows.rating import rating_buttons, with_question
from dialog.handoffs import current_handoff, end_handoff, open_handoff
from dialog.messages import Button, ConversationKey, Delivery, Outbound
from dialog.outbox import OutboxSender
from dialog.state import ConversationState, offered_buttons
from dialog.store import ConversationStore
from dialog.tables import Conversation, Handoff, OperatorNote, TranscriptEntry
from dialog.texts import Texts
from dialog.waits import QueueWaits
from orders.changes import CONVERSATION_RESOLVED
from orders.tables import Customer
from storage.clock import utcnow
from storage.database import Database, after_commit

log = logging.getLogger(__name__)

TOPIC = "desk"
RESUME_CONTINUE = "resume:continue"  # the manager's payloads for "continue where we were"
RESUME_DROP = "resume:drop"
ALL_LIMIT = 200
MAX_NOTE_CHARS = 4000
SWEEP_SECONDS = 30  # how often idle operators' conversations are looked for


class OperatorDesk:
    def __init__(
        self, *, database: Database, store: ConversationStore, outbox: OutboxSender,
        texts: Texts, locks: Locks, pubsub: PubSub, waits: QueueWaits,
        idle_minutes: int, clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._database = database
        self._store = store
        self._outbox = outbox
        self._texts = texts
        self._locks = locks
        self._pubsub = pubsub
        self._waits = waits
        self._idle = timedelta(minutes=idle_minutes)
        self._clock = clock
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def waits(self) -> QueueWaits:
        return self._waits

    # Reading

    async def queue(self, state: str = "escalated") -> list[QueueItem]:
        """escalated: waiting, oldest first; claimed: held by operators; all: recent ones."""
        async with self._database.transaction() as session:
            query = _items_query()
            if state == "escalated":
                query = query.where(Conversation.status == "escalated").order_by(
                    Handoff.escalated_at, Conversation.id)
            elif state == "claimed":
                query = query.where(Conversation.status == "claimed").order_by(
                    Handoff.claimed_at, Conversation.id)
            else:
                query = query.order_by(Conversation.updated_at.desc(),
                                       Conversation.id.desc()).limit(ALL_LIMIT)
            return await _items(session, query)

    async def get(self, conversation_id: int) -> QueueItem:
        async with self._database.transaction() as session:
            return await self._item(session, conversation_id)

    async def transcript(self, conversation_id: int, limit: int = 1000) -> list[TranscriptLine]:
        """Everything said with the customer on every channel (only this conversation if the
        customer is unknown), oldest first."""
        async with self._database.transaction() as session:
            item = await self._item(session, conversation_id)
            ids = select(Conversation.id).where(Conversation.customer_id == item.customer_id) \
                if item.customer_id else select(Conversation.id).where(
                    Conversation.id == conversation_id)
            rows = await session.execute(
                select(TranscriptEntry, Conversation.channel)
                .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
                .where(TranscriptEntry.conversation_id.in_(ids))
                .order_by(TranscriptEntry.at.desc(), TranscriptEntry.id.desc()).limit(limit)
            )
            return [_line(entry, channel) for entry, channel in reversed(rows.all())]

    async def notes(self, conversation_id: int) -> list[Note]:
        async with self._database.transaction() as session:
            await self._item(session, conversation_id)
            rows = await session.scalars(
                select(OperatorNote).where(OperatorNote.conversation_id == conversation_id)
                .order_by(OperatorNote.id)
            )
            return [_note(row) for row in rows]

    # Changing

    async def claim(self, conversation_id: int, operator: OperatorRef) -> QueueItem:
        """Take the conversation (the bot falls silent); AlreadyTaken if another holds it."""
        key = await self._key(conversation_id)
        async with self._locks.hold(str(key)):
            async with self._database.transaction() as session:
                now = self._clock()
                taken = await session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id,
                           Conversation.status.in_(("bot", "escalated")))
                    .values(status="claimed", updated_at=now)
                )
                handoff = await current_handoff(session, conversation_id)
                if not getattr(taken, "rowcount", 0):
                    if handoff is not None and handoff.operator_key == operator.key:
                        return await self._item(session, conversation_id)  # already yours
                    raise AlreadyTaken(_holder(handoff))
                if handoff is None:  # an operator joins a conversation that was with the bot
                    await open_handoff(session, conversation_id, "operator_joined", now)
                await session.execute(
                    update(Handoff)
                    .where(Handoff.conversation_id == conversation_id,
                           Handoff.ended_at.is_(None))
                    .values(claimed_at=now, operator_key=operator.key,
                            operator_name=operator.name)
                )
                item = await self._item(session, conversation_id)
                self._announce(session, item)
                return item

    async def say(self, conversation_id: int, operator: OperatorRef, text: str) -> TranscriptLine:
        """The operator's message to the customer, on the customer's channel."""
        key = await self._key(conversation_id)
        async with self._locks.hold(str(key)):
            async with self._database.transaction() as session:
                now = self._clock()
                await self._held_by(session, conversation_id, operator)
                state = await self._store.load(session, key)
                reply = Outbound(key=key, text=text, sender="operator", author=operator.name)
                deliveries = await self._store.add_replies(
                    session, state.id, [reply], now, state.context,
                    language=state.language)
                state.offered = []  # the bot's old buttons are not the question any more
                await self._store.save(session, state, now)
                await session.execute(
                    update(Handoff)
                    .where(Handoff.conversation_id == conversation_id,
                           Handoff.ended_at.is_(None))
                    .values(first_reply_at=func.coalesce(Handoff.first_reply_at, now),
                            last_reply_at=now)
                )
                self._tell(session, state, deliveries)  # sent, and shown to the operators
                return _delivered_line(deliveries[0], state.id)

    async def hand_back(
        self, conversation_id: int, operator: OperatorRef, *, force: bool = False
    ) -> QueueItem:
        """Back to the bot, which offers to continue what the customer was doing."""
        return await self._finish(conversation_id, operator, "handed_back", force)

    async def resolve(
        self, conversation_id: int, operator: OperatorRef, *, force: bool = False
    ) -> QueueItem:
        """The customer's matter is settled: back to the bot, with nothing left to resume."""
        return await self._finish(conversation_id, operator, "resolved", force)

    async def add_note(self, conversation_id: int, operator: OperatorRef, text: str) -> Note:
        text = text.strip()
        if not text:
            raise DeskError("a note needs some text")
        if len(text) > MAX_NOTE_CHARS:
            raise DeskError(f"a note is at most {MAX_NOTE_CHARS} characters")
        async with self._database.transaction() as session:
            await self._item(session, conversation_id)
            row = OperatorNote(conversation_id=conversation_id, author=operator.name, text=text,
                               at=self._clock())
            session.add(row)
            await session.flush()
            return _note(row)

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="desk-idle-operators")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.requeue_idle()
            except Exception:  # the next sweep tries again
                log.exception("re-queueing idle conversations failed")

    async def requeue_idle(self, now: datetime | None = None) -> int:
        """Conversations whose operator has been silent too long while the customer waits go
        back to the queue, and the customer is told. The number re-queued."""
        now = now or self._clock()
        since = now - self._idle
        async with self._database.transaction() as session:
            last_customer = (
                select(func.max(TranscriptEntry.at))
                .where(TranscriptEntry.conversation_id == Handoff.conversation_id,
                       TranscriptEntry.sender == "customer")
                .scalar_subquery()
            )
            quiet_since = func.coalesce(Handoff.last_reply_at, Handoff.claimed_at)
            rows = await session.execute(
                select(Conversation.id, Conversation.channel, Conversation.chat_id)
                .join(Handoff, and_(Handoff.conversation_id == Conversation.id,
                                    Handoff.ended_at.is_(None)))
                .where(Conversation.status == "claimed", quiet_since < since,
                       or_(Handoff.last_reply_at.is_(None), last_customer > quiet_since))
            )
            idle = rows.all()
        count = 0
        for conversation_id, channel, chat_id in idle:
            key = ConversationKey(channel, chat_id)
            async with self._locks.hold(str(key)), self._database.transaction() as session:
                handoff = await current_handoff(session, conversation_id)
                if handoff is None or handoff.claimed_at is None or (
                    handoff.last_reply_at or handoff.claimed_at) >= since:
                    continue  # the operator wrote meanwhile
                state = await self._store.load(session, key)
                if state.status != "claimed":
                    continue
                state.status = "escalated"
                name = handoff.operator_name or ""
                await session.execute(
                    update(Handoff).where(Handoff.id == handoff.id).values(
                        claimed_at=None, operator_key=None, operator_name=None,
                        requeued=Handoff.requeued + 1)
                )
                text = self._texts.get(state.language, "operator_idle", name=name)
                self._tell(session, state, await self._store.add_replies(
                    session, state.id, [Outbound(key=key, text=text)], now, state.context,
                    language=state.language))
                state.offered = []
                await self._store.save(session, state, now)
                self._announce(session, await self._item(session, conversation_id))
                count += 1
        return count

    # Events

    async def subscribe(self, listener: Listener) -> Subscription:
        async def decode(data: str) -> None:
            await listener(json.loads(data))

        return await self._pubsub.subscribe(TOPIC, decode)

    async def publish(self, event: dict[str, Any]) -> None:
        """An event of another part of the console (an operator task) to every console."""
        await self._publish(event)

    async def announce(self, conversation_id: int) -> None:
        """Publish the conversation's current state (after an escalation elsewhere)."""
        item = await self.get(conversation_id)
        await self._publish({"type": "conversation", "conversation": item.to_json()})

    async def publish_lines(self, lines: list[TranscriptLine]) -> None:
        for line in lines:
            await self._publish({"type": "message", "conversation_id": line.conversation_id,
                                 "message": line.to_json()})

    # Internals

    async def _finish(
        self, conversation_id: int, operator: OperatorRef, outcome: str, force: bool
    ) -> QueueItem:
        key = await self._key(conversation_id)
        async with self._locks.hold(str(key)):
            async with self._database.transaction() as session:
                now = self._clock()
                state = await self._store.load(session, key)
                if state.status == "bot":
                    raise DeskError("the conversation is with the bot already")
                if not force:
                    await self._held_by(session, conversation_id, operator)
                state.status, state.escalation_reason = "bot", None
                state.misunderstandings = 0
                handoff = await current_handoff(session, conversation_id)
                await end_handoff(session, conversation_id, outcome, now)
                await self._store.changes.record(session, CONVERSATION_RESOLVED, data={
                    "conversation": {"id": conversation_id, "outcome": outcome}})
                over = outcome == "resolved" or not state.suspended  # nothing to go back to
                replies = self._closing(state, operator, outcome)
                deliveries = await self._store.add_replies(
                    session, state.id, replies, now, state.context,
                    language=state.language)
                if over:  # the closing message asks for a rating of this handoff
                    await self._store.repositories(session).events.add(state.id, [PendingEvent(
                        RATING_OFFERED, handoff_id=handoff.id if handoff else None)], now)
                state.offered = offered_buttons(replies)
                await self._store.save(session, state, now)
                self._tell(session, state, deliveries)
                item = await self._item(session, conversation_id)
                self._announce(session, item)
                return item

    def _closing(self, state: ConversationState, operator: OperatorRef, outcome: str,
                 ) -> list[Outbound]:
        """What the bot says when the operator leaves: a hand-back offers the interrupted flow;
        otherwise the conversation is over, and the customer is asked to rate it."""
        language, suspended = state.language, state.suspended
        if outcome == "handed_back" and suspended:
            name = f"resume_what_{suspended['flow']}"
            what = self._texts.get(
                language, name if name in self._texts.keys(language) else "resume_what_other")
            suspended["offered"] = True
            buttons = (
                Button(self._texts.get(language, "resume_button_continue", what=what),
                       RESUME_CONTINUE),
                Button(self._texts.get(language, "resume_button_drop"), RESUME_DROP),
            )
            text = self._texts.get(language, "handback_resume", name=operator.name, what=what)
            return [Outbound(key=state.key, text=text, buttons=buttons)]
        state.suspended = None
        state.flow, state.step, state.slots = None, None, {}
        key = "handback" if outcome == "handed_back" else "resolved"
        text = with_question(self._texts, language,
                             self._texts.get(language, key, name=operator.name))
        return [Outbound(key=state.key, text=text,
                         buttons=rating_buttons(self._texts, language))]

    def _tell(
        self, session: AsyncSession, state: ConversationState, deliveries: list[Delivery]
    ) -> None:
        """Send after the commit, and show the message to the operators too."""
        self._send(session, deliveries)
        after_commit(session, lambda: self.publish_lines(
            [_delivered_line(d, state.id) for d in deliveries]))

    def _send(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        after_commit(session, lambda: self._outbox.enqueue(deliveries))

    def _announce(self, session: AsyncSession, item: QueueItem) -> None:
        after_commit(session, lambda: self._publish(
            {"type": "conversation", "conversation": item.to_json(self._clock())}))

    async def _publish(self, event: dict[str, Any]) -> None:
        try:
            await self._pubsub.publish(TOPIC, json.dumps(event))
        except Exception:  # the change is committed; consoles catch up on their next load
            log.warning("could not publish a desk event", exc_info=True)

    async def _key(self, conversation_id: int) -> ConversationKey:
        async with self._database.transaction() as session:
            found = (await session.execute(
                select(Conversation.channel, Conversation.chat_id)
                .where(Conversation.id == conversation_id)
            )).first()
        if found is None:
            raise NotFound(f"no conversation {conversation_id}")
        return ConversationKey(found.channel, found.chat_id)

    async def _item(self, session: AsyncSession, conversation_id: int) -> QueueItem:
        items = await _items(session, _items_query().where(Conversation.id == conversation_id))
        if not items:
            raise NotFound(f"no conversation {conversation_id}")
        return items[0]

    async def _held_by(
        self, session: AsyncSession, conversation_id: int, operator: OperatorRef
    ) -> None:
        status = await session.scalar(
            select(Conversation.status).where(Conversation.id == conversation_id))
        handoff = await current_handoff(session, conversation_id)
        if status != "claimed" or handoff is None or handoff.operator_key != operator.key:
            if status == "claimed" and handoff is not None and handoff.operator_key:
                raise NotHeld(f"held by {handoff.operator_name}, not by you")
            raise NotHeld("claim the conversation first")


# A queue item's row: the conversation, its customer's name and email, its open handoff (outer
# joins: any of them may be missing).
_ItemRow = Select[Conversation, str | None, str | None, Handoff | None]


def _items_query() -> _ItemRow:
    return (
        select(Conversation, Customer.name, Customer.email, Handoff)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(Handoff, and_(Handoff.conversation_id == Conversation.id,
                                 Handoff.ended_at.is_(None)))
    )


async def _items(session: AsyncSession, query: _ItemRow) -> list[QueueItem]:
    rows = (await session.execute(query)).all()
    ids = [row[0].id for row in rows]
    last: dict[int, TranscriptLine] = {}
    if ids:
        newest = (
            select(func.max(TranscriptEntry.id)).where(TranscriptEntry.conversation_id.in_(ids))
            .group_by(TranscriptEntry.conversation_id)
        )
        entries = await session.execute(
            select(TranscriptEntry, Conversation.channel)
            .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
            .where(TranscriptEntry.id.in_(newest))
        )
        last = {entry.conversation_id: _line(entry, channel) for entry, channel in entries}
    return [
        QueueItem(
            conversation_id=conversation.id,
            channel=conversation.channel,
            language=conversation.language,
            status=conversation.status,
            reason=handoff.reason if handoff else conversation.escalation_reason,
            customer_id=conversation.customer_id,
            customer_name=name,
            customer_email=email,
            handoff_id=handoff.id if handoff else None,
            escalated_at=handoff.escalated_at if handoff else None,
            claimed_at=handoff.claimed_at if handoff else None,
            operator=OperatorRef(handoff.operator_key, handoff.operator_name or "")
            if handoff and handoff.operator_key else None,
            last_message=last.get(conversation.id),
            proven_orders=tuple((conversation.state or {}).get("verified_orders") or ()),
        )
        for conversation, name, email, handoff in rows
    ]


def _holder(handoff: Handoff | None) -> OperatorRef:
    if handoff is None or handoff.operator_key is None:
        return OperatorRef("", "another operator")
    return OperatorRef(handoff.operator_key, handoff.operator_name or "another operator")


def _line(entry: TranscriptEntry, channel: str) -> TranscriptLine:
    return TranscriptLine(
        id=entry.id, conversation_id=entry.conversation_id, channel=channel,
        sender=entry.sender, author=entry.author, text=entry.text, at=entry.at,
        buttons=tuple(Button(b["title"], b["payload"]) for b in entry.buttons or ()),
    )


def _delivered_line(delivery: Delivery, conversation_id: int) -> TranscriptLine:
    outbound = delivery.outbound
    return TranscriptLine(
        id=delivery.message_id, conversation_id=conversation_id,
        channel=outbound.key.channel, sender=outbound.sender, author=outbound.author,
        text=outbound.text, at=datetime.fromisoformat(delivery.at), buttons=outbound.buttons,
    )


def _note(row: OperatorNote) -> Note:
    return Note(row.id, row.conversation_id, row.author, row.text, row.at)
