"""Operators' intent labels: what a customer's message meant, as an operator marked it in the
console (docs/console.md, "What did they mean?").

One label a customer message (marking it again replaces the label). A label keeps the text as
the transcript had it (cut to MAX_LABEL_CHARS), so that the model can learn from it
(dialog/nlu/retrain.py), and the intent the bot had guessed, for the dashboard. Labels go with
their message: when a transcript line is deleted (retention, or erasing the customer) its
label is deleted too (dialog/erasure.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.nlu.labels import INTENTS
from dialog.tables import Conversation, IntentLabel, TranscriptEntry
from storage.clock import utcnow

MAX_LABEL_CHARS = 1000  # what the classifier reads of a message (MAX_UNDERSTOOD_CHARS)




@dataclass(frozen=True)
class LabelView:
    message_id: int
    conversation_id: int
    text: str
    intent: str
    guessed: str | None
    operator_id: int | None
    labelled_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "conversation_id": self.conversation_id,
                "text": self.text, "intent": self.intent, "guessed": self.guessed,
                "operator_id": self.operator_id, "labelled_at": self.labelled_at.isoformat()}


class UnknownMessage(Exception):
    """No such conversation, or the message is not a customer's message shown in it."""


class NoWords(Exception):
    """A button press: the message has no text to learn from."""


async def label_message(
    session: AsyncSession, conversation_id: int, message_id: int, intent: str,
    operator_id: int | None,
) -> LabelView:
    """Store (or replace) the label of one customer message shown in the conversation."""
    if intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    entry = await _customer_message(session, conversation_id, message_id)
    text = entry.text.strip()[:MAX_LABEL_CHARS]
    if not text:
        raise NoWords("the customer pressed a button: there are no words to learn from")
    values = {"conversation_id": entry.conversation_id, "text": text, "intent": intent,
              "guessed": entry.intent or None, "operator_id": operator_id,
              "labelled_at": utcnow()}
    label = await session.scalar(
        select(IntentLabel).where(IntentLabel.transcript_id == entry.id))
    if label is None:
        try:
            async with session.begin_nested():  # another operator may label it at once
                label = IntentLabel(transcript_id=entry.id, **values)
                session.add(label)
        except IntegrityError:
            label = await session.scalar(
                select(IntentLabel).where(IntentLabel.transcript_id == entry.id))
    if label is None:  # pragma: no cover - the other label was removed again meanwhile
        raise UnknownMessage(f"message {message_id} changed meanwhile; try again")
    for name, value in values.items():
        setattr(label, name, value)
    await session.flush()
    return _view(label)


async def remove_label(session: AsyncSession, conversation_id: int, message_id: int) -> bool:
    """Remove the message's label; False when it had none."""
    entry = await _customer_message(session, conversation_id, message_id)
    deleted = await session.execute(
        delete(IntentLabel).where(IntentLabel.transcript_id == entry.id))
    return bool(getattr(deleted, "rowcount", 0))


async def labels_of_messages(
    session: AsyncSession, message_ids: list[int]
) -> dict[int, LabelView]:
    if not message_ids:
        return {}
    rows = await session.scalars(
        select(IntentLabel).where(IntentLabel.transcript_id.in_(message_ids)))
    return {row.transcript_id: _view(row) for row in rows}


async def all_labels(session: AsyncSession) -> list[LabelView]:
    """Every label, oldest first: what the model learns from."""
    rows = await session.scalars(select(IntentLabel).order_by(IntentLabel.id))
    return [_view(row) for row in rows]


async def latest_labels(session: AsyncSession, limit: int) -> list[LabelView]:
    rows = await session.scalars(select(IntentLabel).order_by(
        IntentLabel.labelled_at.desc(), IntentLabel.id.desc()).limit(limit))
    return [_view(row) for row in rows]


async def count_labels(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(IntentLabel.id))) or 0)


async def delete_labels_of_conversations(
    session: AsyncSession, conversation_ids: list[int]
) -> None:
    if conversation_ids:
        await session.execute(
            delete(IntentLabel).where(IntentLabel.conversation_id.in_(conversation_ids)))


async def delete_labels_before(session: AsyncSession, before: datetime) -> None:
    """The labels of the transcript lines older than `before` (transcript retention)."""
    old = select(TranscriptEntry.id).where(TranscriptEntry.at < before)
    await session.execute(delete(IntentLabel).where(IntentLabel.transcript_id.in_(old)))


async def _customer_message(
    session: AsyncSession, conversation_id: int, message_id: int
) -> TranscriptEntry:
    """The customer's message among those the console shows for the conversation: its own,
    and those of the same customer's other conversations (OperatorDesk.transcript)."""
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
        TranscriptEntry.id == message_id, TranscriptEntry.sender == "customer", or_(*shown)))
    if entry is None:
        raise UnknownMessage(
            f"no message {message_id} from the customer in conversation {conversation_id}")
    return entry


def _view(label: IntentLabel) -> LabelView:
    return LabelView(label.transcript_id, label.conversation_id, label.text, label.intent,
                     label.guessed, label.operator_id, label.labelled_at)
