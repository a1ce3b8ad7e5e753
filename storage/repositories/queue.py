"""The operators' queue in SQL: its conversations as the desk shows them (dialog/desk.py), its
filters and search, and the figures a wait estimate is made of (dialog/waits.py).

Search is `LIKE '%text%'` on lower-cased columns: a scan, fine for SQLite and for the
thousands of conversations of a shop's year. SQLite's lower() folds ASCII only, so a search
for Cyrillic or Polish letters there matches their case as typed. On PostgreSQL at scale the
same query wants trigram indexes (`CREATE EXTENSION pg_trgm; CREATE INDEX ... USING gin
(lower(text) gin_trgm_ops)` on transcript.text, customers.name and customers.email), which
serve LIKE '%...%' unchanged; full-text search (tsvector) would find words, not fragments
such as an order number's digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, distinct, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from dialog.attachment_values import AttachmentRef
from dialog.desk_values import Found, OperatorRef, QueueFilter, QueueItem, TranscriptLine
from dialog.messages import Button, ConversationKey
from dialog.tables import Conversation, ConversationTag, Handoff, OrderWatcher, TranscriptEntry
from orders.tables import Customer, Order
from storage.repositories.attachments import SqlAttachments

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

    async def browse(self, chosen: QueueFilter) -> list[QueueItem]:
        query = _items_query().where(*_filtered(chosen)).order_by(
            Conversation.updated_at.desc(), Conversation.id.desc()
        ).offset(chosen.offset).limit(chosen.limit + 1)
        return await self._items(query)

    async def search(self, text: str, offset: int, limit: int) -> list[Found]:
        lowered, number = text.lower(), text.upper()

        def like(column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[bool]:
            # autoescape: the customer's "%" or "_" is looked for as itself
            return func.lower(column).contains(lowered, autoescape=True)

        by_customer = select(Customer.id).where(or_(like(Customer.name), like(Customer.email)))
        by_order = select(Order.customer_id).where(Order.number.contains(number, autoescape=True))
        proven = select(OrderWatcher.conversation_id).join(
            Order, Order.id == OrderWatcher.order_id).where(
            Order.number.contains(number, autoescape=True))
        said = select(TranscriptEntry.conversation_id).where(like(TranscriptEntry.text))
        query = _items_query().where(or_(
            Conversation.customer_id.in_(by_customer), Conversation.customer_id.in_(by_order),
            Conversation.id.in_(proven), Conversation.id.in_(said),
        )).order_by(Conversation.updated_at.desc(), Conversation.id.desc()
                    ).offset(offset).limit(limit + 1)
        items = await self._items(query)
        snippets: dict[int, TranscriptLine] = {}
        if items:
            newest = (select(func.max(TranscriptEntry.id))
                      .where(TranscriptEntry.conversation_id.in_([i.conversation_id
                                                                  for i in items]),
                             like(TranscriptEntry.text))
                      .group_by(TranscriptEntry.conversation_id))
            rows = await self._session.execute(
                select(TranscriptEntry, Conversation.channel)
                .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
                .where(TranscriptEntry.id.in_(newest)))
            snippets = {entry.conversation_id: _line(entry, channel) for entry, channel in rows}
        needle = text.lower()
        found = []
        for item in items:
            matched = []
            if needle in f"{item.customer_name or ''} {item.customer_email or ''}".lower():
                matched.append("customer")
            snippet = snippets.get(item.conversation_id)
            if snippet is None and not matched:
                matched.append("order")  # nothing else of it contains the text
            if snippet is not None:
                matched.append("message")
            found.append(Found(item, tuple(matched), snippet))
        return found

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
        found = rows.all()
        attached = await SqlAttachments(self._session).of_entries(
            [entry.id for entry, _ in found if entry.sender == "customer"])
        return [_line(entry, channel, attached.get(entry.id, ()))
                for entry, channel in reversed(found)]

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
        tags: dict[int, list[str]] = {}
        if ids:
            for conversation_id, tag in await self._session.execute(
                select(ConversationTag.conversation_id, ConversationTag.tag)
                .where(ConversationTag.conversation_id.in_(ids)).order_by(ConversationTag.tag)
            ):
                tags.setdefault(conversation_id, []).append(tag)
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
                tags=tuple(tags.get(conversation.id, ())),
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
        rows = entries.all()
        attached = await SqlAttachments(self._session).of_entries(
            [entry.id for entry, _ in rows if entry.sender == "customer"])
        return {entry.conversation_id: _line(entry, channel, attached.get(entry.id, ()))
                for entry, channel in rows}

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


def _filtered(chosen: QueueFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if chosen.view == "open":
        conditions.append(Conversation.status.in_(("escalated", "claimed")))
    elif chosen.view == "unassigned":
        conditions.append(Conversation.status == "escalated")
    elif chosen.view == "mine":
        conditions += [Conversation.status == "claimed",
                       Handoff.operator_key == chosen.operator_key]
    elif chosen.view == "closed":  # with the bot again after a person had it
        ended = aliased(Handoff)  # not the open handoff the item's query joins
        conditions += [Conversation.status == "bot", exists().where(
            ended.conversation_id == Conversation.id, ended.ended_at.is_not(None))]
    if chosen.channel:
        conditions.append(Conversation.channel == chosen.channel)
    if chosen.language:
        conditions.append(Conversation.language == chosen.language)
    if chosen.tag:
        conditions.append(exists().where(ConversationTag.conversation_id == Conversation.id,
                                         ConversationTag.tag == chosen.tag))
    return conditions


def _line(
    entry: TranscriptEntry, channel: str, attachments: Iterable[AttachmentRef] = ()
) -> TranscriptLine:
    return TranscriptLine(
        id=entry.id, conversation_id=entry.conversation_id, channel=channel,
        sender=entry.sender, author=entry.author, text=entry.text, at=entry.at,
        buttons=tuple(Button(b["title"], b["payload"]) for b in entry.buttons or ()),
        attachments=tuple(attachments),
    )
