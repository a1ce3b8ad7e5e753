"""The durable jobs of orders/reservations.py: the calls to a remote inventory that wait for
it to answer. A job that raises (the inventory is down, or answers nonsense) is retried with
backoff by the JobRunner, with the same idempotency key every time."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.operator_tasks import add_operator_task
from orders.reservations import (
    COMMIT_JOB,
    COMMITTED,
    PENDING,
    REFUSED,
    RELEASE_JOB,
    RESERVE_JOB,
    RESERVED,
    StockKeeper,
    job_key,
)
from orders.tables import Order, OrderHistory, StockReservation
from storage.jobs import JobRunner
from storage.tables import Job

log = logging.getLogger(__name__)

SHORT_TASK = "stock_short"  # the operator task's kind


class ReservePending(Exception):
    """A commit waits for its reservation's own job (the inventory has not got it yet)."""


class ReservationJobs:
    def __init__(self, inventory: StockKeeper) -> None:
        self._inventory = inventory

    def register(self, runner: JobRunner) -> None:
        runner.register(RESERVE_JOB, self.reserve)
        runner.register(RELEASE_JOB, self.release)
        runner.register(COMMIT_JOB, self.commit)

    async def reserve(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        """Ask again for a reservation the inventory did not answer at confirmation. The
        order was confirmed meanwhile: a short answer is a task for a person."""
        row = await session.scalar(
            select(StockReservation).where(StockReservation.key == payload["key"]))
        if row is None or row.status not in (PENDING, RESERVED, COMMITTED):
            return  # released meanwhile (cancelled before the inventory answered)
        number = payload["number"]
        answer = await self._inventory.reserve(session, row.key, number, row.items)
        if answer.granted or not answer.short:
            row.items = dict(answer.granted)
            row.reference = answer.id or None
            if row.status == PENDING:
                row.status = RESERVED
            return
        if row.status == PENDING:
            row.status = REFUSED
        short = ", ".join(f"{sku} ({available} available)"
                          for sku, available in sorted(answer.short.items()))
        await add_operator_task(session, number, SHORT_TASK,
                                f"confirmed, but the inventory is short of {short}", once=True)
        status = await session.scalar(select(Order.status).where(Order.id == row.order_id))
        session.add(OrderHistory(order_id=row.order_id, from_status=status, to_status=status,
                                 cause=f"inventory could not reserve: {short}"[:200]))
        log.warning("order %s confirmed, but the inventory is short of stock for it", number)

    async def release(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        await self._inventory.release(session, payload["key"], payload["number"],
                                      payload.get("items") or {})

    async def commit(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        waiting = await session.scalar(select(Job.id).where(
            Job.key == job_key(payload["key"], "reserve"), Job.done_at.is_(None)))
        if waiting is not None:
            raise ReservePending(payload["key"])
        await self._inventory.commit(session, payload["key"], payload["number"])
