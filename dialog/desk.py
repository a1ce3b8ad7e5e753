"""The operators' desk: the queue of conversations waiting for a person, and what an operator
does with one - claim it, write to the customer, hand it back to the bot, or resolve it.

The console (console/) and the Slack operators channel (channels/slack/) both work through
this one desk, so they always see the same state. Every change runs under the conversation's
lock (the same one a customer turn takes) in one transaction; a claim is a conditional UPDATE,
so of two operators - on any process - exactly one wins. After each commit the change is
published on pub/sub topic "desk" for every process's console sockets and Slack bridge:

    {"type": "conversation", "conversation": {...QueueItem.to_json()}}
    {"type": "message", "conversation_id": N, "message": {...TranscriptLine.to_json()}}
    {"type": "note", "conversation_id": N, "note": {...Note.to_json()}}
    {"type": "typing", "conversation_id": N}   (the customer is typing; nothing is stored)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from coordination.base import Locks, PubSub, Subscription
from dialog.desk_values import (
    VIEWS,
    AlreadyTaken,
    DeskError,
    Found,
    Listener,
    Note,
    NotFound,
    NotHeld,
    OperatorRef,
    QueueFilter,
    QueueItem,
    TranscriptLine,
)
from dialog.events import RATING_OFFERED, PendingEvent
from dialog.flows.rating import rating_buttons, with_question
from dialog.messages import Button, ConversationKey, Delivery, Outbound
from dialog.outbox import OutboxSender
from dialog.state import ConversationState, offered_buttons
from dialog.store import ConversationStore
from dialog.tags import MAX_TAGS, normalise_tag
from dialog.texts import Texts
from dialog.unit_of_work import Repositories, UnitOfWork, UnitOfWorkFactory
from dialog.waits import QueueWaits
from orders.changes import CONVERSATION_RESOLVED
from storage.clock import utcnow

log = logging.getLogger(__name__)

TOPIC = "desk"
# An operator typing to a customer: published on "typing:<conversation key>" (e.g.
# "typing:webchat:3f2a…") as {"author"}; a channel that shows it (the web chat) listens there.
TYPING_TOPIC = "typing:{key}"
# An operator has taken the conversation: {"event": "joined", "name"} on "presence:<key>".
# (Their leaving is said by the bot's closing message, whose Outbound.rich says "left".)
PRESENCE_TOPIC = "presence:{key}"
RESUME_CONTINUE = "resume:continue"  # the manager's payloads for "continue where we were"
RESUME_DROP = "resume:drop"
ALL_LIMIT = 200
PAGE_LIMIT = 100  # conversations in one page of a filter or a search
MIN_SEARCH_CHARS = 2
MAX_SEARCH_CHARS = 100
MAX_NOTE_CHARS = 4000
SWEEP_SECONDS = 30  # how often idle operators' conversations are looked for


class OperatorDesk:
    def __init__(
        self, *, units: UnitOfWorkFactory, store: ConversationStore, outbox: OutboxSender,
        texts: Texts, locks: Locks, pubsub: PubSub, waits: QueueWaits,
        idle_minutes: int, clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._units = units
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
        async with self._units() as uow:
            return await uow.queue.items(state, ALL_LIMIT)

    async def browse(self, chosen: QueueFilter) -> tuple[list[QueueItem], bool]:
        """A page of the conversations the filter chooses, most recently active first, and
        whether there are more."""
        if chosen.view not in VIEWS:
            raise DeskError(f"view must be one of {', '.join(VIEWS)}")
        if chosen.tag is not None:
            chosen = replace(chosen, tag=normalise_tag(chosen.tag))
        limit = min(max(chosen.limit, 1), PAGE_LIMIT)
        async with self._units() as uow:
            items = await uow.queue.browse(replace(chosen, limit=limit,
                                                   offset=max(chosen.offset, 0)))
        return items[:limit], len(items) > limit

    async def search(self, text: str, offset: int = 0, limit: int = 20,
                     ) -> tuple[list[Found], bool]:
        """Conversations whose customer, order number or messages contain the text, most
        recently active first, and whether there are more."""
        text = " ".join(text.split())
        if not MIN_SEARCH_CHARS <= len(text) <= MAX_SEARCH_CHARS:
            raise DeskError(f"search for {MIN_SEARCH_CHARS} to {MAX_SEARCH_CHARS} characters")
        limit = min(max(limit, 1), PAGE_LIMIT)
        async with self._units() as uow:
            found = await uow.queue.search(text, max(offset, 0), limit)
        return found[:limit], len(found) > limit

    async def get(self, conversation_id: int) -> QueueItem:
        async with self._units() as uow:
            return await _item(uow, conversation_id)

    async def transcript(self, conversation_id: int, limit: int = 1000) -> list[TranscriptLine]:
        """Everything said with the customer on every channel (only this conversation if the
        customer is unknown), oldest first."""
        async with self._units() as uow:
            await _exists(uow, conversation_id)
            return await uow.queue.lines(conversation_id, limit)

    async def notes(self, conversation_id: int) -> list[Note]:
        async with self._units() as uow:
            await _exists(uow, conversation_id)
            return await uow.notes.of_conversation(conversation_id)

    # Changing

    async def claim(self, conversation_id: int, operator: OperatorRef) -> QueueItem:
        """Take the conversation (the bot falls silent); AlreadyTaken if another holds it."""
        key = await self._key(conversation_id)
        async with self._holding(key) as uow:
            now = self._clock()
            taken = await uow.queue.take(conversation_id, now)
            handoff = await uow.handoffs.current(conversation_id)
            if not taken:
                holder = handoff.operator if handoff else None
                if holder is not None and holder.key == operator.key:
                    return await _item(uow, conversation_id)  # already yours
                raise AlreadyTaken(OperatorRef(holder.key, holder.name or "another operator")
                                   if holder else OperatorRef("", "another operator"))
            if handoff is None:  # an operator joins a conversation that was with the bot
                await uow.handoffs.open(conversation_id, "operator_joined", now, None)
            await uow.handoffs.assign(conversation_id, operator, now)
            # Live only (nothing in the transcript, no message on email or Slack): a channel
            # that shows presence (the web chat) says who has joined.
            uow.after_commit(lambda: self._pubsub.publish(
                PRESENCE_TOPIC.format(key=key),
                json.dumps({"event": "joined", "name": operator.name})))
            item = await _item(uow, conversation_id)
            self._announce(uow, item)
            await uow.commit()
            return item

    async def say(self, conversation_id: int, operator: OperatorRef, text: str) -> TranscriptLine:
        """The operator's message to the customer, on the customer's channel."""
        key = await self._key(conversation_id)
        async with self._holding(key) as uow:
            now = self._clock()
            state = await self._store.load(uow, key)
            await _held_by(uow, state, operator)
            reply = Outbound(key=key, text=text, sender="operator", author=operator.name)
            deliveries = await self._store.add_replies(
                uow, state.id, [reply], now, state.context, language=state.language)
            state.offered = []  # the bot's old buttons are not the question any more
            await self._store.save(uow, state, now)
            await uow.handoffs.replied(conversation_id, now)
            self._tell(uow, state, deliveries)  # sent, and shown to the operators
            await uow.commit()
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

    async def typing(self, conversation_id: int, operator: OperatorRef) -> None:
        """The operator who holds the conversation is typing: the customer's channel is told
        (nothing is stored; the console sends it every few seconds while they type)."""
        key = await self._key(conversation_id)
        async with self._units() as uow:
            await _held_by(uow, await self._store.load(uow, key), operator)
        await self._pubsub.publish(TYPING_TOPIC.format(key=key),
                                   json.dumps({"author": operator.name}))

    async def add_note(self, conversation_id: int, operator: OperatorRef, text: str) -> Note:
        text = text.strip()
        if not text:
            raise DeskError("a note needs some text")
        if len(text) > MAX_NOTE_CHARS:
            raise DeskError(f"a note is at most {MAX_NOTE_CHARS} characters")
        async with self._units() as uow:
            await _exists(uow, conversation_id)
            note = await uow.notes.add(conversation_id, operator.name, text, self._clock())
            await uow.commit()
            return note

    async def tag(self, conversation_id: int, text: str) -> QueueItem:
        """Add an operator's tag (normalised; at most MAX_TAGS a conversation); adding one it
        has already changes nothing."""
        tag = normalise_tag(text)
        return await self._retag(conversation_id, tag, add=True)

    async def untag(self, conversation_id: int, text: str) -> QueueItem:
        return await self._retag(conversation_id, normalise_tag(text), add=False)

    async def transfer(self, conversation_id: int, operator: OperatorRef, to: OperatorRef,
                       *, force: bool = False) -> QueueItem:
        """Give a held conversation to a colleague: it is theirs from now on (the customer is
        told nothing; the next message simply comes from them), and a note says who gave it
        to whom."""
        if to.key == operator.key:
            raise DeskError("the conversation is yours already")
        key = await self._key(conversation_id)
        async with self._holding(key) as uow:
            now = self._clock()
            state = await self._store.load(uow, key)
            handoff = await uow.handoffs.current(conversation_id)
            if not force:
                await _held_by(uow, state, operator)
            elif state.status != "claimed" or handoff is None:
                raise NotHeld("nobody holds the conversation: claim it first")
            giver = handoff.operator.name if handoff and handoff.operator else operator.name
            await uow.handoffs.reassign(conversation_id, to)
            # A note, as notes are what operators keep for each other (the console names it in
            # the operator's language from the live "conversation" event).
            note = await uow.notes.add(conversation_id, operator.name,
                                       f"Transferred from {giver} to {to.name}", now)
            item = await _item(uow, conversation_id)
            self._announce(uow, item)
            uow.after_commit(lambda: self._publish(
                {"type": "note", "conversation_id": conversation_id, "note": note.to_json()}))
            await uow.commit()
            return item

    async def customer_typing(self, key: ConversationKey) -> None:
        """The customer is typing (the web chat's "typing" frame): the consoles are told while
        a person has the conversation. Nothing is stored; a missing conversation is ignored."""
        async with self._units() as uow:
            state = await uow.conversations.find(key)
        if state is not None and state.status in ("escalated", "claimed"):
            await self._publish({"type": "typing", "conversation_id": state.id})

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
        async with self._units() as uow:
            idle = await uow.queue.idle(since)
        count = 0
        for conversation_id, key in idle:
            async with self._holding(key) as uow:
                handoff = await uow.handoffs.current(conversation_id)
                if handoff is None or handoff.claimed_at is None or (
                        handoff.quiet_since or handoff.claimed_at) >= since:
                    continue  # the operator wrote meanwhile
                state = await self._store.load(uow, key)
                if state.status != "claimed":
                    continue
                state.status = "escalated"
                name = handoff.operator.name if handoff.operator else ""
                await uow.handoffs.requeue(handoff.id)
                text = self._texts.get(state.language, "operator_idle", name=name)
                self._tell(uow, state, await self._store.add_replies(
                    uow, state.id, [Outbound(key=key, text=text, rich=_left(handoff.operator))],
                    now, state.context,
                    language=state.language))
                state.offered = []
                await self._store.save(uow, state, now)
                self._announce(uow, await _item(uow, conversation_id))
                await uow.commit()
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

    async def _retag(self, conversation_id: int, tag: str, *, add: bool) -> QueueItem:
        key = await self._key(conversation_id)
        async with self._holding(key) as uow:
            tags = await uow.tags.of_conversation(conversation_id)
            if add and tag not in tags and len(tags) >= MAX_TAGS:
                raise DeskError(f"a conversation has at most {MAX_TAGS} tags")
            changed = await (uow.tags.add(conversation_id, tag, self._clock()) if add
                             else uow.tags.remove(conversation_id, tag))
            item = await _item(uow, conversation_id)
            if changed:
                self._announce(uow, item)
            await uow.commit()
            return item

    async def _finish(
        self, conversation_id: int, operator: OperatorRef, outcome: str, force: bool
    ) -> QueueItem:
        key = await self._key(conversation_id)
        async with self._holding(key) as uow:
            now = self._clock()
            state = await self._store.load(uow, key)
            if state.status == "bot":
                raise DeskError("the conversation is with the bot already")
            if not force:
                await _held_by(uow, state, operator)
            state.status, state.escalation_reason = "bot", None
            state.misunderstandings = 0
            handoff = await uow.handoffs.current(conversation_id)
            await uow.handoffs.end(conversation_id, outcome, now)
            await uow.shop.record_change(CONVERSATION_RESOLVED, {
                "conversation": {"id": conversation_id, "outcome": outcome}})
            over = outcome == "resolved" or not state.suspended  # nothing to go back to
            replies = self._closing(state, operator, outcome)
            deliveries = await self._store.add_replies(
                uow, state.id, replies, now, state.context, language=state.language)
            if over:  # the closing message asks for a rating of this handoff
                await uow.events.add(state.id, [PendingEvent(
                    RATING_OFFERED, handoff_id=handoff.id if handoff else None)], now)
            state.offered = offered_buttons(replies)
            await self._store.save(uow, state, now)
            self._tell(uow, state, deliveries)
            item = await _item(uow, conversation_id)
            self._announce(uow, item)
            await uow.commit()
            return item

    def _closing(self, state: ConversationState, operator: OperatorRef, outcome: str,
                 ) -> list[Outbound]:
        """What the bot says when the operator leaves: a hand-back offers the interrupted flow;
        otherwise the conversation is over, and the customer is asked to rate it."""
        language, suspended = state.language, state.suspended
        if outcome == "handed_back" and suspended:
            name = f"resume_what_{suspended['flow']}"
            what = self._texts.get(
                language, name if self._texts.has(language, name) else "resume_what_other")
            suspended["offered"] = True
            buttons = (
                Button(self._texts.get(language, "resume_button_continue", what=what),
                       RESUME_CONTINUE),
                Button(self._texts.get(language, "resume_button_drop"), RESUME_DROP),
            )
            text = self._texts.get(language, "handback_resume", name=operator.name, what=what)
            return [Outbound(key=state.key, text=text, buttons=buttons, rich=_left(operator))]
        state.suspended = None
        state.flow, state.step, state.slots = None, None, {}
        key = "handback" if outcome == "handed_back" else "resolved"
        text = with_question(self._texts, language,
                             self._texts.get(language, key, name=operator.name))
        return [Outbound(key=state.key, text=text,
                         buttons=rating_buttons(self._texts, language), rich=_left(operator))]

    def _tell(
        self, uow: Repositories, state: ConversationState, deliveries: list[Delivery]
    ) -> None:
        """Send after the commit, and show the message to the operators too."""
        uow.after_commit(lambda: self._outbox.enqueue(deliveries))
        uow.after_commit(lambda: self.publish_lines(
            [_delivered_line(d, state.id) for d in deliveries]))

    def _announce(self, uow: Repositories, item: QueueItem) -> None:
        uow.after_commit(lambda: self._publish(
            {"type": "conversation", "conversation": item.to_json(self._clock())}))

    async def _publish(self, event: dict[str, Any]) -> None:
        try:
            await self._pubsub.publish(TOPIC, json.dumps(event))
        except Exception:  # the change is committed; consoles catch up on their next load
            log.warning("could not publish a desk event", exc_info=True)

    @asynccontextmanager
    async def _holding(self, key: ConversationKey) -> AsyncIterator[UnitOfWork]:
        """The conversation's lock and a unit of work in which to change it. Where several
        processes share the database the lock is the conversation's row (unit_of_work.ROW_LOCK),
        taken first, as a turn's load takes it: the change and the turns of every process
        wait for each other."""
        async with self._locks.hold(str(key)) as fence, self._units() as uow:
            if fence is not None:
                await uow.conversations.find(key, fence)
            yield uow

    async def _key(self, conversation_id: int) -> ConversationKey:
        async with self._units() as uow:
            key = await uow.queue.key(conversation_id)
        if key is None:
            raise NotFound(f"no conversation {conversation_id}")
        return key


async def _exists(uow: Repositories, conversation_id: int) -> None:
    """NotFound unless the conversation exists (one short read, not the queue item's)."""
    if await uow.queue.key(conversation_id) is None:
        raise NotFound(f"no conversation {conversation_id}")


async def _item(uow: Repositories, conversation_id: int) -> QueueItem:
    item = await uow.queue.item(conversation_id)
    if item is None:
        raise NotFound(f"no conversation {conversation_id}")
    return item


async def _held_by(uow: Repositories, state: ConversationState, operator: OperatorRef) -> None:
    handoff = await uow.handoffs.current(state.id)
    holder = handoff.operator if handoff else None
    if state.status != "claimed" or holder is None or holder.key != operator.key:
        if state.status == "claimed" and holder is not None:
            raise NotHeld(f"held by {holder.name}, not by you")
        raise NotHeld("claim the conversation first")


def _delivered_line(delivery: Delivery, conversation_id: int) -> TranscriptLine:
    outbound = delivery.outbound
    return TranscriptLine(
        id=delivery.message_id, conversation_id=conversation_id,
        channel=outbound.key.channel, sender=outbound.sender, author=outbound.author,
        text=outbound.text, at=datetime.fromisoformat(delivery.at), buttons=outbound.buttons,
    )


def _left(operator: OperatorRef | None) -> dict[str, Any]:
    """Outbound.rich of the message that says the operator has gone: the web chat's header
    shows the assistant again."""
    return {"operator": {"event": "left", "name": operator.name if operator else ""}}
