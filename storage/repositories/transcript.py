"""The transcript in SQL: every message of a conversation, the customer's and ours."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Index, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.attachment_values import AttachmentRef
from dialog.messages import Button, ConversationKey, Inbound, Outbound
from dialog.state import HistoryEntry
from dialog.tables import Conversation, TranscriptEntry
from storage.prepared import Prepared
from storage.repositories.attachments import SqlAttachments
from storage.repositories.columns import bound_values

Index("ix_transcript_at", TranscriptEntry.at)

ENTRY_COLUMNS = ("conversation_id", "sender", "author", "text", "buttons", "rich", "action",
            "platform_message_id", "at", "flow", "intent")
_ADD_ENTRY = Prepared(
    insert(TranscriptEntry).values(bound_values(TranscriptEntry.__table__, *ENTRY_COLUMNS))
    .returning(TranscriptEntry.id)
)


@cache
def _add_entries(count: int) -> Prepared:
    """`count` entries in one INSERT, row n's values named v<n>_<column>."""
    table = TranscriptEntry.__table__
    return Prepared(
        insert(TranscriptEntry).values([
            {name: bindparam(f"v{n}_{name}", type_=table.c[name].type) for name in ENTRY_COLUMNS}
            for n in range(count)])
        .returning(TranscriptEntry.id)
    )


class SqlTranscript:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_exchange(
        self, conversation_id: int, inbound: Inbound, replies: Sequence[Outbound], at: datetime,
        flow: str | None, intent: str | None,
    ) -> list[int]:
        values = exchange_values(conversation_id, inbound, replies, at, flow, intent)
        rows = (await _add_entries(len(replies) + 1).execute(self._session, **values)).rows
        # A multi-row INSERT numbers its rows in the order of its VALUES (an autoincrement
        # key, one statement), but RETURNING need not list them in that order.
        return sorted(int(row[0]) for row in rows)

    async def add_inbound(
        self, conversation_id: int, inbound: Inbound, at: datetime,
        flow: str | None, intent: str | None, *, recorded_in_inbox: bool = False,
    ) -> int | None:
        entry = _inbound_entry(conversation_id, inbound, at, flow, intent)
        if inbound.message_id is None or recorded_in_inbox:
            # No savepoint where no copy can be: this transaction recorded or claimed the
            # message's inbox row (its unique key and claim let one copy through); a savepoint
            # would cost two statements a turn for nothing.
            return int(await _ADD_ENTRY.scalar(self._session, **entry))
        try:  # a savepoint, so that a duplicate leaves the transaction usable
            async with self._session.begin_nested():
                return int(await _ADD_ENTRY.scalar(self._session, **entry))
        except IntegrityError:
            return None

    async def add_reply(self, conversation_id: int, reply: Outbound, at: datetime) -> int:
        transcript_id = await _ADD_ENTRY.scalar(
            self._session, **_reply_entry(conversation_id, reply, at))
        assert transcript_id is not None
        return int(transcript_id)

    async def history(
        self, key: ConversationKey, limit: int
    ) -> tuple[str, list[HistoryEntry]]:
        found = (await self._session.execute(
            select(Conversation.id, Conversation.language).where(
                Conversation.channel == key.channel, Conversation.chat_id == key.chat_id
            )
        )).first()
        if found is None:
            return "en", []
        conversation_id, language = found
        rows = await self._session.scalars(
            select(TranscriptEntry)
            .where(TranscriptEntry.conversation_id == conversation_id)
            .order_by(TranscriptEntry.id.desc())
            .limit(limit)
        )
        entries = list(rows)
        attached = await SqlAttachments(self._session).of_entries(
            [row.id for row in entries if row.sender == "customer"])
        return language, [history_entry(row, attached.get(row.id, ()))
                          for row in reversed(entries)]

    async def last_from_bot(self, conversation_id: int) -> HistoryEntry | None:
        row = await self._session.scalar(
            select(TranscriptEntry)
            .where(TranscriptEntry.conversation_id == conversation_id,
                   TranscriptEntry.sender == "bot")
            .order_by(TranscriptEntry.id.desc())
            .limit(1)
        )
        return history_entry(row) if row is not None else None

    async def last_buttons(self, key: ConversationKey) -> list[Button]:
        buttons = await self._session.scalar(
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


def exchange_values(
    conversation_id: int, inbound: Inbound, replies: Sequence[Outbound], at: datetime,
    flow: str | None, intent: str | None,
) -> dict[str, Any]:
    """The message's entry and its replies' as bind values named v<n>_<column> (row 0 the
    customer's), for one multi-row INSERT."""
    entries = [_inbound_entry(conversation_id, inbound, at, flow, intent)]
    entries += [_reply_entry(conversation_id, reply, at) for reply in replies]
    return {f"v{n}_{name[2:]}": value
            for n, entry in enumerate(entries) for name, value in entry.items()}


def _inbound_entry(
    conversation_id: int, inbound: Inbound, at: datetime, flow: str | None, intent: str | None,
) -> dict[str, Any]:
    return {"v_conversation_id": conversation_id, "v_sender": "customer", "v_author": None,
            "v_text": inbound.text, "v_buttons": [], "v_rich": None, "v_action": inbound.action,
            "v_platform_message_id": inbound.message_id, "v_at": at, "v_flow": flow,
            "v_intent": intent}


def _reply_entry(conversation_id: int, reply: Outbound, at: datetime) -> dict[str, Any]:
    return {"v_conversation_id": conversation_id, "v_sender": reply.sender,
            "v_author": reply.author, "v_text": reply.text,
            "v_buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons],
            "v_rich": reply.rich, "v_action": None, "v_platform_message_id": None, "v_at": at,
            "v_flow": None, "v_intent": None}


def history_entry(
    row: TranscriptEntry, attachments: Iterable[AttachmentRef] = ()
) -> HistoryEntry:
    return HistoryEntry(
        id=row.id,
        sender=row.sender,
        text=row.text,
        buttons=tuple(Button(b["title"], b["payload"]) for b in row.buttons or ()),
        at=row.at,
        author=row.author,
        attachments=tuple(attachments),
        rich=row.rich,
    )
