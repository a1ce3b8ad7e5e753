"""The demo's seeded history in SQL: a few thousand rows in a few bulk statements
(dialog/demo_history.py makes them up)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.demo_history import DemoOrder, HistoryPlan, OrderOutcomes
from dialog.tables import Conversation, Event, Handoff, TranscriptEntry
from orders.tables import Order, OrderHistory

TRANSCRIPT: dict[str, Any] = {"author": None, "flow": None, "intent": None}
EVENT: dict[str, Any] = {"subject": None, "value": None}


class SqlDemoHistory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, plan: HistoryPlan) -> list[int]:
        session = self._session
        ids = list(await session.scalars(
            insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
            plan.conversations))
        await session.execute(insert(TranscriptEntry), [
            {**TRANSCRIPT, "conversation_id": ids[index], **row}
            for index, row in plan.transcript])
        handoff_ids = list(await session.scalars(
            insert(Handoff).returning(Handoff.id, sort_by_parameter_order=True),
            [{"conversation_id": ids[index], **row} for index, row in plan.handoffs]))
        await session.execute(insert(Event), [
            {**EVENT, "conversation_id": ids[index],
             "handoff_id": handoff_ids[handoff] if handoff is not None else None, **row}
            for index, handoff, row in plan.events])
        return ids

    async def orders(self) -> list[DemoOrder]:
        rows = await self._session.execute(
            select(Order.id, Order.number, Order.status, Order.created_at).order_by(Order.id))
        return [DemoOrder(id, number, status, created)
                for id, number, status, created in rows]

    async def record(self, outcomes: OrderOutcomes) -> None:
        session = self._session
        for order_id, to_status, cause, at in outcomes.answers:
            await session.execute(
                update(OrderHistory)
                .where(OrderHistory.order_id == order_id, OrderHistory.to_status == to_status)
                .values(cause=cause, at=at))
        for number, code in outcomes.vouchers.items():
            await session.execute(
                update(Order).where(Order.number == number).values(voucher_code=code))
        await session.execute(
            insert(Event), [{**EVENT, "handoff_id": None, **row} for row in outcomes.events])
