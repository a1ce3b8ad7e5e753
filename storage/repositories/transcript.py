"""The transcript in SQL: every message of a conversation, the customer's and ours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Index, insert, select
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

_ADD_ENTRY = Prepared(
    insert(TranscriptEntry).values(
        bound_values(TranscriptEntry.__table__, "conversation_id", "sender", "author", "text",
                     "buttons", "rich", "action", "platform_message_id", "at", "flow",
                     "intent"))
    .returning(TranscriptEntry.id)
)


class SqlTranscript:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_inbound(
        self, conversation_id: int, inbound: Inbound, at: datetime,
        flow: str | None, intent: str | None, *, recorded_in_inbox: bool = False,
    ) -> int | None:
        entry = {"v_conversation_id": conversation_id, "v_sender": "customer", "v_author": None,
                 "v_text": inbound.text, "v_buttons": [], "v_rich": None,
                 "v_action": inbound.action,
                 "v_platform_message_id": inbound.message_id, "v_at": at,
                 "v_flow": flow, "v_intent": intent}
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
            self._session, v_conversation_id=conversation_id, v_sender=reply.sender,
            v_author=reply.author, v_text=reply.text,
            v_buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons],
            v_rich=reply.rich, v_action=None, v_platform_message_id=None, v_at=at, v_flow=None,
            v_intent=None,
        )
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
