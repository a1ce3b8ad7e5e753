"""The operators' queue in SQL: its conversations as the desk shows them (dialog/desk.py), and
the figures a wait estimate is made of (dialog/waits.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, distinct, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.desk_values import OperatorRef, QueueItem, TranscriptLine
from dialog.messages import Button, ConversationKey
from dialog.tables import Conversation, Handoff, TranscriptEntry
from orders.tables import Customer, Order

# A queue item's row: the conversation, its customer's name and email, its open handoff (outer
# joins: any of them may be missing).
_ItemRow = Select[Conversation, str | None, str | None, Handoff | None]


class SqlHandoffQueue:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def key(self, conversation_id: int) -> ConversationKey | None:
        found = (await self._session.execute(
            select(Conversation.channel, Conversation.chat_id)
            .where(Conversation.id == conversation_id)
        )).first()
        return None if found is None else ConversationKey(found.channel, found.chat_id)

    async def take(self, conversation_id: int, now: datetime) -> bool:
        taken = await self._session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id,
                   Conversation.status.in_(("bot", "escalated")))
            .values(status="claimed", updated_at=now)
        )
        return bool(getattr(taken, "rowcount", 0))

    async def items(self, state: str, limit: int) -> list[QueueItem]:
        query = _items_query()
        if state == "escalated":
            query = query.where(Conversation.status == "escalated").order_by(
                Handoff.escalated_at, Conversation.id)
        elif state == "claimed":
            query = query.where(Conversation.status == "claimed").order_by(
                Handoff.claimed_at, Conversation.id)
        else:
            query = query.order_by(Conversation.updated_at.desc(),
                                   Conversation.id.desc()).limit(limit)
        return await self._items(query)

    async def item(self, conversation_id: int) -> QueueItem | None:
        items = await self._items(_items_query().where(Conversation.id == conversation_id))
        return items[0] if items else None

    async def lines(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        customer_id = await self._session.scalar(
            select(Conversation.customer_id).where(Conversation.id == conversation_id))
        ids = select(Conversation.id).where(Conversation.customer_id == customer_id) \
            if customer_id else select(Conversation.id).where(Conversation.id == conversation_id)
        rows = await self._session.execute(
            select(TranscriptEntry, Conversation.channel)
            .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
            .where(TranscriptEntry.conversation_id.in_(ids))
            .order_by(TranscriptEntry.at.desc(), TranscriptEntry.id.desc()).limit(limit)
        )
        return [_line(entry, channel) for entry, channel in reversed(rows.all())]

    async def idle(self, since: datetime) -> list[tuple[int, ConversationKey]]:
        last_customer = (
            select(func.max(TranscriptEntry.at))
            .where(TranscriptEntry.conversation_id == Handoff.conversation_id,
                   TranscriptEntry.sender == "customer")
            .scalar_subquery()
        )
        quiet_since = func.coalesce(Handoff.last_reply_at, Handoff.claimed_at)
        rows = await self._session.execute(
            select(Conversation.id, Conversation.channel, Conversation.chat_id)
            .join(Handoff, and_(Handoff.conversation_id == Conversation.id,
                                Handoff.ended_at.is_(None)))
            .where(Conversation.status == "claimed", quiet_since < since,
                   or_(Handoff.last_reply_at.is_(None), last_customer > quiet_since))
        )
        return [(id, ConversationKey(channel, chat_id)) for id, channel, chat_id in rows]

    async def waiting_ahead(self, conversation_id: int, now: datetime) -> int:
        mine = select(Handoff.escalated_at).where(
            Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None)
        ).order_by(Handoff.id.desc()).limit(1).scalar_subquery()
        return await self._session.scalar(
            select(func.count()).select_from(Handoff)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(Handoff.ended_at.is_(None), Conversation.status == "escalated",
                   Handoff.conversation_id != conversation_id,
                   Handoff.escalated_at <= func.coalesce(mine, now))
        ) or 0

    async def recent_handling(self, count: int) -> list[tuple[datetime, datetime]]:
        rows = (await self._session.execute(
            select(Handoff.claimed_at, Handoff.ended_at)
            .where(Handoff.claimed_at.is_not(None), Handoff.ended_at.is_not(None))
            .order_by(Handoff.id.desc()).limit(count)
        )).all()
        return [(claimed, ended) for claimed, ended in rows if claimed and ended]

    async def operators_at_work(self, since: datetime) -> int:
        return await self._session.scalar(
            select(func.count(distinct(Handoff.operator_key))).where(
                Handoff.operator_key.is_not(None),
                or_(Handoff.ended_at.is_(None), Handoff.ended_at >= since),
                Handoff.claimed_at.is_not(None),
            )
        ) or 0

    async def _items(self, query: _ItemRow) -> list[QueueItem]:
        rows = (await self._session.execute(query)).all()
        ids = [row[0].id for row in rows]
        last = await self._newest_lines(ids, customer_only=False)
        said = await self._newest_lines(ids, customer_only=True)
        proven = {conversation.id: tuple((conversation.state or {}).get("verified_orders") or ())
                  for conversation, *_ in rows}
        owners = await self._owners([numbers[-1] for conversation, name, email, _ in rows
                                     if (numbers := proven[conversation.id])
                                     and conversation.customer_id is None])
        items = []
        for conversation, name, email, handoff in rows:
            numbers = proven[conversation.id]
            if conversation.customer_id is None and numbers:
                name, email = owners.get(numbers[-1], (None, None))
            items.append(QueueItem(
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
                proven_orders=numbers,
                customer_said=said.get(conversation.id),
            ))
        return items

    async def _newest_lines(self, ids: list[int], customer_only: bool) -> dict[int, TranscriptLine]:
        """Each conversation's newest line (or newest customer line with words)."""
        if not ids:
            return {}
        newest = select(func.max(TranscriptEntry.id)).where(
            TranscriptEntry.conversation_id.in_(ids))
        if customer_only:
            newest = newest.where(TranscriptEntry.sender == "customer",
                                  TranscriptEntry.text != "")
        entries = await self._session.execute(
            select(TranscriptEntry, Conversation.channel)
            .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
            .where(TranscriptEntry.id.in_(newest.group_by(TranscriptEntry.conversation_id)))
        )
        return {entry.conversation_id: _line(entry, channel) for entry, channel in entries}

    async def _owners(self, numbers: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """The customer (name, email) of each order an anonymous chat proved."""
        if not numbers:
            return {}
        rows = await self._session.execute(
            select(Order.number, Customer.name, Customer.email)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.number.in_(set(numbers))))
        return {number: (name, email) for number, name, email in rows}


def _items_query() -> _ItemRow:
    return (
        select(Conversation, Customer.name, Customer.email, Handoff)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(Handoff, and_(Handoff.conversation_id == Conversation.id,
                                 Handoff.ended_at.is_(None)))
    )


def _line(entry: TranscriptEntry, channel: str) -> TranscriptLine:
    return TranscriptLine(
        id=entry.id, conversation_id=entry.conversation_id, channel=channel,
        sender=entry.sender, author=entry.author, text=entry.text, at=entry.at,
        buttons=tuple(Button(b["title"], b["payload"]) for b in entry.buttons or ()),
    )
