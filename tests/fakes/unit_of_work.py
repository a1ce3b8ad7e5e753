"""A unit of work in memory: the dialog's repositories over dicts, no database.

One unit of work at a time (as SQLite's BEGIN IMMEDIATE makes it): it works on a copy of the
tables, which commit() makes the current ones; left without commit, the copy is dropped.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from dialog.attachment_values import AttachmentRef, StoredAttachment
from dialog.demo_history import DemoOrder, HistoryPlan, OrderOutcomes
from dialog.desk_ports import OpenHandoff
from dialog.desk_values import Found, Note, OperatorRef, QueueFilter, QueueItem, TranscriptLine
from dialog.erasure import ERASED_DOMAIN, ErasedRecords, erased_address
from dialog.events import RATING, RATING_OFFERED, PendingEvent, RatingOffer, check_kinds
from dialog.intent_labels import CustomerMessage, LabelView, UnknownMessage
from dialog.messages import Button, ConversationKey, Delivery, Inbound, Outbound
from dialog.state import ConversationState, HistoryEntry, TokenRecord
from dialog.unit_of_work import (
    ROW_LOCK,
    AfterCommit,
    AlreadyRecorded,
    Fenced,
    RecordedExchange,
    SendCheck,
)
from orders.service import normalise_email
from storage.clock import utcnow


@dataclass
class _Conversation:
    id: int
    key: ConversationKey
    customer_id: int | None
    language: str
    status: str
    escalation_reason: str | None
    state: dict[str, Any]
    updated_at: datetime
    fence: int | None = None


@dataclass
class _Entry:
    id: int
    conversation_id: int
    sender: str
    author: str | None
    text: str
    buttons: tuple[Button, ...]
    at: datetime
    platform_message_id: str | None = None
    flow: str | None = None
    intent: str | None = None
    rich: dict[str, Any] | None = None


@dataclass
class _Outbox:
    id: int
    transcript_id: int
    key: ConversationKey
    context: dict[str, Any]
    owner: str | None
    created_at: datetime
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass
class _Inbox:
    inbound: Inbound
    owner: str | None
    processed: bool


@dataclass
class _Event:
    id: int
    conversation_id: int | None
    event: PendingEvent
    at: datetime


@dataclass
class _Handoff:
    id: int
    conversation_id: int
    reason: str
    flow: str | None
    escalated_at: datetime
    claimed_at: datetime | None = None
    operator: OperatorRef | None = None
    first_reply_at: datetime | None = None
    last_reply_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None
    requeued: int = 0


@dataclass
class Tables:
    """What an in-memory database holds; tests read it to see what was committed."""

    conversations: dict[ConversationKey, _Conversation] = field(default_factory=dict)
    transcript: list[_Entry] = field(default_factory=list)
    inbox: dict[int, _Inbox] = field(default_factory=dict)
    outbox: dict[int, _Outbox] = field(default_factory=dict)
    tokens: dict[str, tuple[int, datetime, datetime]] = field(default_factory=dict)
    handoffs: list[_Handoff] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    tags: set[tuple[int, str]] = field(default_factory=set)  # (conversation id, tag)
    events: list[_Event] = field(default_factory=list)
    labels: dict[int, LabelView] = field(default_factory=dict)  # by message id
    processes: dict[str, datetime] = field(default_factory=dict)  # name: last heartbeat
    watchers: list[tuple[str, int]] = field(default_factory=list)  # (order number, conversation)
    # Who placed each order (the order core's, which this fake does not hold).
    order_customers: dict[str, int | None] = field(default_factory=dict)
    # The order core's customers, as far as an erasure and the queue need them: id -> email,
    # id -> name.
    customers: dict[int, str | None] = field(default_factory=dict)
    customer_names: dict[int, str] = field(default_factory=dict)
    # What the shop was told (the order core's change log: webhooks), in order.
    changes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    attachments: dict[str, StoredAttachment] = field(default_factory=dict)


class InMemoryDatabase:
    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = asyncio.Lock()
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


class _Part:
    def __init__(self, unit: InMemoryUnitOfWork) -> None:
        self._unit = unit

    @property
    def _tables(self) -> Tables:
        return self._unit.tables

    def _id(self) -> int:
        return self._unit.database.next_id()


class InMemoryConversations(_Part):
    async def find(
        self, key: ConversationKey, fence: int | None = None
    ) -> ConversationState | None:
        row = self._tables.conversations.get(key)
        if row is None:
            return None
        if fence is not None and fence != ROW_LOCK:  # one process: no row lock to take
            if row.fence is not None and row.fence >= fence:
                raise Fenced(f"{key}: token {fence} refused")
            row.fence = fence
        return ConversationState.from_json(row.id, key, row.customer_id, row.language,
                                           row.status, row.escalation_reason,
                                           copy.deepcopy(row.state))

    async def add(
        self, key: ConversationKey, language: str, customer_id: int | None,
        fence: int | None = None,
    ) -> ConversationState:
        row = _Conversation(self._id(), key, customer_id, language, "bot", None, {}, utcnow(),
                            None if fence == ROW_LOCK else fence)
        self._tables.conversations[key] = row
        return ConversationState.from_json(row.id, key, customer_id, language, "bot", None, {})

    async def save(self, state: ConversationState, now: datetime) -> None:
        row = self._tables.conversations[state.key]
        row.customer_id, row.language, row.status = state.customer_id, state.language, state.status
        row.escalation_reason, row.updated_at = state.escalation_reason, now
        row.state = copy.deepcopy(state.to_json())

    async def escalate_if_bot(
        self, key: ConversationKey, reason: str, now: datetime
    ) -> int | None:
        row = self._tables.conversations.get(key)
        if row is None or row.status != "bot":
            return None
        row.status, row.escalation_reason, row.updated_at = "escalated", reason, now
        return row.id

    async def latest_key_for_customer(
        self, customer_id: int, channel: str | None
    ) -> ConversationKey | None:
        mine = [row for row in self._tables.conversations.values()
                if row.customer_id == customer_id and channel in (None, row.key.channel)]
        if not mine:
            return None
        return max(mine, key=lambda row: (row.updated_at, row.id)).key

    async def watch(self, conversation_id: int, numbers: Sequence[str]) -> None:
        for number in numbers:
            pair = (number, conversation_id)
            if number in self._tables.order_customers and pair not in self._tables.watchers:
                self._tables.watchers.append(pair)

    async def watching(self, number: str) -> list[tuple[ConversationKey, int | None]]:
        by_id = {row.id: row.key for row in self._tables.conversations.values()}
        return [(by_id[conversation_id], self._tables.order_customers.get(number))
                for watched, conversation_id in sorted(self._tables.watchers, key=lambda p: p[1])
                if watched == number]


class InMemoryTranscript(_Part):
    async def add_inbound(
        self, conversation_id: int, inbound: Inbound, at: datetime,
        flow: str | None, intent: str | None, *, recorded_in_inbox: bool = False,
    ) -> int | None:
        if inbound.message_id is not None and any(
            entry.conversation_id == conversation_id
            and entry.platform_message_id == inbound.message_id
            for entry in self._tables.transcript
        ):
            return None
        entry = _Entry(self._id(), conversation_id, "customer", None, inbound.text, (), at,
                       inbound.message_id, flow, intent)
        self._tables.transcript.append(entry)
        return entry.id

    async def add_exchange(
        self, conversation_id: int, inbound: Inbound, replies: Sequence[Outbound], at: datetime,
        flow: str | None, intent: str | None,
    ) -> list[int]:
        first = await self.add_inbound(conversation_id, inbound, at, flow, intent,
                                       recorded_in_inbox=True)
        assert first is not None
        return [first] + [await self.add_reply(conversation_id, reply, at) for reply in replies]

    async def add_reply(self, conversation_id: int, reply: Outbound, at: datetime) -> int:
        entry = _Entry(self._id(), conversation_id, reply.sender, reply.author, reply.text,
                       tuple(reply.buttons), at, rich=reply.rich)
        self._tables.transcript.append(entry)
        return entry.id

    async def history(
        self, key: ConversationKey, limit: int
    ) -> tuple[str, list[HistoryEntry]]:
        row = self._tables.conversations.get(key)
        if row is None:
            return "en", []
        mine = [e for e in self._tables.transcript if e.conversation_id == row.id]
        attached = await InMemoryAttachments(self._unit).of_entries([e.id for e in mine])
        entries = [replace(_history(e), attachments=tuple(attached.get(e.id, ())))
                   for e in mine]
        return row.language, entries[-limit:] if limit else []

    async def last_from_bot(self, conversation_id: int) -> HistoryEntry | None:
        mine = [e for e in self._tables.transcript
                if e.conversation_id == conversation_id and e.sender == "bot"]
        return _history(mine[-1]) if mine else None

    async def last_buttons(self, key: ConversationKey) -> list[Button]:
        row = self._tables.conversations.get(key)
        mine = [e for e in self._tables.transcript
                if row is not None and e.conversation_id == row.id and e.sender != "customer"]
        return list(mine[-1].buttons) if mine else []


class InMemoryExchanges(_Part):
    async def open(
        self, inbound: Inbound, fence: int | None, owner: str | None,
    ) -> ConversationState | None:
        await self._unit.inbox.add(inbound, processed=True, owner=owner)
        return await self._unit.conversations.find(inbound.key, fence)

    async def record(
        self, state: ConversationState, inbound: Inbound, replies: Sequence[Outbound],
        at: datetime, flow: str | None, intent: str | None, owner: str | None,
        events: Sequence[PendingEvent] = (), watch: Sequence[str] = (),
    ) -> RecordedExchange:
        unit = self._unit
        ids = await unit.transcript.add_exchange(state.id, inbound, replies, at, flow, intent)
        await unit.conversations.save(state, at)
        await unit.events.add(state.id, list(events), at)
        await unit.conversations.watch(state.id, watch)
        return RecordedExchange(
            ids, [await unit.outbox.add(transcript_id, state.key, state.context, at, owner)
                  for transcript_id in ids[1:]], first_in_line=False)


class InMemoryAttachments(_Part):
    async def add(self, attachment: StoredAttachment) -> None:
        self._tables.attachments[attachment.ref.id] = attachment

    async def find(self, attachment_id: str) -> StoredAttachment | None:
        return self._tables.attachments.get(attachment_id)

    async def join(
        self, key: ConversationKey, conversation_id: int, transcript_id: int, ids: Sequence[str]
    ) -> list[AttachmentRef]:
        joined = []
        for attachment_id in dict.fromkeys(ids):
            found = self._tables.attachments.get(attachment_id)
            if found is None or (found.channel, found.chat_id) != (key.channel, key.chat_id) \
                    or found.transcript_id is not None:
                continue
            self._tables.attachments[attachment_id] = replace(
                found, conversation_id=conversation_id, transcript_id=transcript_id)
            joined.append(found.ref)
        return joined

    async def of_entries(self, transcript_ids: Sequence[int]) -> dict[int, list[AttachmentRef]]:
        found: dict[int, list[AttachmentRef]] = {}
        for attachment in self._tables.attachments.values():
            if attachment.transcript_id in transcript_ids:
                assert attachment.transcript_id is not None
                found.setdefault(attachment.transcript_id, []).append(attachment.ref)
        return found


    async def forget_unjoined(self, before: datetime) -> int:
        old = [i for i, a in self._tables.attachments.items()
               if a.transcript_id is None and a.created_at < before]
        for attachment_id in old:
            del self._tables.attachments[attachment_id]
        return len(old)

    async def stored_paths(self) -> set[str]:
        return {a.stored_path for a in self._tables.attachments.values()}


class InMemoryInbox(_Part):
    async def add(self, inbound: Inbound, *, processed: bool, owner: str | None) -> int:
        if any(row.inbound.key.channel == inbound.key.channel
               and row.inbound.message_id == inbound.message_id
               for row in self._tables.inbox.values()):
            raise AlreadyRecorded
        inbox_id = self._id()
        self._tables.inbox[inbox_id] = _Inbox(replace(inbound, inbox_id=inbox_id), owner,
                                              processed)
        return inbox_id

    async def adopt(self, owner: str, alive_since: datetime, unowned_only: bool) -> list[int]:
        rows = {i: row for i, row in self._tables.inbox.items() if not row.processed}
        return _adopt(self._tables, rows, owner, alive_since, unowned_only)

    async def claim(self, inbox_id: int) -> bool:
        row = self._tables.inbox.get(inbox_id)
        if row is None or row.processed:
            return False
        row.processed = True
        return True

    async def unprocessed(self, ids: list[int] | None, owner: str | None) -> list[Inbound]:
        return [row.inbound for inbox_id, row in sorted(self._tables.inbox.items())
                if not row.processed and (inbox_id in ids if ids is not None
                                          else row.owner == owner)]


class InMemoryOutbox(_Part):
    async def add(
        self, transcript_id: int, key: ConversationKey, context: dict[str, Any],
        at: datetime, owner: str | None,
    ) -> int:
        outbox_id = self._id()
        self._tables.outbox[outbox_id] = _Outbox(outbox_id, transcript_id, key,
                                                 copy.deepcopy(context), owner, at)
        return outbox_id

    async def unsent(self, ids: list[int] | None, owner: str | None) -> list[Delivery]:
        entries = {entry.id: entry for entry in self._tables.transcript}
        found = []
        for outbox_id, row in sorted(self._tables.outbox.items()):
            wanted = outbox_id in ids if ids is not None else row.owner == owner
            if row.sent_at is None and row.last_error is None and wanted:
                entry = entries[row.transcript_id]
                outbound = Outbound(key=row.key, text=entry.text, buttons=entry.buttons,
                                    sender=entry.sender, author=entry.author, rich=entry.rich)
                conversation = self._tables.conversations[row.key]
                first = min(e.id for e in self._tables.transcript
                            if e.conversation_id == entry.conversation_id)
                found.append(Delivery(outbox_id, entry.id, outbound, entry.at.isoformat(),
                                      dict(row.context), conversation.language,
                                      entry.id == first))
        return found

    async def mark_sent(self, outbox_ids: list[int], now: datetime) -> None:
        for outbox_id in outbox_ids:
            self._tables.outbox[outbox_id].sent_at = now

    async def sendable_many(self, rows: Sequence[tuple[int, int]], owner: str,
                            since: datetime) -> dict[int, SendCheck]:
        return {outbox_id: self._sendable(outbox_id, owner, delivered_from, since)
                for outbox_id, delivered_from in rows}

    def _sendable(self, outbox_id: int, owner: str, delivered_from: int,
                  since: datetime) -> SendCheck:
        row = self._tables.outbox.get(outbox_id)
        if row is None or row.owner != owner or row.sent_at is not None or row.last_error:
            return SendCheck.NOT_MINE
        held = any(
            i < outbox_id and other.key == row.key and other.sent_at is None
            and other.last_error is None and other.created_at >= since
            and (i < delivered_from or other.owner != owner)
            for i, other in self._tables.outbox.items())
        return SendCheck.WAIT if held else SendCheck.SEND

    async def adopt(self, owner: str, alive_since: datetime, unowned_only: bool) -> list[int]:
        rows = {i: row for i, row in self._tables.outbox.items()
                if row.sent_at is None and row.last_error is None}
        return _adopt(self._tables, rows, owner, alive_since, unowned_only)

    async def mark_failed(self, outbox_id: int, reason: str) -> None:
        row = self._tables.outbox[outbox_id]
        row.attempts += 1
        row.last_error = reason[:500]


class InMemoryTokens(_Part):
    async def add(self, token_hash: str, conversation_id: int, now: datetime) -> None:
        self._tables.tokens[token_hash] = (conversation_id, now, now)

    async def find(self, token_hash: str) -> TokenRecord | None:
        found = self._tables.tokens.get(token_hash)
        if found is None:
            return None
        conversation_id, created_at, last_used_at = found
        key = next(row.key for row in self._tables.conversations.values()
                   if row.id == conversation_id)
        return TokenRecord(key, conversation_id, created_at, last_used_at)

    async def touch(self, token_hash: str, now: datetime) -> None:
        conversation_id, created_at, _ = self._tables.tokens[token_hash]
        self._tables.tokens[token_hash] = (conversation_id, created_at, now)

    async def remove(self, token_hash: str) -> bool:
        return self._tables.tokens.pop(token_hash, None) is not None


class InMemoryBotProcesses(_Part):
    async def beat(self, name: str, now: datetime) -> None:
        self._tables.processes[name] = now

    async def mark_stopped(self, name: str, at: datetime) -> None:
        if name in self._tables.processes:
            self._tables.processes[name] = at


def _adopt(
    tables: Tables, rows: dict[int, _Inbox] | dict[int, _Outbox], owner: str,
    alive_since: datetime, unowned_only: bool,
) -> list[int]:
    alive = {name for name, seen in tables.processes.items() if seen >= alive_since} | {owner}
    taken = sorted(i for i, row in rows.items()
                   if row.owner is None or (not unowned_only and row.owner not in alive))
    for i in taken:
        rows[i].owner = owner
    return taken


class InMemoryHandoffs(_Part):
    async def open(
        self, conversation_id: int, reason: str, now: datetime, flow: str | None
    ) -> int:
        return _open_handoff(self._tables, conversation_id, reason, flow, now)

    async def current(self, conversation_id: int) -> OpenHandoff | None:
        row = _open(self._tables, conversation_id)
        if row is None:
            return None
        return OpenHandoff(row.id, conversation_id, row.claimed_at, row.operator,
                           row.last_reply_at)

    async def assign(self, conversation_id: int, operator: OperatorRef, now: datetime) -> None:
        for row in _all_open(self._tables, conversation_id):
            row.claimed_at, row.operator = now, operator

    async def replied(self, conversation_id: int, now: datetime) -> None:
        for row in _all_open(self._tables, conversation_id):
            row.first_reply_at = row.first_reply_at or now
            row.last_reply_at = now

    async def reassign(self, conversation_id: int, operator: OperatorRef) -> None:
        for row in _all_open(self._tables, conversation_id):
            row.operator = operator

    async def requeue(self, handoff_id: int) -> None:
        for row in self._tables.handoffs:
            if row.id == handoff_id:
                row.claimed_at, row.operator = None, None
                row.requeued += 1

    async def end(self, conversation_id: int, outcome: str, now: datetime) -> None:
        for row in _all_open(self._tables, conversation_id):
            row.ended_at, row.outcome = now, outcome


def _open_handoff(
    tables: Tables, conversation_id: int, reason: str, flow: str | None, now: datetime
) -> int:
    handoff_id = len(tables.handoffs) + 1
    tables.handoffs.append(_Handoff(handoff_id, conversation_id, reason, flow, now))
    return handoff_id


def _all_open(tables: Tables, conversation_id: int) -> list[_Handoff]:
    return [row for row in tables.handoffs
            if row.conversation_id == conversation_id and row.ended_at is None]


def _open(tables: Tables, conversation_id: int) -> _Handoff | None:
    rows = _all_open(tables, conversation_id)
    return rows[-1] if rows else None


class InMemoryHandoffQueue(_Part):
    async def key(self, conversation_id: int) -> ConversationKey | None:
        row = self._conversation(conversation_id)
        return None if row is None else row.key

    async def take(self, conversation_id: int, now: datetime) -> bool:
        row = self._conversation(conversation_id)
        if row is None or row.status not in ("bot", "escalated"):
            return False
        row.status, row.updated_at = "claimed", now
        return True

    async def items(self, state: str, limit: int) -> list[QueueItem]:
        rows = list(self._tables.conversations.values())
        if state in ("escalated", "claimed"):
            mine = [(self._item(row), row) for row in rows if row.status == state]
            when = "escalated_at" if state == "escalated" else "claimed_at"
            # as SQL orders NULLs: first in SQLite, last in PostgreSQL; a queued
            # conversation always has its handoff here
            mine.sort(key=lambda pair: (getattr(pair[0], when) or datetime.min.replace(
                tzinfo=pair[1].updated_at.tzinfo), pair[1].id))
            return [item for item, _row in mine]
        rows.sort(key=lambda row: (row.updated_at, row.id), reverse=True)
        return [self._item(row) for row in rows[:limit]]

    async def item(self, conversation_id: int) -> QueueItem | None:
        row = self._conversation(conversation_id)
        return None if row is None else self._item(row)

    async def browse(self, chosen: QueueFilter) -> list[QueueItem]:
        def wanted(row: _Conversation) -> bool:
            handoff = _open(self._tables, row.id)
            view = {
                "open": row.status in ("escalated", "claimed"),
                "unassigned": row.status == "escalated",
                "mine": row.status == "claimed" and handoff is not None
                and handoff.operator is not None and handoff.operator.key == chosen.operator_key,
                "closed": row.status == "bot" and any(
                    h.conversation_id == row.id and h.ended_at is not None
                    for h in self._tables.handoffs),
            }.get(chosen.view, True)
            return view and chosen.channel in (None, row.key.channel) \
                and chosen.language in (None, row.language) \
                and (chosen.tag is None or (row.id, chosen.tag) in self._tables.tags)

        return [self._item(row) for row in self._newest(wanted)[
            chosen.offset:chosen.offset + chosen.limit + 1]]

    async def search(self, text: str, offset: int, limit: int) -> list[Found]:
        needle = text.lower()
        found = []
        for row in self._newest(lambda row: True):
            item = self._item(row)
            matched = []
            if needle in f"{item.customer_name or ''} {item.customer_email or ''}".lower():
                matched.append("customer")
            numbers = {n for n, c in self._tables.watchers if c == row.id} | {
                n for n, customer in self._tables.order_customers.items()
                if customer is not None and customer == row.customer_id}
            said = [e for e in self._tables.transcript
                    if e.conversation_id == row.id and needle in e.text.lower()]
            if any(text.upper() in number for number in numbers) and not matched and not said:
                matched.append("order")
            if said:
                matched.append("message")
            if matched:
                snippet = _line(max(said, key=lambda e: e.id), row.key.channel) if said else None
                found.append(Found(item, tuple(matched), snippet))
        return found[offset:offset + limit + 1]

    def _newest(self, wanted: Callable[[_Conversation], bool]) -> list[_Conversation]:
        rows = [row for row in self._tables.conversations.values() if wanted(row)]
        return sorted(rows, key=lambda row: (row.updated_at, row.id), reverse=True)

    async def lines(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        row = self._conversation(conversation_id)
        if row is None:
            return []
        conversations = {c.id: c for c in self._tables.conversations.values()
                         if c.id == row.id or (row.customer_id is not None
                                               and c.customer_id == row.customer_id)}
        entries = sorted((e for e in self._tables.transcript if e.conversation_id in conversations),
                         key=lambda e: (e.at, e.id))
        attached = await InMemoryAttachments(self._unit).of_entries([e.id for e in entries])
        return [replace(_line(e, conversations[e.conversation_id].key.channel),
                        attachments=tuple(attached.get(e.id, ())))
                for e in entries[-limit:]]

    async def idle(self, since: datetime) -> list[tuple[int, ConversationKey]]:
        found = []
        for row in self._tables.conversations.values():
            handoff = _open(self._tables, row.id)
            if row.status != "claimed" or handoff is None or handoff.claimed_at is None:
                continue
            quiet_since = handoff.last_reply_at or handoff.claimed_at
            last_customer = max((e.at for e in self._tables.transcript
                                 if e.conversation_id == row.id and e.sender == "customer"),
                                default=None)
            waiting = handoff.last_reply_at is None or (
                last_customer is not None and last_customer > quiet_since)
            if quiet_since < since and waiting:
                found.append((row.id, row.key))
        return found

    async def waiting_ahead(self, conversation_id: int, now: datetime) -> int:
        by_id = {row.id: row for row in self._tables.conversations.values()}
        mine = _open(self._tables, conversation_id)
        before = mine.escalated_at if mine else now
        return sum(1 for h in self._tables.handoffs
                   if h.ended_at is None and h.conversation_id != conversation_id
                   and by_id[h.conversation_id].status == "escalated"
                   and h.escalated_at <= before)

    async def recent_handling(self, count: int) -> list[tuple[datetime, datetime]]:
        done = [(h.claimed_at, h.ended_at) for h in reversed(self._tables.handoffs)
                if h.claimed_at is not None and h.ended_at is not None]
        return [(claimed, ended) for claimed, ended in done[:count] if claimed and ended]

    async def operators_at_work(self, since: datetime) -> int:
        return len({h.operator.key for h in self._tables.handoffs
                    if h.operator is not None and h.claimed_at is not None
                    and (h.ended_at is None or h.ended_at >= since)})

    def _conversation(self, conversation_id: int) -> _Conversation | None:
        return next((row for row in self._tables.conversations.values()
                     if row.id == conversation_id), None)

    def _item(self, row: _Conversation) -> QueueItem:
        handoff = _open(self._tables, row.id)
        mine = [e for e in self._tables.transcript if e.conversation_id == row.id]
        said = [e for e in mine if e.sender == "customer" and e.text]
        customer = row.customer_id
        return QueueItem(
            conversation_id=row.id, channel=row.key.channel, language=row.language,
            status=row.status,
            reason=handoff.reason if handoff else row.escalation_reason,
            customer_id=customer,
            customer_name=self._tables.customer_names.get(customer) if customer else None,
            customer_email=self._tables.customers.get(customer) if customer else None,
            handoff_id=handoff.id if handoff else None,
            escalated_at=handoff.escalated_at if handoff else None,
            claimed_at=handoff.claimed_at if handoff else None,
            operator=handoff.operator if handoff else None,
            last_message=_line(max(mine, key=lambda e: e.id), row.key.channel) if mine else None,
            proven_orders=tuple(row.state.get("verified_orders") or ()),
            tags=tuple(sorted(tag for cid, tag in self._tables.tags if cid == row.id)),
            customer_said=_line(max(said, key=lambda e: e.id), row.key.channel) if said else None,
        )


def _line(entry: _Entry, channel: str) -> TranscriptLine:
    return TranscriptLine(entry.id, entry.conversation_id, channel, entry.sender, entry.author,
                          entry.text, entry.at, entry.buttons)


class InMemoryOperatorNotes(_Part):
    async def add(self, conversation_id: int, author: str, text: str, at: datetime) -> Note:
        note = Note(self._id(), conversation_id, author, text, at)
        self._tables.notes.append(note)
        return note

    async def of_conversation(self, conversation_id: int) -> list[Note]:
        return [note for note in self._tables.notes if note.conversation_id == conversation_id]


class InMemoryConversationTags(_Part):
    async def add(self, conversation_id: int, tag: str, at: datetime) -> bool:
        if (conversation_id, tag) in self._tables.tags:
            return False
        self._tables.tags.add((conversation_id, tag))
        return True

    async def remove(self, conversation_id: int, tag: str) -> bool:
        if (conversation_id, tag) not in self._tables.tags:
            return False
        self._tables.tags.discard((conversation_id, tag))
        return True

    async def of_conversation(self, conversation_id: int) -> list[str]:
        return sorted(tag for cid, tag in self._tables.tags if cid == conversation_id)


class InMemoryEvents(_Part):
    async def add(
        self, conversation_id: int | None, events: list[PendingEvent], at: datetime
    ) -> None:
        check_kinds(events)
        self._tables.events.extend(
            _Event(self._id(), conversation_id, event, at) for event in events)

    async def latest_rating_offer(self, conversation_id: int) -> RatingOffer | None:
        mine = [e for e in self._tables.events if e.conversation_id == conversation_id]
        offers = [e for e in mine if e.event.kind == RATING_OFFERED]
        if not offers:
            return None
        offer = offers[-1]
        rated = any(e.event.kind == RATING and e.id > offer.id for e in mine)
        return RatingOffer(offer.id, offer.event.handoff_id, offer.at, rated)


class InMemoryIntentLabels(_Part):
    async def customer_message(self, conversation_id: int, message_id: int) -> CustomerMessage:
        conversations = {c.id: c for c in self._tables.conversations.values()}
        if conversation_id not in conversations:
            raise UnknownMessage(f"no conversation {conversation_id}")
        customer_id = conversations[conversation_id].customer_id
        shown = {conversation_id} | {
            c.id for c in conversations.values()
            if customer_id is not None and c.customer_id == customer_id}
        for entry in self._tables.transcript:
            if (entry.id, entry.sender) == (message_id, "customer") and \
                    entry.conversation_id in shown:
                return CustomerMessage(entry.id, entry.conversation_id, entry.text,
                                       entry.intent)
        raise UnknownMessage(
            f"no message {message_id} from the customer in conversation {conversation_id}")

    async def put(self, label: LabelView) -> LabelView:
        self._tables.labels[label.message_id] = label
        return label

    async def remove(self, message_id: int) -> bool:
        return self._tables.labels.pop(message_id, None) is not None

    async def of_messages(self, message_ids: list[int]) -> dict[int, LabelView]:
        return {i: self._tables.labels[i] for i in message_ids if i in self._tables.labels}

    async def guesses(self, message_ids: list[int]) -> dict[int, str | None]:
        wanted = set(message_ids)
        return {e.id: e.intent or None for e in self._tables.transcript
                if e.id in wanted and e.sender == "customer" and e.text}

    async def every(self) -> list[LabelView]:
        return list(self._tables.labels.values())  # dicts keep the order labels came in

    async def latest(self, limit: int) -> list[LabelView]:
        ordered = sorted(self._tables.labels.values(), key=lambda label: label.labelled_at)
        return ordered[::-1][:limit]


class InMemoryErasure(_Part):
    """Erasure over what this fake holds: conversations, transcript, labels and the
    customers' addresses (no identities, documents or inbox times)."""

    async def customer_with_email(self, email: str) -> int | None:
        wanted = {normalise_email(email), erased_address(email)}
        return next((id for id, address in self._tables.customers.items()
                     if address in wanted), None)

    async def erase(self, customer_id: int) -> ErasedRecords | None:
        tables = self._tables
        if customer_id not in tables.customers:
            return None
        email = tables.customers[customer_id]
        if email and email.endswith("@" + ERASED_DOMAIN):
            return ErasedRecords(already_erased=True)
        gone = sorted(c.id for c in tables.conversations.values()
                      if c.customer_id == customer_id)
        tables.conversations = {key: c for key, c in tables.conversations.items()
                                if c.id not in gone}
        tables.transcript = [e for e in tables.transcript if e.conversation_id not in gone]
        tables.labels = {i: label for i, label in tables.labels.items()
                         if label.conversation_id not in gone}
        tables.customers[customer_id] = erased_address(email) if email else None
        numbers = sorted(n for n, c in tables.order_customers.items() if c == customer_id)
        return ErasedRecords(False, gone, numbers, 0, len(numbers))

    async def delete_transcripts_before(self, before: datetime) -> int:
        tables = self._tables
        old = {e.id for e in tables.transcript if e.at < before}
        tables.transcript = [e for e in tables.transcript if e.id not in old]
        tables.labels = {i: label for i, label in tables.labels.items() if i not in old}
        return len(old)


