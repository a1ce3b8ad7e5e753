"""Conversations in SQL: their state row and the orders each one watches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Insert, Integer, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.messages import ConversationKey
from dialog.state import ConversationState
from dialog.tables import Conversation, OrderWatcher
from dialog.unit_of_work import ROW_LOCK, Fenced
from orders.tables import Order
from storage.prepared import Prepared
from storage.repositories.columns import bound_values
from storage.repositories.inbox import INBOX_ADD

# A turn's own statements (storage/prepared.py): compiled once, run by the driver directly.
_STATE = (Conversation.id, Conversation.customer_id, Conversation.language,
          Conversation.status, Conversation.escalation_reason, Conversation.state)
_KEY = (Conversation.channel == bindparam("channel"),
        Conversation.chat_id == bindparam("chat_id"))
_LOAD = Prepared(select(*_STATE).where(*_KEY))
# The fenced load (coordination/redis.py): the turn's token recorded unless a greater one is,
# and the state read, in one statement. Its row lock (PostgreSQL) or write lock (SQLite) keeps
# a newer holder's turn from reading the state before this turn has committed.
_FENCED = (
    update(Conversation)
    .where(*_KEY, or_(Conversation.fence.is_(None), Conversation.fence < bindparam("fence")))
    .values(fence=bindparam("fence"))
    .returning(*_STATE)
)
_FENCED_LOAD = Prepared(_FENCED)
# The same, on PostgreSQL, after the message's inbox row is inserted in the same statement
# (storage/repositories/exchanges.py): a data-modifying WITH runs whatever the UPDATE finds.
_RECORDED_FENCED_LOAD = Prepared(_FENCED.add_cte(INBOX_ADD.cte("recorded")))
# The locked load (unit_of_work.ROW_LOCK): the row locked for the transaction by an UPDATE
# that changes nothing (the same statement and lock as the fenced load, no token compared),
# so a turn of another process waits there for this one's commit and then reads its state.
_LOCKED = update(Conversation).where(*_KEY).values(fence=Conversation.fence).returning(*_STATE)
_LOCKED_LOAD = Prepared(_LOCKED)
_RECORDED_LOCKED_LOAD = Prepared(_LOCKED.add_cte(INBOX_ADD.cte("recorded")))
_SAVE = Prepared(
    update(Conversation).where(Conversation.id == bindparam("conversation_id")).values(
        bound_values(Conversation.__table__, "customer_id", "language", "status",
                     "escalation_reason", "state", "updated_at"))
)
# An order the conversation asked about, watched unless it is already (a status question
# watches its order every time it is asked).
def watch_statement(number: BindParameter[Any]) -> Insert:
    """The watch of the order `number` by the conversation (bind conversation_id), unless it
    watches it already (exchanges.py runs it inside a turn's statement)."""
    return insert(OrderWatcher).from_select(
        ["order_id", "conversation_id"],
        select(Order.id, bindparam("conversation_id", type_=Integer))
        .where(Order.number == number,
               ~select(OrderWatcher.id).where(
                   OrderWatcher.order_id == Order.id,
                   OrderWatcher.conversation_id == bindparam("conversation_id", type_=Integer),
               ).exists())
    )


_WATCH = Prepared(watch_statement(bindparam("number")))


class SqlConversations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(
        self, key: ConversationKey, fence: int | None = None
    ) -> ConversationState | None:
        return await self.find_recording(key, fence, None)

    async def find_recording(
        self, key: ConversationKey, fence: int | None, recorded: dict[str, Any] | None,
    ) -> ConversationState | None:
        """find(key, fence), and with `recorded` (PostgreSQL, a fence or ROW_LOCK: the bind
        values of an inbox row, storage/repositories/inbox.py inbox_values) that row inserted
        by the same statement; a duplicate raises IntegrityError."""
        where = {"channel": key.channel, "chat_id": key.chat_id}
        if fence is None:
            found = await _LOAD.first(self._session, **where)
        elif fence == ROW_LOCK:
            found = await (_LOCKED_LOAD.first(self._session, **where) if recorded is None
                           else _RECORDED_LOCKED_LOAD.first(self._session, **where, **recorded))
        else:
            found = await (_FENCED_LOAD.first(self._session, fence=fence, **where)
                           if recorded is None else
                           _RECORDED_FENCED_LOAD.first(self._session, fence=fence, **where,
                                                       **recorded))
            if found is None and await _LOAD.first(self._session, **where) is not None:
                raise Fenced(f"{key}: a newer turn holds it (token {fence} refused)")
        if found is None:
            return None
        return ConversationState.from_json(found[0], key, *found[1:])

    async def add(
        self, key: ConversationKey, language: str, customer_id: int | None,
        fence: int | None = None,
    ) -> ConversationState:
        row = Conversation(channel=key.channel, chat_id=key.chat_id, customer_id=customer_id,
                           language=language, status="bot", state={},
                           fence=None if fence == ROW_LOCK else fence)
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError:
            if fence is None:
                raise
            # Made meanwhile by a turn of another process, or one whose lease this one
            # outlived (it waited for that turn's transaction): run again, on what it made.
            raise Fenced(f"{key}: made by another turn meanwhile") from None
        self._session.expunge(row)  # written by _SAVE from now on: no ORM copy to go stale
        return ConversationState.from_json(row.id, key, row.customer_id, row.language,
                                           row.status, row.escalation_reason, row.state)

    async def save(self, state: ConversationState, now: datetime) -> None:
        await _SAVE.execute(self._session, **saved_values(state, now))

    async def escalate_if_bot(
        self, key: ConversationKey, reason: str, now: datetime
    ) -> int | None:
        return await self._session.scalar(
            update(Conversation)
            .where(
                Conversation.channel == key.channel,
                Conversation.chat_id == key.chat_id,
                Conversation.status == "bot",
            )
            .values(status="escalated", escalation_reason=reason, updated_at=now)
            .returning(Conversation.id)
        )

    async def latest_key_for_customer(
        self, customer_id: int, channel: str | None
    ) -> ConversationKey | None:
        query = select(Conversation.channel, Conversation.chat_id).where(
            Conversation.customer_id == customer_id)
        if channel is not None:
            query = query.where(Conversation.channel == channel)
        row = (await self._session.execute(
            query.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(1)
        )).first()
        return None if row is None else ConversationKey(row.channel, row.chat_id)

    async def watch(self, conversation_id: int, numbers: Sequence[str]) -> None:
        for number in sorted(set(numbers)):  # one at a time: mostly one, always the same SQL
            await _WATCH.execute(self._session, conversation_id=conversation_id, number=number)

    async def watching(self, number: str) -> list[tuple[ConversationKey, int | None]]:
        rows = (await self._session.execute(
            select(Conversation.channel, Conversation.chat_id, Order.customer_id)
            .join(OrderWatcher, OrderWatcher.conversation_id == Conversation.id)
            .join(Order, Order.id == OrderWatcher.order_id)
            .where(Order.number == number)
            .order_by(Conversation.id)
        )).all()
        return [(ConversationKey(channel, chat_id), customer_id)
                for channel, chat_id, customer_id in rows]


def saved_values(state: ConversationState, now: datetime) -> dict[str, Any]:
    """The bind values of the state's UPDATE (the conversation's id, v_<column> the rest)."""
    return {"conversation_id": state.id, "v_customer_id": state.customer_id,
            "v_language": state.language, "v_status": state.status,
            "v_escalation_reason": state.escalation_reason, "v_state": state.to_json(),
            "v_updated_at": now}
