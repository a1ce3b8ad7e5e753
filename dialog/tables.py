"""The dialog's tables: conversations, their transcript, inbox and outbox, order watchers,
hand-offs, notes and tags, report events, intent labels and the bot processes that own rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.clock import utcnow


class BotProcessRow(Base):
    __tablename__ = "bot_processes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column()


class IntentLabel(Base):
    __tablename__ = "intent_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), unique=True
    )
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(32))  # one of dialog.nlu.INTENTS
    guessed: Mapped[str | None] = mapped_column(String(32))  # transcript.intent
    # The console account (console/tables.py Operator.id): a plain number, as the dialog
    # knows nothing of the console's tables (handoffs keep an operator_key the same way).
    operator_id: Mapped[int | None] = mapped_column()
    labelled_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str | None] = mapped_column(String(32))  # the flow that handed it over
    escalated_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()
    operator_key: Mapped[str | None] = mapped_column(String(64))
    operator_name: Mapped[str | None] = mapped_column(String(100))
    first_reply_at: Mapped[datetime | None] = mapped_column()
    last_reply_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(16))  # handed_back | resolved
    requeued: Mapped[int] = mapped_column(default=0)  # times an idle operator lost it


Index("ix_handoffs_open", Handoff.conversation_id, Handoff.ended_at)


class OperatorNote(Base):
    """An operator's internal note on a conversation; the customer never sees it."""

    __tablename__ = "operator_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationTag(Base):
    """An operators' free tag on a conversation (normal form: dialog/tags.py)."""

    __tablename__ = "conversation_tags"
    __table_args__ = (UniqueConstraint("conversation_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    tag: Mapped[str] = mapped_column(String(32), index=True)  # the queue's filter
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    handoff_id: Mapped[int | None] = mapped_column(
        ForeignKey("handoffs.id", ondelete="SET NULL")
    )
    subject: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_events_kind_at", Event.kind, Event.at)
Index("ix_events_conversation", Event.conversation_id)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="bot")  # bot|escalated|claimed
    escalation_reason: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The fencing token of the last turn that held its Redis lock (coordination/redis.py);
    # NULL while only in-process locks were used.
    fence: Mapped[int | None] = mapped_column(BigInteger)


class TranscriptEntry(Base):
    __tablename__ = "transcript"
    __table_args__ = (UniqueConstraint("conversation_id", "platform_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(16))  # customer|bot|operator
    author: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # A reply's optional structure for rich clients (Outbound.rich: an order card, documents).
    rich: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    action: Mapped[str | None] = mapped_column(String(200))
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # A customer's message, for the reports: the flow that answered it ("fallback": none
    # understood it; "operator": an operator held the conversation; "resume": the offer to
    # go back to an interrupted flow) and the intent the classifier guessed, however unsure
    # (empty for a button press).
    flow: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(32))


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    owner: Mapped[str | None] = mapped_column(String(200))  # the process sending it (takeover.py)


class OrderWatcher(Base):
    """A conversation in which an order was proven: erasing the customer erases it too, and if
    the proof was strong (its chat link, a one-time code; docs/security.md) a copy of the
    shop's news about the order goes there, though the chat knows nothing else of the customer
    (an anonymous web chat). A proof by email/postcode gets no news."""

    __tablename__ = "order_watchers"
    __table_args__ = (UniqueConstraint("order_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )


class InboxRow(Base):
    """A platform message recorded before it was acknowledged (see dialog/inbox.py)."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    platform_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    sender: Mapped[str | None] = mapped_column(String(320))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attachments: Mapped[list[str] | None] = mapped_column(JSON)  # Attachment ids it carries
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(index=True)
    owner: Mapped[str | None] = mapped_column(String(200))  # the process answering it


class Attachment(Base):
    """A customer's photo or PDF (dialog/attachments.py). The file lives outside the web root
    under a random name (`stored_path`, relative to `[attachments] directory`); the customer's
    own file name is only shown. Uploaded under a conversation key, it joins the conversation
    and the message that refers to it when that message is recorded."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, URL-safe
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    transcript_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_attachments_key", Attachment.channel, Attachment.chat_id)


class ConversationToken(Base):
    """A client's secret for one conversation (web chat); only its hash is stored."""

    __tablename__ = "conversation_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProofAttemptRow(Base):
    """Failed proofs counted for one key (an order, a conversation, a client's address, an
    order's one-time codes), and the lockout they led to (dialog/proof_limits.py). The key is
    a hash: the database learns no order number or address from this table. Kept in the
    turn's own transaction, so every process sees a lockout as soon as the turn that counted
    it has committed; rows whose times have all passed go in the daily clean-up."""

    __tablename__ = "proof_attempts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)  # counted in the window ending window_ends
    window_ends: Mapped[datetime]
    strikes: Mapped[int] = mapped_column(Integer)  # lockouts until strikes_end (they double)
    strikes_end: Mapped[datetime]
    locked_until: Mapped[datetime | None]
