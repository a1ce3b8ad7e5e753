"""Conversation state, transcript and outbox: the durable half of a turn.

The state is loaded only after the conversation's lock is held, and a turn's state, transcript
entries and outbox rows are written in the caller's one transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Index,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dialog.events import PendingEvent, record_events
from dialog.handoffs import open_handoff
from dialog.messages import Button, ConversationKey, Delivery, Inbound, Outbound
from dialog.tables import (
    Conversation,
    ConversationToken,
    InboxRow,
    OrderWatcher,
    OutboxRow,
    TranscriptEntry,
)
from orders.changes import CONVERSATION_ESCALATED, NO_CHANGES, ChangeLog
from orders.tables import Order
from storage.clock import utcnow
from storage.database import after_commit
from storage.prepared import Prepared

Index("ix_transcript_at", TranscriptEntry.at)
_EARLIER = aliased(TranscriptEntry)  # a conversation's first entry, beside one of its own




Index("ix_outbox_unsent", OutboxRow.sent_at, OutboxRow.id)






async def claim_inbox(session: AsyncSession, inbox_id: int) -> bool:
    """Mark an inbox row processed inside the turn's transaction; False if it was already."""
    result = await session.execute(
        update(InboxRow)
        .where(InboxRow.id == inbox_id, InboxRow.processed_at.is_(None))
        .values(processed_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


async def record_answered_inbox(session: AsyncSession, inbound: Inbound) -> bool:
    """Record a message in the inbox as processed, inside the turn that answers it (a channel
    that answers at once, like the web chat: no second transaction); False if its platform id
    was recorded before. On False the caller must roll the turn back."""
    assert inbound.message_id is not None
    try:
        await session.execute(insert(InboxRow).values(
            channel=inbound.key.channel, chat_id=inbound.key.chat_id,
            platform_id=inbound.message_id, text=inbound.text, action=inbound.action,
            language=inbound.language, customer_id=inbound.customer_id, sender=inbound.sender,
            context=inbound.context, processed_at=utcnow(),
        ))
    except IntegrityError:
        return False
    return True


def _values(table: Any, *names: str) -> dict[str, Any]:
    """SET/VALUES of these columns from bind parameters named v_<column>."""
    return {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names}


# A turn's own statements (storage/prepared.py): compiled once, run by the driver directly.
_LOAD = Prepared(
    select(Conversation.id, Conversation.customer_id, Conversation.language,
           Conversation.status, Conversation.escalation_reason, Conversation.state)
    .where(Conversation.channel == bindparam("channel"),
           Conversation.chat_id == bindparam("chat_id"))
)
_SAVE = Prepared(
    update(Conversation).where(Conversation.id == bindparam("conversation_id")).values(
        _values(Conversation.__table__, "customer_id", "language", "status",
                "escalation_reason", "state", "updated_at"))
)
_ADD_ENTRY = Prepared(
    insert(TranscriptEntry).values(
        _values(TranscriptEntry.__table__, "conversation_id", "sender", "author", "text",
                "buttons", "action", "platform_message_id", "at", "flow", "intent"))
    .returning(TranscriptEntry.id)
)
_ADD_OUTBOX = Prepared(
    insert(OutboxRow).values(
        _values(OutboxRow.__table__, "transcript_id", "channel", "chat_id", "context",
                "attempts", "created_at", "owner"))
    .returning(OutboxRow.id)
)

_MARK_ONE_SENT = Prepared(
    update(OutboxRow).where(OutboxRow.id == bindparam("outbox_id"))
    .values(_values(OutboxRow.__table__, "sent_at"))
)
MARK_ONE_BY_ONE = 16  # up to this many rows, a prepared statement each is quicker
_MARK_SENT = (
    update(OutboxRow).where(OutboxRow.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("now", type_=OutboxRow.__table__.c.sent_at.type))
)


@dataclass
class ConversationState:
    """What the dialog remembers of one conversation between turns."""

    id: int
    key: ConversationKey
    customer_id: int | None
    language: str
    status: str
    escalation_reason: str | None = None
    flow: str | None = None
    step: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    verified_orders: list[str] = field(default_factory=list)
    # Orders proven at the strong level (docs/security.md): a verified identity, the chat link
    # sent to the customer, or a one-time code; these may be changed, not only looked at.
    strong_orders: list[str] = field(default_factory=list)
    # Failed proofs in this conversation: at MAX_PROOF_ATTEMPTS (dialog/flows/status.py) it
    # goes to a person and proves nothing more by number and email/postcode.
    proof_failures: int = 0
    misunderstandings: int = 0
    context: dict[str, Any] = field(default_factory=dict)  # the channel's reply context
    # The buttons of the latest message to the customer, [title, payload] each: a reply like
    # "2" or a button's words picks one without reading the transcript.
    offered: list[list[str]] = field(default_factory=list)
    # A flow the customer left for another question ({flow, step, slots, text, buttons,
    # offered}), offered back once the other question is answered.
    suspended: dict[str, Any] | None = None
    # What the latest message proposed ({intents, entities}; dialog/proposals.py): a
    # clarification's meanings or the message's other request, for the next message only.
    proposal: dict[str, Any] | None = None
    # The other request of a message with two ({intent, entities, flow}), offered once the
    # flow of the first is done, dropped when the customer moves on (dialog/manager.py).
    also: dict[str, Any] | None = None
    # When the customer's recent handoffs began (ISO times, the last hour's): a conversation
    # goes to the operators a few times an hour at most (dialog/flows/handoff.py).
    handoffs: list[str] = field(default_factory=list)
    loaded_status: str = "bot"  # the status when loaded: saving "escalated" over "bot" opens
    # a handoff (dialog/handoffs.py)
    fresh: bool = False  # created by this load: its first reply begins the conversation

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "slots": self.slots,
            "verified_orders": self.verified_orders,
            "strong_orders": self.strong_orders,
            "proof_failures": self.proof_failures,
            "misunderstandings": self.misunderstandings,
            "context": self.context,
            "offered": self.offered,
            "suspended": self.suspended,
            "proposal": self.proposal,
            "also": self.also,
            "handoffs": self.handoffs,
        }


@dataclass(frozen=True, slots=True)
class RecordedTurn:
    inbound_id: int | None  # the customer's transcript entry
    at: datetime
    deliveries: list[Delivery]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    sender: str
    text: str
    buttons: tuple[Button, ...]
    at: datetime
    author: str | None


class ConversationStore:
    """SQL persistence of conversations; every method works inside the caller's session."""

    def __init__(self, owner: str | None = None) -> None:
        # Told (after the commit) of each conversation that went to the operators' queue.
        self.on_escalated: Callable[[int], Awaitable[None]] | None = None
        self.owner = owner  # this process's name, on the outbox rows it writes (takeover.py)
        self.changes: ChangeLog = NO_CHANGES  # escalations told to the shop (bot.py wires it)

    async def load(
        self,
        session: AsyncSession,
        key: ConversationKey,
        language: str = "en",
        customer_id: int | None = None,
    ) -> ConversationState:
        found = await _LOAD.first(session, channel=key.channel, chat_id=key.chat_id)
        fresh = found is None
        if found is None:
            row = Conversation(
                channel=key.channel,
                chat_id=key.chat_id,
                customer_id=customer_id,
                language=language,
                status="bot",
                state={},
            )
            session.add(row)
            await session.flush()
            session.expunge(row)  # written by _SAVE from now on: no ORM copy to go stale
            found = (row.id, row.customer_id, row.language, row.status, row.escalation_reason,
                     row.state)
        conversation_id, customer, language, status, escalation_reason, data = found
        data = data or {}
        return ConversationState(
            id=conversation_id,
            key=key,
            customer_id=customer,
            language=language,
            status=status,
            escalation_reason=escalation_reason,
            flow=data.get("flow"),
            step=data.get("step"),
            slots=dict(data.get("slots") or {}),
            verified_orders=list(data.get("verified_orders") or []),
            strong_orders=list(data.get("strong_orders") or []),
            proof_failures=int(data.get("proof_failures") or 0),
            misunderstandings=int(data.get("misunderstandings") or 0),
            context=dict(data.get("context") or {}),
            offered=[list(button) for button in data.get("offered") or ()],
            suspended=data.get("suspended") or None,
            proposal=data.get("proposal") or None,
            also=data.get("also") or None,
            handoffs=[str(at) for at in data.get("handoffs") or ()],
            loaded_status=status,
            fresh=fresh,
        )

    async def record_turn(
        self,
        session: AsyncSession,
        state: ConversationState,
        inbound: Inbound | None,
        replies: list[Outbound],
        *,
        flow: str | None = None,
        intent: str | None = None,
        events: list[PendingEvent] | None = None,
    ) -> RecordedTurn | None:
        """Write the state, the customer's message and the replies (with their outbox rows),
        and the events the turn noted; flow and intent annotate the customer's message (and
        flow a handoff the turn opened).

        Returns None when the inbound's platform message id was recorded before (a duplicate):
        the caller must then roll back and answer nothing.
        """
        now = utcnow()
        inbound_id = None
        if inbound is not None:
            entry = {"v_conversation_id": state.id, "v_sender": "customer", "v_author": None,
                     "v_text": inbound.text, "v_buttons": [], "v_action": inbound.action,
                     "v_platform_message_id": inbound.message_id, "v_at": now,
                     "v_flow": flow, "v_intent": intent}
            if inbound.message_id is None:
                inbound_id = await _ADD_ENTRY.scalar(session, **entry)
            else:
                try:  # a savepoint, so that a duplicate leaves the transaction usable
                    async with session.begin_nested():
                        inbound_id = await _ADD_ENTRY.scalar(session, **entry)
                except IntegrityError:
                    return None
        if replies:
            state.offered = offered_buttons(replies)
        await self.save(session, state, now, flow=flow)
        deliveries = await self.add_replies(session, state.id, replies, now, state.context,
                                            language=state.language)
        await record_events(session, state.id, events or [], now)
        return RecordedTurn(inbound_id, now, deliveries)

    async def save(
        self, session: AsyncSession, state: ConversationState, now: datetime | None = None,
        *, flow: str | None = None,
    ) -> None:
        """Write the state; moving it from "bot" to "escalated" opens a handoff (`flow`: the
        flow that handed it over)."""
        now = now or utcnow()
        if state.status == "escalated" and state.loaded_status == "bot":
            await self._escalated(session, state.id, state.escalation_reason or "unknown", now,
                                  flow)
        state.loaded_status = state.status
        await _SAVE.execute(
            session, conversation_id=state.id, v_customer_id=state.customer_id,
            v_language=state.language, v_status=state.status,
            v_escalation_reason=state.escalation_reason, v_state=state.to_json(),
            v_updated_at=now,
        )

    async def add_replies(
        self,
        session: AsyncSession,
        conversation_id: int,
        replies: list[Outbound],
        now: datetime | None = None,
        context: dict[str, Any] | None = None,
        *,
        language: str = "en",
        opening: bool = False,
    ) -> list[Delivery]:
        """Record messages to the customer (and their outbox rows) in the caller's session.

        The caller keeps the state's offered buttons (see offered_buttons) and saves it.
        `language` and `opening` (the first reply begins the conversation) travel with each
        delivery: what its sender needs besides the reply.
        """
        now = now or utcnow()
        context = context or {}
        deliveries: list[Delivery] = []
        for reply in replies:
            transcript_id = await _ADD_ENTRY.scalar(
                session, v_conversation_id=conversation_id, v_sender=reply.sender,
                v_author=reply.author, v_text=reply.text,
                v_buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons],
                v_action=None, v_platform_message_id=None, v_at=now, v_flow=None, v_intent=None,
            )
            outbox_id = await _ADD_OUTBOX.scalar(
                session, v_transcript_id=transcript_id, v_channel=reply.key.channel,
                v_chat_id=reply.key.chat_id, v_context=context, v_attempts=0, v_created_at=now,
                v_owner=self.owner,
            )
            assert transcript_id is not None and outbox_id is not None
            deliveries.append(
                Delivery(outbox_id, transcript_id, reply, now.isoformat(), dict(context),
                         language, opening and not deliveries)
            )
        return deliveries

    async def latest_for_customer(
        self, session: AsyncSession, customer_id: int, channel: str | None = None
    ) -> ConversationState | None:
        """The customer's most recently active conversation, on `channel` or on any."""
        query = select(Conversation.channel, Conversation.chat_id).where(
            Conversation.customer_id == customer_id)
        if channel is not None:
            query = query.where(Conversation.channel == channel)
        row = (await session.execute(
            query.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(1)
        )).first()
        if row is None:
            return None
        return await self.load(session, ConversationKey(row.channel, row.chat_id))

    async def watch(self, session: AsyncSession, conversation_id: int, numbers: list[str]) -> None:
        """Remember that these orders were proven in this conversation (under its lock, so
        no other turn inserts the same pair meanwhile)."""
        watched = select(OrderWatcher.id).where(
            OrderWatcher.order_id == Order.id, OrderWatcher.conversation_id == conversation_id
        )
        await session.execute(
            insert(OrderWatcher).from_select(
                ["order_id", "conversation_id"],
                select(Order.id, literal(conversation_id))
                .where(Order.number.in_(numbers), ~watched.exists())
                .order_by(Order.id),
            )
        )

    async def watchers(
        self, session: AsyncSession, number: str, besides: int | None = None
    ) -> list[ConversationState]:
        """The conversations watching the order (besides conversation `besides`) that proved
        it at the strong level or belong to its customer: they get a copy of its news. (A
        chat that proved it by email/postcode only watches it for an erasure: no copy.)"""
        rows = (await session.execute(
            select(Conversation.channel, Conversation.chat_id, Order.customer_id)
            .join(OrderWatcher, OrderWatcher.conversation_id == Conversation.id)
            .join(Order, Order.id == OrderWatcher.order_id)
            .where(Order.number == number)
            .order_by(Conversation.id)
        )).all()
        found = []
        for channel, chat_id, customer_id in rows:
            state = await self.load(session, ConversationKey(channel, chat_id))
            if state.id != besides and (
                number in state.strong_orders or state.customer_id == customer_id
            ):
                found.append(state)
        return found

    async def history(
        self, session: AsyncSession, key: ConversationKey, limit: int = 200
    ) -> tuple[str, list[HistoryEntry]]:
        """The conversation's language and its last `limit` transcript entries, oldest first."""
        found = (await session.execute(
            select(Conversation.id, Conversation.language).where(
                Conversation.channel == key.channel, Conversation.chat_id == key.chat_id
            )
        )).first()
        if found is None:
            return "en", []
        conversation_id, language = found
        rows = await session.scalars(
            select(TranscriptEntry)
            .where(TranscriptEntry.conversation_id == conversation_id)
            .order_by(TranscriptEntry.id.desc())
            .limit(limit)
        )
        return language, [_history_entry(row) for row in reversed(list(rows))]

    async def last_from_bot(
        self, session: AsyncSession, conversation_id: int
    ) -> HistoryEntry | None:
        """The bot's latest message in the conversation."""
        row = await session.scalar(
            select(TranscriptEntry)
            .where(TranscriptEntry.conversation_id == conversation_id,
                   TranscriptEntry.sender == "bot")
            .order_by(TranscriptEntry.id.desc())
            .limit(1)
        )
        return _history_entry(row) if row is not None else None

    async def last_buttons(self, session: AsyncSession, key: ConversationKey) -> list[Button]:
        """The buttons of the bot's (or operator's) latest message in the conversation."""
        buttons = await session.scalar(
            select(TranscriptEntry.buttons)
            .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
            .where(
                Conversation.channel == key.channel,
                Conversation.chat_id == key.chat_id,
                TranscriptEntry.sender != "customer",
            )
            .order_by(TranscriptEntry.id.desc())
            .limit(1)
        )
        return [Button(b["title"], b["payload"]) for b in buttons or ()]

    async def escalate(self, session: AsyncSession, key: ConversationKey, reason: str) -> None:
        """Queue a conversation for an operator unless it is queued or held already."""
        now = utcnow()
        conversation_id = await session.scalar(
            update(Conversation)
            .where(
                Conversation.channel == key.channel,
                Conversation.chat_id == key.chat_id,
                Conversation.status == "bot",
            )
            .values(status="escalated", escalation_reason=reason, updated_at=now)
            .returning(Conversation.id)
        )
        if conversation_id is not None:
            await self._escalated(session, conversation_id, reason, now)

    async def _escalated(
        self, session: AsyncSession, conversation_id: int, reason: str, now: datetime,
        flow: str | None = None,
    ) -> None:
        await open_handoff(session, conversation_id, reason, now, flow)
        await self.changes.record(session, CONVERSATION_ESCALATED, data={"conversation": {
            "id": conversation_id, "reason": reason, "flow": flow}})
        listener = self.on_escalated
        if listener is not None:
            after_commit(session, lambda: listener(conversation_id))

    async def mark_sent(self, session: AsyncSession, outbox_ids: list[int]) -> None:
        now = utcnow()
        if len(outbox_ids) > MARK_ONE_BY_ONE:  # one statement; its IN list is compiled each time
            await session.execute(_MARK_SENT, {"ids": outbox_ids, "now": now})
            return
        for outbox_id in outbox_ids:
            await _MARK_ONE_SENT.execute(session, outbox_id=outbox_id, v_sent_at=now)

    async def mark_failed(self, session: AsyncSession, outbox_id: int, reason: str) -> None:
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id)
            .values(attempts=OutboxRow.attempts + 1, last_error=reason[:500])
        )

    async def unsent(
        self, session: AsyncSession, ids: list[int] | None = None
    ) -> list[Delivery]:
        """Replies of this process (or the rows `ids`) not sent yet, oldest first."""
        mine = OutboxRow.id.in_(ids) if ids is not None else OutboxRow.owner == self.owner
        first = (
            select(func.min(_EARLIER.id))
            .where(_EARLIER.conversation_id == TranscriptEntry.conversation_id)
            .scalar_subquery()
        )
        rows = await session.execute(
            select(OutboxRow, TranscriptEntry, Conversation.language, TranscriptEntry.id == first)
            .join(TranscriptEntry, TranscriptEntry.id == OutboxRow.transcript_id)
            .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
            .where(OutboxRow.sent_at.is_(None), OutboxRow.last_error.is_(None), mine)
            .order_by(OutboxRow.id)
        )
        return [
            Delivery(
                outbox.id,
                entry.id,
                Outbound(
                    key=ConversationKey(outbox.channel, outbox.chat_id),
                    text=entry.text,
                    buttons=tuple(Button(b["title"], b["payload"]) for b in entry.buttons or ()),
                    sender=entry.sender,
                    author=entry.author,
                ),
                entry.at.isoformat(),
                dict(outbox.context or {}),
                language,
                bool(opens),
            )
            for outbox, entry, language, opens in rows
        ]


