"""Operators' intent labels: what a customer's message meant, as an operator marked it in the
console (docs/console.md, "What did they mean?").

One label a customer message (marking it again replaces the label). A label keeps the text as
the transcript had it (cut to MAX_LABEL_CHARS), so that the model can learn from it
(dialog/nlu/retrain.py), and the intent the bot had guessed, for the dashboard. Labels go with
their message: when a transcript line is deleted (retention, or erasing the customer) its
label is deleted too (dialog/erasure.py).

The rules are here; the statements are the IntentLabels repository's (SQL in storage/repositories/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dialog.nlu.labels import INTENTS
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


@dataclass(frozen=True)
class CustomerMessage:
    """A customer's message as the transcript has it, in the conversation it was said in."""

    id: int
    conversation_id: int
    text: str
    guessed: str | None  # the intent the classifier guessed ("" or None: none)


class UnknownMessage(Exception):
    """No such conversation, or the message is not a customer's message shown in it."""


class NoWords(Exception):
    """A button press: the message has no text to learn from."""


class IntentLabels(Protocol):
    async def customer_message(self, conversation_id: int, message_id: int) -> CustomerMessage:
        """The customer's message among those the console shows for the conversation: its
        own, and those of the same customer's other conversations (OperatorDesk.transcript).
        Raises UnknownMessage."""
        ...

    async def put(self, label: LabelView) -> LabelView:
        """Store the label of label.message_id, replacing the one it has (also when another
        transaction stores one at the same time)."""
        ...

    async def remove(self, message_id: int) -> bool:
        """Remove the message's label; False when it had none."""
        ...

    async def of_messages(self, message_ids: list[int]) -> dict[int, LabelView]: ...

    async def guesses(self, message_ids: list[int]) -> dict[int, str | None]:
        """Of these transcript lines, the customer's messages with words, and the intent the
        bot guessed for each (None when none was recorded)."""
        ...

    async def every(self) -> list[LabelView]:
        """Every label, oldest first: what the model learns from."""
        ...

    async def latest(self, limit: int) -> list[LabelView]:
        """The newest `limit` labels, newest first."""
        ...


async def label_message(
    labels: IntentLabels, conversation_id: int, message_id: int, intent: str,
    operator_id: int | None,
) -> LabelView:
    """Store (or replace) the label of one customer message shown in the conversation."""
    if intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    message = await labels.customer_message(conversation_id, message_id)
    text = message.text.strip()[:MAX_LABEL_CHARS]
    if not text:
        raise NoWords("the customer pressed a button: there are no words to learn from")
    return await labels.put(LabelView(
        message.id, message.conversation_id, text, intent, message.guessed or None,
        operator_id, utcnow()))


async def remove_label(labels: IntentLabels, conversation_id: int, message_id: int) -> bool:
    """Remove the message's label; False when it had none."""
    message = await labels.customer_message(conversation_id, message_id)
    return await labels.remove(message.id)
