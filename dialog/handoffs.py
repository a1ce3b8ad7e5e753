"""Handoffs: each time a conversation goes to a person, from escalation to hand-back.

A conversation's status (bot | escalated | claimed) says where it is now; its handoff rows say
why it went to a person, who took it, when, and how it ended - for the queue's wait estimate,
the operators' view and the reports. Operators are named by a key ("console:3", "slack:U1")
and a display name, so that the dialog knows nothing of how they log in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from orders.models import Base, utcnow


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
    # The escalation's post in the Slack operators channel (its thread carries the chat).
    slack_channel: Mapped[str | None] = mapped_column(String(64))
    slack_ts: Mapped[str | None] = mapped_column(String(32))


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


async def open_handoff(
    session: AsyncSession, conversation_id: int, reason: str, now: datetime | None = None,
    flow: str | None = None,
) -> int:
    """Record an escalation (the caller has just moved the conversation to "escalated")."""
    handoff_id = await session.scalar(
        insert(Handoff)
        .values(conversation_id=conversation_id, reason=reason, escalated_at=now or utcnow(),
                flow=flow)
        .returning(Handoff.id)
    )
    assert handoff_id is not None
    return handoff_id


async def current_handoff(session: AsyncSession, conversation_id: int) -> Handoff | None:
    return await session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
        .order_by(Handoff.id.desc())
        .limit(1)
    )


async def end_handoff(
    session: AsyncSession, conversation_id: int, outcome: str, now: datetime | None = None
) -> None:
    await session.execute(
        update(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
        .values(ended_at=now or utcnow(), outcome=outcome)
    )
