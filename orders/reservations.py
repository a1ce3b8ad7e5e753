"""The order's stock reservations at the inventory: reserve on confirmation, release on a
cancel (or changed lines), commit when the goods leave.

Every reservation is a row (stock_reservations) whose key is also its idempotency key at the
inventory: "<order number>:reserve:<n>", n counting the order's reservations. The key is
derived, not random, so a turn that crashed after the call and is run again sends the same key
and the inventory answers with the reservation it already made.

Reserve needs its answer (is the stock really there?): it is asked in the caller's transaction.
When a remote inventory does not answer, the order goes on (the customer is not left waiting)
and a durable job asks again with the same key; orders/reservation_jobs.py opens an operator
task if the inventory then says the stock is short. Release and commit need no answer: with a
remote inventory they leave as durable jobs (storage/jobs.py) in the caller's transaction,
retried with backoff until the inventory takes them; the shop's own table does them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.inventory import InventoryUnavailable
from orders.tables import Order, OrderLine, StockReservation
from storage.clock import utcnow
from storage.jobs import cancel, schedule

RESERVE_JOB = "inventory_reserve"
RELEASE_JOB = "inventory_release"
COMMIT_JOB = "inventory_commit"

PENDING = "pending"  # the inventory did not answer: a job asks again
RESERVED = "reserved"
REFUSED = "refused"  # the stock was short (the key is spent all the same)
RELEASED = "released"
COMMITTED = "committed"
_OPEN = (PENDING, RESERVED)




@dataclass(frozen=True, slots=True)
class Attempt:
    """One reserve call: what was held, what was short ({sku: available})."""

    key: str
    granted: dict[str, int]
    short: dict[str, int]
    deferred: bool = False  # no answer yet: a job asks again


class StockKeeper(Protocol):
    """What Reservations needs of an inventory (orders/inventory.py Inventory has it)."""

    transactional: bool

    async def reserve(self, session: Any, key: str, order: str,
                      items: Mapping[str, int]) -> Any: ...

    async def release(self, session: Any, key: str, order: str,
                      items: Mapping[str, int]) -> None: ...

    async def commit(self, session: Any, key: str, order: str) -> None: ...


def job_key(key: str, step: str) -> str:
    return f"inventory:{key}:{step}"


def items_of(lines: Iterable[Any]) -> dict[str, int]:
    """{sku: quantity} of order lines (a sku on two lines counts once, summed)."""
    items: dict[str, int] = {}
    for line in lines:
        if line.quantity > 0:
            items[line.sku] = items.get(line.sku, 0) + line.quantity
    return items


class Reservations:
    def __init__(self, inventory: StockKeeper,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.inventory = inventory
        self._clock = clock

    async def reserve(
        self, session: AsyncSession, number: str, items: Mapping[str, int]
    ) -> Attempt:
        """Reserve items for the order. A short answer is returned, not raised: confirming
        refuses the order then, a fact from the shop keeps what there is."""
        order_id = await _order_id(session, number)
        taken = await session.scalar(
            select(func.count(StockReservation.id)).where(StockReservation.order_id == order_id))
        key = f"{number}:reserve:{int(taken or 0) + 1}"
        if not items:
            return Attempt(key, {}, {})
        try:
            answer = await self.inventory.reserve(session, key, number, items)
        except InventoryUnavailable:
            if self.inventory.transactional:
                raise
            session.add(StockReservation(order_id=order_id, key=key, items=dict(items),
                                         status=PENDING))
            await schedule(session, RESERVE_JOB, job_key(key, "reserve"), self._clock(),
                           {"number": number, "key": key, "items": dict(items)})
            return Attempt(key, dict(items), {}, deferred=True)
        session.add(StockReservation(
            order_id=order_id, key=key, items=dict(answer.granted),
            status=RESERVED if answer.granted or not answer.short else REFUSED,
            reference=answer.id or None,
        ))
        await session.flush()
        return Attempt(key, dict(answer.granted), dict(answer.short))

    async def rolled_back(self, session: AsyncSession, number: str, attempt: Attempt) -> None:
        """The savepoint around `attempt` was rolled back (short stock, a refused voucher):
        its key stays spent, and what a remote inventory may hold under it is released."""
        order_id = await _order_id(session, number)
        remote = not self.inventory.transactional and (attempt.granted or attempt.deferred)
        session.add(StockReservation(order_id=order_id, key=attempt.key,
                                     items=attempt.granted, status=RELEASED if remote else
                                     REFUSED))
        if remote:
            await self._later(session, RELEASE_JOB, number, attempt.key, attempt.granted)
        await session.flush()

    async def release(self, session: AsyncSession, number: str) -> None:
        """Give back every open reservation of the order."""
        order_id = await _order_id(session, number)
        rows = list(await session.scalars(
            select(StockReservation).where(StockReservation.order_id == order_id)
            .order_by(StockReservation.id)))
        if not rows and self.inventory.transactional:
            # Reserved before reservations had rows: its lines are what was taken.
            lines = await session.scalars(select(OrderLine).where(OrderLine.order_id == order_id))
            await self.inventory.release(session, f"{number}:release:0", number,
                                         items_of(lines))
            return
        for row in rows:
            if row.status not in _OPEN:
                continue
            if row.status == PENDING:
                await cancel(session, job_key(row.key, "reserve"))
            row.status = RELEASED
            if self.inventory.transactional:
                await self.inventory.release(session, row.key, number, row.items)
            else:  # even a pending one: the ERP may have taken the call that timed out
                await self._later(session, RELEASE_JOB, number, row.key, row.items)
        await session.flush()

    async def commit(self, session: AsyncSession, number: str) -> None:
        """The goods left: every open reservation of the order becomes a sale."""
        order_id = await _order_id(session, number)
        rows = await session.scalars(select(StockReservation).where(
            StockReservation.order_id == order_id, StockReservation.status.in_(_OPEN)))
        for row in list(rows):
            row.status = COMMITTED
            if self.inventory.transactional:
                await self.inventory.commit(session, row.key, number)
            else:
                await self._later(session, COMMIT_JOB, number, row.key, row.items)
        await session.flush()

    async def _later(self, session: AsyncSession, kind: str, number: str, key: str,
                     items: Mapping[str, int]) -> None:
        step = kind.removeprefix("inventory_")
        await schedule(session, kind, job_key(key, step), self._clock(),
                       {"number": number, "key": key, "items": dict(items)})


async def _order_id(session: AsyncSession, number: str) -> int:
    order_id = await session.scalar(select(Order.id).where(Order.number == number))
    if order_id is None:
        raise LookupError(f"no order {number}")
    return int(order_id)
