"""What a turn records, and when: the conversation's state, the transcript and the outbox.

Policy only: the statements are the repositories' (dialog/unit_of_work.py, SQL in
storage/repositories/). The state is loaded only after the conversation's lock is held, and a turn's
state, transcript entries and outbox rows are written in the caller's one transaction.

Every method takes the repositories of the transaction it works in (a unit of work).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from dialog.attachment_values import AttachmentRef
from dialog.events import PendingEvent
from dialog.messages import Button, ConversationKey, Delivery, Inbound, Outbound
from dialog.state import ConversationState, HistoryEntry, RecordedTurn, offered_buttons
from dialog.unit_of_work import AlreadyRecorded, Repositories
from orders.changes import CONVERSATION_ESCALATED
from storage.clock import utcnow


class ConversationStore:
    """What the dialog writes of conversations; every method works in the caller's
    transaction."""

    def __init__(self, owner: str | None = None) -> None:
        # Told (after the commit) of each conversation that went to the operators' queue.
        self.on_escalated: Callable[[int], Awaitable[None]] | None = None
        self.owner = owner  # this process's name, on the outbox rows it writes (takeover.py)

    async def load(
        self,
        uow: Repositories,
        key: ConversationKey,
        language: str = "en",
        customer_id: int | None = None,
        fence: int | None = None,
    ) -> ConversationState:
        """The conversation's state; a new conversation if it has none yet. `fence`: the
        token of the lock held for the turn (raises unit_of_work.Fenced if it is stale)."""
        found = await uow.conversations.find(key, fence)
        return await _or_new(uow, key, found, language, customer_id, fence)

    async def load_answering(
        self,
        uow: Repositories,
        inbound: Inbound,
        language: str = "en",
        customer_id: int | None = None,
        fence: int | None = None,
    ) -> ConversationState | None:
        """Record a message in the inbox as processed, inside the turn that answers it (a
        channel that answers at once, like the web chat: no second transaction), and load its
        conversation's state as load does; None if its platform id was recorded before, and
        the caller must then roll the turn back."""
        try:
            found = await uow.exchanges.open(inbound, fence, self.owner)
        except AlreadyRecorded:
            return None
        return await _or_new(uow, inbound.key, found, language, customer_id, fence)

    async def record_turn(
        self,
        uow: Repositories,
        state: ConversationState,
        inbound: Inbound | None,
        replies: list[Outbound],
        *,
        flow: str | None = None,
        intent: str | None = None,
        events: list[PendingEvent] | None = None,
        recorded_in_inbox: bool = False,
        watch: Sequence[str] = (),
    ) -> RecordedTurn | None:
        """Write the state, the customer's message and the replies (with their outbox rows),
        the events the turn noted, and the watches of the orders it proved (`watch`, see
        watch); flow and intent annotate the customer's message (and flow a handoff the turn
        opened).

        Returns None when the inbound's platform message id was recorded before (a duplicate):
        the caller must then roll back and answer nothing.
        """
        now = utcnow()
        if (inbound is not None and replies and not inbound.attachments
                and (recorded_in_inbox or inbound.message_id is None)
                and not (state.status == "escalated" and state.loaded_status == "bot")):
            # The usual turn: no duplicate to catch, nothing to join, no handoff to open; the
            # message, its replies and their outbox rows, and the state in one go.
            return await self._record_exchange(uow, state, inbound, replies, now, flow, intent,
                                               events or [], watch)
        if watch:
            await self.watch(uow, state.id, list(watch))
        inbound_id = None
        reply_ids: list[int] | None = None
        joined: list[AttachmentRef] = []
        if inbound is not None:
            if replies and (recorded_in_inbox or inbound.message_id is None):
                # No duplicate to catch here: the message and its replies in one statement.
                inbound_id, *reply_ids = await uow.transcript.add_exchange(
                    state.id, inbound, replies, now, flow, intent)
            else:
                inbound_id = await uow.transcript.add_inbound(
                    state.id, inbound, now, flow, intent, recorded_in_inbox=recorded_in_inbox)
            if inbound_id is None:
                return None
            if inbound.attachments:
                joined = await uow.attachments.join(
                    state.key, state.id, inbound_id, inbound.attachments)
        if replies:
            state.offered = offered_buttons(replies)
        await self.save(uow, state, now, flow=flow)
        deliveries = await self.add_replies(uow, state.id, replies, now, state.context,
                                            language=state.language, transcript_ids=reply_ids)
        if events:
            await uow.events.add(state.id, events, now)
        return RecordedTurn(inbound_id, now, deliveries, tuple(joined))

    async def _record_exchange(
        self, uow: Repositories, state: ConversationState, inbound: Inbound,
        replies: list[Outbound], now: datetime, flow: str | None, intent: str | None,
        events: list[PendingEvent], watch: Sequence[str],
    ) -> RecordedTurn:
        state.offered = offered_buttons(replies)
        state.loaded_status = state.status
        recorded = await uow.exchanges.record(state, inbound, replies, now, flow, intent,
                                              self.owner, events, watch)
        inbound_id, *reply_ids = recorded.entries
        at = now.isoformat()
        deliveries = [
            Delivery(outbox_id, transcript_id, reply, at, dict(state.context), state.language,
                     False, recorded.first_in_line)
            for outbox_id, transcript_id, reply in zip(recorded.outbox, reply_ids, replies,
                                                       strict=True)
        ]
        return RecordedTurn(inbound_id, now, deliveries, ())

    async def save(
        self, uow: Repositories, state: ConversationState, now: datetime | None = None,
        *, flow: str | None = None,
    ) -> None:
        """Write the state; moving it from "bot" to "escalated" opens a handoff (`flow`: the
        flow that handed it over)."""
        now = now or utcnow()
        if state.status == "escalated" and state.loaded_status == "bot":
            await self._escalated(uow, state.id, state.escalation_reason or "unknown",
                                  now, flow)
        state.loaded_status = state.status
        await uow.conversations.save(state, now)

    async def add_replies(
        self,
        uow: Repositories,
        conversation_id: int,
        replies: list[Outbound],
        now: datetime | None = None,
        context: dict[str, Any] | None = None,
        *,
        language: str = "en",
        opening: bool = False,
        transcript_ids: list[int] | None = None,
    ) -> list[Delivery]:
        """Record messages to the customer (and their outbox rows) in the caller's transaction.

        The caller keeps the state's offered buttons (see offered_buttons) and saves it.
        `language` and `opening` (the first reply begins the conversation) travel with each
        delivery: what its sender needs besides the reply. `transcript_ids`: the replies'
        transcript entries, if the caller wrote them already (Transcript.add_exchange).
        """
        now = now or utcnow()
        context = context or {}
        deliveries: list[Delivery] = []
        for n, reply in enumerate(replies):
            transcript_id = (transcript_ids[n] if transcript_ids is not None
                             else await uow.transcript.add_reply(conversation_id, reply, now))
            outbox_id = await uow.outbox.add(
                transcript_id, reply.key, context, now, self.owner)
            deliveries.append(
                Delivery(outbox_id, transcript_id, reply, now.isoformat(), dict(context),
                         language, opening and not deliveries)
            )
        return deliveries

    async def latest_for_customer(
        self, uow: Repositories, customer_id: int, channel: str | None = None
    ) -> ConversationState | None:
        """The customer's most recently active conversation, on `channel` or on any."""
        key = await uow.conversations.latest_key_for_customer(customer_id, channel)
        return None if key is None else await self.load(uow, key)

    async def watch(self, uow: Repositories, conversation_id: int, numbers: list[str]) -> None:
        """Remember that these orders were proven in this conversation (under its lock, so
        no other turn inserts the same pair meanwhile)."""
        await uow.conversations.watch(conversation_id, numbers)

    async def watchers(
        self, uow: Repositories, number: str, besides: int | None = None
    ) -> list[ConversationState]:
        """The conversations watching the order (besides conversation `besides`) that proved
        it at the strong level or belong to its customer: they get a copy of its news. (A
        chat that proved it by email/postcode only watches it for an erasure: no copy.)"""
        found = []
        for key, customer_id in await uow.conversations.watching(number):
            state = await self.load(uow, key)
            if state.id != besides and (
                number in state.strong_orders or state.customer_id == customer_id
            ):
                found.append(state)
        return found

    async def history(
        self, uow: Repositories, key: ConversationKey, limit: int = 200
    ) -> tuple[str, list[HistoryEntry]]:
        """The conversation's language and its last `limit` transcript entries, oldest first."""
        return await uow.transcript.history(key, limit)

    async def last_from_bot(
        self, uow: Repositories, conversation_id: int
    ) -> HistoryEntry | None:
        """The bot's latest message in the conversation."""
        return await uow.transcript.last_from_bot(conversation_id)

    async def last_buttons(self, uow: Repositories, key: ConversationKey) -> list[Button]:
        """The buttons of the bot's (or operator's) latest message in the conversation."""
        return await uow.transcript.last_buttons(key)

    async def escalate(self, uow: Repositories, key: ConversationKey, reason: str) -> None:
        """Queue a conversation for an operator unless it is queued or held already."""
        now = utcnow()
        conversation_id = await uow.conversations.escalate_if_bot(key, reason, now)
        if conversation_id is not None:
            await self._escalated(uow, conversation_id, reason, now)

    async def _escalated(
        self, uow: Repositories, conversation_id: int, reason: str, now: datetime,
        flow: str | None = None,
    ) -> None:
        await uow.handoffs.open(conversation_id, reason, now, flow)
        await uow.shop.record_change(CONVERSATION_ESCALATED, {
            "conversation": {"id": conversation_id, "reason": reason, "flow": flow}})
        listener = self.on_escalated
        if listener is not None:
            uow.after_commit(lambda: listener(conversation_id))

    async def mark_sent(self, uow: Repositories, outbox_ids: list[int]) -> None:
        await uow.outbox.mark_sent(outbox_ids, utcnow())

    async def mark_failed(self, uow: Repositories, outbox_id: int, reason: str) -> None:
        await uow.outbox.mark_failed(outbox_id, reason)

    async def unsent(
        self, uow: Repositories, ids: list[int] | None = None
    ) -> list[Delivery]:
        """Replies of this process (or the rows `ids`) not sent yet, oldest first."""
        return await uow.outbox.unsent(ids, self.owner)


async def _or_new(
    uow: Repositories, key: ConversationKey, found: ConversationState | None, language: str,
    customer_id: int | None, fence: int | None,
) -> ConversationState:
    """The state found, or a new conversation's."""
    if found is not None:
        return found
    state = await uow.conversations.add(key, language, customer_id, fence)
    state.fresh = True
    return state
