"""Reconciliation: the shop's open orders against the bot's, once a day and on demand
(`python bot.py reconcile`).

An order has drifted when the shop and the bot disagree on its status, its tracking number or
its lines, or when one of them has it open and the other does not. Each drifted order gets one
open operator task (kind DRIFT_TASK; none while one is still open) and, with it, a history
entry that shows both sides. Nothing else changes: a person decides who is right.

The bot's open orders: pending confirmation, confirmed, shipped, return requested. A delivered
order that the shop no longer lists is settled; one that the shop lists is compared. The
shop's answer is read whole before anything is written, so a failing page changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.operator_tasks import add_operator_task
from orders.reservations import items_of
from orders.shop_orders import ShopOrder, ShopOrders
from orders.states import OrderStatus
from orders.tables import Order, OrderHistory, OrderLine
from storage.clock import utcnow
from storage.jobs import JobRunner, schedule

log = logging.getLogger(__name__)

DRIFT_TASK = "shop_drift"  # the operator task's kind
JOB = "shop_reconcile"
OPEN = frozenset({OrderStatus.PENDING_CONFIRMATION, OrderStatus.CONFIRMED, OrderStatus.SHIPPED,
                  OrderStatus.RETURN_REQUESTED})


@dataclass(frozen=True, slots=True)
class Drift:
    number: str
    differences: tuple[str, ...]  # each "what: bot ..., shop ..."
    task_opened: bool  # False: one is open already, or the bot has no such order


@dataclass(frozen=True, slots=True)
class Outcome:
    checked: int
    drifts: tuple[Drift, ...]

    @property
    def tasks_opened(self) -> int:
        return sum(drift.task_opened for drift in self.drifts)

    def summary(self) -> str:
        return (f"checked {self.checked}, drifted {len(self.drifts)}, "
                f"tasks opened {self.tasks_opened}")


@dataclass(frozen=True, slots=True)
class _BotOrder:
    id: int
    status: str
    tracking_number: str | None
    lines: dict[str, int]


async def reconcile(session: AsyncSession, shop: list[ShopOrder]) -> Outcome:
    """Compare the shop's open orders with the bot's; open the tasks of the drifted ones."""
    listed = {order.number: order for order in shop}
    numbers = set(listed) | set(await session.scalars(
        select(Order.number).where(Order.status.in_([status.value for status in OPEN]))))
    ours = await _bot_orders(session, numbers)
    drifts = []
    for number in sorted(numbers):
        differences = _differences(ours.get(number), listed.get(number))
        if differences:
            opened = number in ours and await _open_task(session, number, ours[number], differences)
            drifts.append(Drift(number, differences, opened))
    return Outcome(len(numbers), tuple(drifts))


def _differences(bot: _BotOrder | None, shop: ShopOrder | None) -> tuple[str, ...]:
    if bot is None:
        return ("the shop has it open, the bot has no such order",)
    if shop is None:
        return (f"the bot has it {bot.status}, the shop does not list it as open",)
    found = []
    if shop.status != bot.status:
        found.append(f"status: bot {bot.status}, shop {shop.status}")
    if shop.tracking_number is not None and shop.tracking_number != bot.tracking_number:
        found.append(f"tracking: bot {bot.tracking_number or 'none'}, "
                     f"shop {shop.tracking_number}")
    if shop.lines is not None and shop.lines != bot.lines:
        found.append(f"lines: bot {_lines_text(bot.lines)}, shop {_lines_text(shop.lines)}")
    return tuple(found)


def _lines_text(lines: Mapping[str, int]) -> str:
    return ", ".join(f"{sku} x{quantity}" for sku, quantity in sorted(lines.items())) or "none"


async def _bot_orders(session: AsyncSession, numbers: set[str]) -> dict[str, _BotOrder]:
    rows = (await session.execute(
        select(Order.id, Order.number, Order.status, Order.tracking_number)
        .where(Order.number.in_(sorted(numbers))))).all()
    lines = (await session.execute(
        select(OrderLine.order_id, OrderLine.sku, OrderLine.quantity)
        .where(OrderLine.order_id.in_([row.id for row in rows])))).all()
    by_order: dict[int, list[Any]] = {}
    for line in lines:
        by_order.setdefault(line.order_id, []).append(line)
    return {row.number: _BotOrder(row.id, row.status, row.tracking_number,
                                  items_of(by_order.get(row.id, ())))
            for row in rows}


async def _open_task(session: AsyncSession, number: str, order: _BotOrder,
                     differences: tuple[str, ...]) -> bool:
    """One open task a drifted order: False when one is open already."""
    said = "; ".join(differences)
    if await add_operator_task(session, number, DRIFT_TASK, said, once=True) is None:
        return False
    session.add(OrderHistory(order_id=order.id, from_status=order.status,
                             to_status=order.status, cause=f"shop drift: {said}"[:200]))
    await session.flush()
    return True


class Reconciliation:
    """The daily run, as a durable job keyed by the day (one run a day across processes)."""

    def __init__(self, shop: ShopOrders, clock: Callable[[], datetime] = utcnow) -> None:
        self._shop = shop
        self._clock = clock

    def register(self, runner: JobRunner) -> None:
        runner.register(JOB, self.run)

    async def plan(self, session: AsyncSession, at: datetime | None = None) -> None:
        """Plan the day's run (a no-op when this or another process planned it already)."""
        at = at or self._clock()
        await schedule(session, JOB, f"{JOB}:{at.date().isoformat()}", at,
                       {"at": at.isoformat()})

    async def run(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        # Read first: a shop that fails raises here, and the job is tried again later.
        shop = await self._shop.open_orders()
        outcome = await reconcile(session, shop)
        log.info("reconciliation with the shop: %s", outcome.summary())
        following = datetime.fromisoformat(payload["at"]) + timedelta(days=1)
        while following <= self._clock():  # the bot was down for days: once, not each day
            following += timedelta(days=1)
        await self.plan(session, following)
