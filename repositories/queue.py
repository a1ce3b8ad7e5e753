"""The operators' queue in SQL: the figures a wait estimate is made of (dialog/waits.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.tables import Conversation, Handoff


class SqlHandoffQueue:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def waiting_ahead(self, conversation_id: int, now: datetime) -> int:
        mine = select(Handoff.escalated_at).where(
            Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None)
        ).order_by(Handoff.id.desc()).limit(1).scalar_subquery()
        return await self._session.scalar(
            select(func.count()).select_from(Handoff)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(Handoff.ended_at.is_(None), Conversation.status == "escalated",
                   Handoff.conversation_id != conversation_id,
                   Handoff.escalated_at <= func.coalesce(mine, now))
        ) or 0

    async def recent_handling(self, count: int) -> list[tuple[datetime, datetime]]:
        rows = (await self._session.execute(
            select(Handoff.claimed_at, Handoff.ended_at)
            .where(Handoff.claimed_at.is_not(None), Handoff.ended_at.is_not(None))
            .order_by(Handoff.id.desc()).limit(count)
        )).all()
        return [(claimed, ended) for claimed, ended in rows if claimed and ended]

    async def operators_at_work(self, since: datetime) -> int:
        return await self._session.scalar(
            select(func.count(distinct(Handoff.operator_key))).where(
                Handoff.operator_key.is_not(None),
                or_(Handoff.ended_at.is_(None), Handoff.ended_at >= since),
                Handoff.claimed_at.is_not(None),
            )
        ) or 0
