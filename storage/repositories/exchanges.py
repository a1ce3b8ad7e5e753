"""A customer's message answered in its own turn, in SQL: at the start its inbox row and its
conversation's state (the fenced load); at the end its transcript entry and the replies', an
outbox row per reply, the conversation's state, and the events and order watches of the turn.

On PostgreSQL each end is one statement (a data-modifying WITH: at the start the inbox row
inserted before the fenced UPDATE; at the end the entries inserted, the outbox rows inserted on
their ids, the state updated, the events and watches inserted), so a turn's own statements
cost two round trips instead of five to seven; SQLite, in the process, runs the statements it
always ran (it has no INSERT inside WITH).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Integer, bindparam, exists, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.events import PendingEvent, check_kinds
from dialog.messages import Inbound, Outbound
from dialog.state import ConversationState
from dialog.tables import Conversation, Event, OutboxRow, TranscriptEntry
from dialog.unit_of_work import AlreadyRecorded, RecordedExchange
from storage.drivers import on_postgresql
from storage.prepared import Prepared
from storage.repositories.columns import bound_values
from storage.repositories.conversations import SqlConversations, saved_values, watch_statement
from storage.repositories.events import EVENT_COLUMNS, SqlEvents, event_values
from storage.repositories.inbox import SqlInbox, inbox_values
from storage.repositories.outbox import SqlOutbox
from storage.repositories.transcript import ENTRY_COLUMNS, SqlTranscript, exchange_values

_OUTBOX = OutboxRow.__table__
_EVENT = Event.__table__
_CONVERSATION_ID = bindparam("conversation_id", type_=Integer)


@cache
def _exchange(replies: int, events: int = 0, watched: int = 0) -> Prepared:
    """The message and `replies` replies (entries named as Transcript.add_exchange names them),
    an outbox row for each reply on its entry's id, the state saved, `events` events (e<n>_…)
    and `watched` order watches (w<n>_number, as ConversationRecords.watch writes them): the
    entries' ids in order, each with its outbox row's id (None for the customer's message),
    and whether a reply of the conversation was still to be sent before (read on the
    statement's snapshot, which the rows it inserts are not part of)."""
    table = TranscriptEntry.__table__
    entries = (
        insert(TranscriptEntry).values([
            {name: bindparam(f"v{n}_{name}", type_=table.c[name].type) for name in ENTRY_COLUMNS}
            for n in range(replies + 1)])
        .returning(TranscriptEntry.id).cte("entries")
    )
    # A multi-row INSERT numbers its rows in the order of its VALUES (one statement, an
    # autoincrement key): reply n is the entry n places after the customer's message.
    outbox = (
        insert(OutboxRow).values([
            {"transcript_id": select(entries.c.id).order_by(entries.c.id)
             .offset(literal_column(str(n + 1))).limit(literal_column("1")).scalar_subquery(),
             **bound_values(_OUTBOX, "channel", "chat_id", "context", "created_at", "owner"),
             "attempts": literal_column("0")}
            for n in range(replies)])
        .returning(OutboxRow.id, OutboxRow.transcript_id).cte("queued")
    )
    saved = (
        update(Conversation).where(Conversation.id == bindparam("conversation_id"))
        .values(bound_values(Conversation.__table__, "customer_id", "language", "status",
                             "escalation_reason", "state", "updated_at"))
        .cte("saved")
    )
    waiting = exists().where(
        OutboxRow.channel == bindparam("v_channel"), OutboxRow.chat_id == bindparam("v_chat_id"),
        OutboxRow.sent_at.is_(None), OutboxRow.last_error.is_(None),
    ).correlate(None)
    statement = (
        select(entries.c.id, outbox.c.id, waiting)
        .select_from(entries.outerjoin(outbox, outbox.c.transcript_id == entries.c.id))
        .order_by(entries.c.id)
        .add_cte(saved)  # run though nothing reads it, as every data-modifying WITH is
    )
    if events:
        statement = statement.add_cte(insert(Event).values([
            {"conversation_id": _CONVERSATION_ID,
             **{column: bindparam(f"e{n}_{column}", type_=_EVENT.c[column].type)
                for column in EVENT_COLUMNS}}
            for n in range(events)]).cte("noted"))
    for n in range(watched):
        statement = statement.add_cte(watch_statement(bindparam(f"w{n}_number"))
                                      .cte(f"watched{n}"))
    return Prepared(statement)


class SqlRepositoryParts(Protocol):
    """The unit of work's own repositories (storage/repositories/unit_of_work.py), which
    SQLite's path uses rather than building its own."""

    @property
    def inbox(self) -> SqlInbox: ...

    @property
    def conversations(self) -> SqlConversations: ...

    @property
    def transcript(self) -> SqlTranscript: ...

    @property
    def outbox(self) -> SqlOutbox: ...

    @property
    def events(self) -> SqlEvents: ...


class SqlExchanges:
    def __init__(self, session: AsyncSession, parts: SqlRepositoryParts) -> None:
        self._session = session
        self._parts = parts
        self._one_statement = on_postgresql(session)

    async def open(
        self, inbound: Inbound, fence: int | None, owner: str | None,
    ) -> ConversationState | None:
        conversations = self._parts.conversations
        if not self._one_statement or fence is None:
            await self._parts.inbox.add(inbound, processed=True, owner=owner)
            return await conversations.find(inbound.key, fence)
        try:
            return await conversations.find_recording(
                inbound.key, fence, inbox_values(inbound, True, owner))
        except IntegrityError as error:  # the inbox's unique (channel, platform_id)
            raise AlreadyRecorded from error

    async def record(
        self, state: ConversationState, inbound: Inbound, replies: Sequence[Outbound],
        at: datetime, flow: str | None, intent: str | None, owner: str | None,
        events: Sequence[PendingEvent] = (), watch: Sequence[str] = (),
    ) -> RecordedExchange:
        if not self._one_statement:
            parts = self._parts
            ids = await parts.transcript.add_exchange(state.id, inbound, replies, at, flow,
                                                      intent)
            await parts.conversations.save(state, at)
            outbox = parts.outbox
            queued = [await outbox.add(transcript_id, state.key, state.context, at, owner)
                      for transcript_id in ids[1:]]
            if events:
                await parts.events.add(state.id, list(events), at)
            if watch:
                await parts.conversations.watch(state.id, watch)
            return RecordedExchange(ids, queued, first_in_line=False)
        check_kinds(list(events))
        watched = sorted(set(watch))
        values: dict[str, Any] = exchange_values(state.id, inbound, replies, at, flow, intent)
        values.update(saved_values(state, at))
        values.update(v_channel=state.key.channel, v_chat_id=state.key.chat_id,
                      v_context=state.context, v_created_at=at, v_owner=owner)
        for n, event in enumerate(events):
            values.update(event_values(event, at, f"e{n}_"))
        values.update({f"w{n}_number": number for n, number in enumerate(watched)})
        rows = await _exchange(len(replies), len(events), len(watched)).all(
            self._session, **values)
        return RecordedExchange([int(entry) for entry, _, _ in rows],
                                [int(queued) for _, queued, _ in rows[1:]],
                                first_in_line=not rows[0][2])
