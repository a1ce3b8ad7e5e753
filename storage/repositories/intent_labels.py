"""Operators' intent labels in SQL (dialog/intent_labels.py holds the rules)."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.intent_labels import CustomerMessage, LabelView, UnknownMessage
from dialog.tables import Conversation, IntentLabel, TranscriptEntry


class SqlIntentLabels:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def customer_message(self, conversation_id: int, message_id: int) -> CustomerMessage:
        session = self._session
        customer_id = await session.scalar(
            select(Conversation.customer_id).where(Conversation.id == conversation_id))
        exists = customer_id is not None or await session.scalar(
            select(Conversation.id).where(Conversation.id == conversation_id)) is not None
        if not exists:
            raise UnknownMessage(f"no conversation {conversation_id}")
        shown = [TranscriptEntry.conversation_id == conversation_id]
        if customer_id is not None:
            shown.append(TranscriptEntry.conversation_id.in_(
                select(Conversation.id).where(Conversation.customer_id == customer_id)))
        entry = await session.scalar(select(TranscriptEntry).where(
            TranscriptEntry.id == message_id, TranscriptEntry.sender == "customer",
            or_(*shown)))
        if entry is None:
            raise UnknownMessage(
                f"no message {message_id} from the customer in conversation {conversation_id}")
        return CustomerMessage(entry.id, entry.conversation_id, entry.text, entry.intent)

    async def put(self, label: LabelView) -> LabelView:
        session = self._session
        values = {"conversation_id": label.conversation_id, "text": label.text,
                  "intent": label.intent, "guessed": label.guessed,
                  "operator_id": label.operator_id, "labelled_at": label.labelled_at}
        row = await self._row(label.message_id)
        if row is None:
            try:
                async with session.begin_nested():  # another operator may label it at once
                    row = IntentLabel(transcript_id=label.message_id, **values)
                    session.add(row)
            except IntegrityError:
                row = await self._row(label.message_id)
        if row is None:  # pragma: no cover - the other label was removed again meanwhile
            raise UnknownMessage(f"message {label.message_id} changed meanwhile; try again")
        for name, value in values.items():
            setattr(row, name, value)
        await session.flush()
        return _view(row)

    async def remove(self, message_id: int) -> bool:
        deleted = await self._session.execute(
            delete(IntentLabel).where(IntentLabel.transcript_id == message_id))
        return bool(getattr(deleted, "rowcount", 0))

    async def of_messages(self, message_ids: list[int]) -> dict[int, LabelView]:
        if not message_ids:
            return {}
        rows = await self._session.scalars(
            select(IntentLabel).where(IntentLabel.transcript_id.in_(message_ids)))
        return {row.transcript_id: _view(row) for row in rows}

    async def guesses(self, message_ids: list[int]) -> dict[int, str | None]:
        if not message_ids:
            return {}
        rows = await self._session.execute(
            select(TranscriptEntry.id, TranscriptEntry.intent).where(
                TranscriptEntry.id.in_(message_ids), TranscriptEntry.sender == "customer",
                TranscriptEntry.text != ""))
        return {message: guess or None for message, guess in rows}

    async def every(self) -> list[LabelView]:
        rows = await self._session.scalars(select(IntentLabel).order_by(IntentLabel.id))
        return [_view(row) for row in rows]

    async def latest(self, limit: int) -> list[LabelView]:
        rows = await self._session.scalars(select(IntentLabel).order_by(
            IntentLabel.labelled_at.desc(), IntentLabel.id.desc()).limit(limit))
        return [_view(row) for row in rows]

    async def _row(self, message_id: int) -> IntentLabel | None:
        return await self._session.scalar(
            select(IntentLabel).where(IntentLabel.transcript_id == message_id))


def _view(label: IntentLabel) -> LabelView:
    return LabelView(label.transcript_id, label.conversation_id, label.text, label.intent,
                     label.guessed, label.operator_id, label.labelled_at)