def offered_buttons(replies: list[Outbound]) -> list[list[str]]:
    """The buttons of the last of these messages, as kept in the conversation state."""
    return [[button.title, button.payload] for button in replies[-1].buttons]


def _history_entry(row: TranscriptEntry) -> HistoryEntry:
    return HistoryEntry(
        id=row.id,
        sender=row.sender,
        text=row.text,
        buttons=tuple(Button(b["title"], b["payload"]) for b in row.buttons or ()),
        at=row.at,
        author=row.author,
    )




class TokenStore:
    """Web chat tokens: each works while used at least every `idle` and for at most
    `max_age` after it was issued; a resumed token is replaced by a new one."""

    def __init__(
        self,
        idle: timedelta = timedelta(days=30),
        max_age: timedelta = timedelta(days=90),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._idle = idle
        self._max_age = max_age
        self._clock = clock

    async def issue(self, session: AsyncSession, conversation_id: int) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session.add(ConversationToken(token_hash=_hash(token), conversation_id=conversation_id,
                                      created_at=now, last_used_at=now))
        await session.flush()
        return token

    async def resolve(self, session: AsyncSession, token: str) -> ConversationKey | None:
        """The token's conversation, counting this as a use; None if unknown or expired."""
        found = await self._live(session, token)
        if found is None:
            return None
        await session.execute(
            update(ConversationToken)
            .where(ConversationToken.token_hash == _hash(token))
            .values(last_used_at=self._clock())
        )
        return ConversationKey(found.channel, found.chat_id)

    async def rotate(
        self, session: AsyncSession, token: str
    ) -> tuple[str, ConversationKey] | None:
        """A new token for the live token's conversation; the old one stops working now."""
        found = await self._live(session, token)
        if found is None:
            return None
        gone = await session.execute(
            delete(ConversationToken).where(ConversationToken.token_hash == _hash(token))
        )
        if gone.rowcount != 1:  # another request rotated it first: one of them wins
            return None
        return await self.issue(session, found.conversation_id), ConversationKey(
            found.channel, found.chat_id)

    async def _live(self, session: AsyncSession, token: str) -> Any:
        now = self._clock()
        row = await session.execute(
            select(Conversation.channel, Conversation.chat_id, ConversationToken.conversation_id,
                   ConversationToken.created_at, ConversationToken.last_used_at)
            .join(ConversationToken, ConversationToken.conversation_id == Conversation.id)
            .where(ConversationToken.token_hash == _hash(token))
        )
        found = row.first()
        if found is None:
            return None
        if found.created_at <= now - self._max_age or found.last_used_at <= now - self._idle:
            # Expired: forgotten now, so that the table keeps only live tokens it meets.
            await session.execute(
                delete(ConversationToken).where(ConversationToken.token_hash == _hash(token))
            )
            return None
        return found


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