class InMemoryShop(_Part):
    """The shop of an in-memory unit of work: no order core here, so a turn that needs one
    fails loudly; what the shop is told of conversations and customers is kept (and rolled
    back with the unit of work)."""

    async def record_change(self, kind: str, data: dict[str, Any]) -> None:
        self._tables.changes.append((kind, data))

    async def forget_changes(self, keys: list[str]) -> None:
        return None

    async def customer_for_identity(self, channel: str, sender: str,
                                    email: str | None = None) -> int | None:
        return None

    def __getattr__(self, name: str) -> Any:
        raise LookupError(f"no order core in an in-memory unit of work (shop.{name})")


class InMemoryUnitOfWork:
    session: Any = None  # no database here

    def __init__(self, database: InMemoryDatabase) -> None:
        self.database = database
        self.tables = database.tables
        self._after: list[AfterCommit] = []
        self._open = False
        self.conversations = InMemoryConversations(self)
        self.transcript = InMemoryTranscript(self)
        self.exchanges = InMemoryExchanges(self)
        self.inbox = InMemoryInbox(self)
        self.outbox = InMemoryOutbox(self)
        self.tokens = InMemoryTokens(self)
        self.processes = InMemoryBotProcesses(self)
        self.handoffs = InMemoryHandoffs(self)
        self.queue = InMemoryHandoffQueue(self)
        self.notes = InMemoryOperatorNotes(self)
        self.tags = InMemoryConversationTags(self)
        self.events = InMemoryEvents(self)
        self.labels = InMemoryIntentLabels(self)
        self.erasures = InMemoryErasure(self)
        self.shop = InMemoryShop(self)
        self.attachments = InMemoryAttachments(self)

    def after_commit(self, callback: AfterCommit) -> None:
        self._after.append(callback)

    async def __aenter__(self) -> InMemoryUnitOfWork:
        await self.database.lock.acquire()
        self._open = True
        self.tables = copy.deepcopy(self.database.tables)
        return self

    async def commit(self) -> None:
        if not self._open:
            raise RuntimeError("the unit of work is not open")
        self.database.tables = self.tables
        self._end()
        for callback in self._after:
            result = callback()
            if result is not None:
                await result

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._open:  # left without commit: the copy is dropped
            self._end()

    def _end(self) -> None:
        self._open = False
        self.database.lock.release()


