"""Handoffs: each time a conversation goes to a person, from escalation to hand-back.

A conversation's status (bot | escalated | claimed) says where it is now; its handoff rows say
why it went to a person, who took it, when, and how it ended - for the queue's wait estimate,
the operators' view and the reports. Operators are named by a key ("console:3", "slack:U1")
and a display name, so that the dialog knows nothing of how they log in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.tables import Handoff
from storage.clock import utcnow

Index("ix_handoffs_open", Handoff.conversation_id, Handoff.ended_at)




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
    return int(handoff_id)


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
