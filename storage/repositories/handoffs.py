"""Handoffs in SQL: each time a conversation goes to a person, from escalation to hand-back.

A conversation's status (bot | escalated | claimed) says where it is now; its handoff rows say
why it went to a person, who took it, when, and how it ended - for the queue's wait estimate,
the operators' view and the reports. Operators are named by a key ("console:3", "slack:U1")
and a display name, so that the dialog knows nothing of how they log in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.desk_ports import OpenHandoff
from dialog.desk_values import OperatorRef
from dialog.tables import Handoff


class SqlHandoffs:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open(
        self, conversation_id: int, reason: str, now: datetime, flow: str | None
    ) -> int:
        handoff_id = await self._session.scalar(
            insert(Handoff)
            .values(conversation_id=conversation_id, reason=reason, escalated_at=now, flow=flow)
            .returning(Handoff.id)
        )
        assert handoff_id is not None
        return int(handoff_id)

    async def current(self, conversation_id: int) -> OpenHandoff | None:
        row = await self._session.scalar(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
            .order_by(Handoff.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        operator = OperatorRef(row.operator_key, row.operator_name or "") \
            if row.operator_key else None
        return OpenHandoff(row.id, row.conversation_id, row.claimed_at, operator,
                           row.last_reply_at)

    async def assign(self, conversation_id: int, operator: OperatorRef, now: datetime) -> None:
        await self._update_open(conversation_id, claimed_at=now, operator_key=operator.key,
                                operator_name=operator.name)

    async def replied(self, conversation_id: int, now: datetime) -> None:
        await self._update_open(conversation_id,
                                first_reply_at=func.coalesce(Handoff.first_reply_at, now),
                                last_reply_at=now)

    async def reassign(self, conversation_id: int, operator: OperatorRef) -> None:
        await self._update_open(conversation_id, operator_key=operator.key,
                                operator_name=operator.name)

    async def requeue(self, handoff_id: int) -> None:
        await self._session.execute(
            update(Handoff).where(Handoff.id == handoff_id).values(
                claimed_at=None, operator_key=None, operator_name=None,
                requeued=Handoff.requeued + 1)
        )

    async def end(self, conversation_id: int, outcome: str, now: datetime) -> None:
        await self._update_open(conversation_id, ended_at=now, outcome=outcome)

    async def _update_open(self, conversation_id: int, **values: object) -> None:
        await self._session.execute(
            update(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None))
            .values(**values)
        )