def _history(entry: _Entry) -> HistoryEntry:
    return HistoryEntry(entry.id, entry.sender, entry.text, entry.buttons, entry.at,
                        entry.author, rich=entry.rich)


class InMemoryDemoHistory(_Part):
    """dialog.demo_history.DemoHistoryRecords over the fake's tables (it holds no orders)."""

    async def add(self, plan: HistoryPlan) -> list[int]:
        tables = self._tables
        ids = []
        for row in plan.conversations:
            key = ConversationKey(row["channel"], row["chat_id"])
            ids.append(self._id())
            tables.conversations[key] = _Conversation(
                ids[-1], key, None, row["language"], row["status"], None, {}, row["updated_at"])
        for index, row in plan.transcript:
            tables.transcript.append(_Entry(
                self._id(), ids[index], row["sender"], row.get("author"), row["text"], (),
                row["at"], flow=row.get("flow"), intent=row.get("intent")))
        handoffs = []
        for index, row in plan.handoffs:
            handoffs.append(len(tables.handoffs) + 1)
            tables.handoffs.append(_Handoff(
                handoffs[-1], ids[index], row["reason"], row["flow"], row["escalated_at"],
                row["claimed_at"], OperatorRef(row["operator_key"], row["operator_name"]),
                row["first_reply_at"], row["last_reply_at"], row["ended_at"], row["outcome"],
                row["requeued"]))
        for index, handoff, row in plan.events:
            tables.events.append(_Event(self._id(), ids[index], PendingEvent(
                row["kind"], row.get("subject"), row.get("value"),
                None if handoff is None else handoffs[handoff]), row["at"]))
        return ids

    async def orders(self) -> list[DemoOrder]:
        return []

    async def record(self, outcomes: OrderOutcomes) -> None:
        self._tables.events.extend(
            _Event(self._id(), row["conversation_id"],
                   PendingEvent(row["kind"], row.get("subject")), row["at"])
            for row in outcomes.events)
