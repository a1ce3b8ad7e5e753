"""Confirming a new order: the rules the confirmation conversation calls.

- lines can be swapped for an alternative or removed while the order waits for confirmation;
- a line that is out of stock can wait for the incoming stock: a backorder reserves it;
- confirming moves pending_confirmation -> confirmed exactly once (a conditional update, so a
  double or concurrent confirm confirms nothing twice), reserves the other lines at the
  inventory (orders/reservations.py; the shop's own table never oversells), writes the
  chosen delivery, payment and voucher, and recomputes the total; everything or nothing
  (a savepoint);
- declining cancels the order and releases its backorders;
- one accessory is offered per order, ever (a row per order).

The protocols of the systems it needs live in orders/inventory.py, orders/credit_check.py and
orders/vouchers.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from orders.changes import ORDER_CANCELLED, ORDER_CONFIRMED, confirmed
from orders.documents import save_document
from orders.inventory import StockLevel
from orders.reservations import Attempt, items_of
from orders.service import OrderError, OrderService, OrderView, OutOfStock, UnknownOrder
from orders.states import IllegalTransition, OrderStatus, check_move
from orders.tables import Backorder, CrossSellOffer, Order, OrderHistory, OrderLine
from orders.vouchers import Vouchers
from storage.clock import utcnow
from storage.database import insert_unless_exists


class NotPending(OrderError):
    """The order is no longer waiting for confirmation (confirmed, cancelled, ...)."""

    def __init__(self, number: str, status: OrderStatus) -> None:
        super().__init__(f"order {number} is {status}")
        self.number = number
        self.status = status


class LastLine(OrderError):
    """Removing this line would leave the order empty: decline the order instead."""


@dataclass(frozen=True, slots=True)
class ConfirmationPlan:
    """What the customer chose in the conversation."""

    delivery_method: str  # courier | pickup_point | store
    payment_method: str  # card | bank_transfer | cash_on_delivery
    delivery_date: date | None = None
    delivery_slot: str | None = None
    pickup_location: str | None = None
    voucher_code: str | None = None
    discount_minor: int = 0


class Confirmation:
    """The confirmation use cases; each works in the caller's transaction."""

    def __init__(self, orders: OrderService) -> None:
        self._orders = orders

    async def missing(
        self, session: AsyncSession, order: OrderView, levels: dict[str, StockLevel]
    ) -> list[tuple[str, int, StockLevel]]:
        """(sku, quantity, level) of each line not in stock and not waiting for stock."""
        waiting = set(await self.waiting_skus(session, order.number))
        return [
            (line.sku, line.quantity, levels[line.sku])
            for line in order.lines
            if line.sku in levels and line.sku not in waiting
            and levels[line.sku].available < line.quantity
        ]

    async def waiting_skus(self, session: AsyncSession, number: str) -> list[str]:
        return list(await session.scalars(
            select(Backorder.sku).join(Order, Order.id == Backorder.order_id)
            .where(Order.number == number, Backorder.status == "reserved")
        ))

    async def replace_line(
        self, session: AsyncSession, number: str, sku: str, alternative: StockLevel
    ) -> OrderView:
        order = await self._pending(session, number)
        for line in order.lines:
            if line.sku == sku:
                line.sku, line.name = alternative.sku, alternative.name
                line.unit_price_minor = alternative.price_minor
        _retotal(order)
        await session.flush()
        return await self._view(session, number)

    async def remove_line(self, session: AsyncSession, number: str, sku: str) -> OrderView:
        order = await self._pending(session, number)
        keep = [line for line in order.lines if line.sku != sku]
        if not keep:
            raise LastLine(number)
        await session.execute(delete(OrderLine).where(
            OrderLine.order_id == order.id, OrderLine.sku == sku
        ))
        order.lines = keep
        _retotal(order)
        await session.flush()
        return await self._view(session, number)

    async def add_line(
        self, session: AsyncSession, number: str, product: StockLevel, quantity: int = 1
    ) -> OrderView:
        order = await self._pending(session, number)
        order.lines.append(OrderLine(sku=product.sku, name=product.name, quantity=quantity,
                                     unit_price_minor=product.price_minor))
        _retotal(order)
        await session.flush()
        return await self._view(session, number)

    async def wait_for(
        self, session: AsyncSession, number: str, sku: str, quantity: int,
        expected_date: date | None,
    ) -> None:
        """Reserve the incoming stock of a line for this order (once per line)."""
        order = await self._pending(session, number)
        if sku in await self.waiting_skus(session, number):
            return
        session.add(Backorder(order_id=order.id, sku=sku, quantity=quantity,
                              expected_date=expected_date))
        await session.flush()

    async def offer_once(self, session: AsyncSession, number: str, sku: str) -> bool:
        """Record that an accessory is offered for this order; False if one was before."""
        order = await self._load(session, number)
        values = {"order_id": order.id, "sku": sku, "offered_at": utcnow()}
        return await insert_unless_exists(
            session, CrossSellOffer.__table__, values, "order_id"
        ) is not None

    async def confirm(
        self, session: AsyncSession, number: str, plan: ConfirmationPlan,
        vouchers: Vouchers | None = None, today: date | None = None,
    ) -> OrderView:
        """pending_confirmation -> confirmed with the plan; NotPending if decided already,
        OutOfStock if a line is no longer there (then nothing of it is kept)."""
        reservations = self._orders.reservations
        attempt: Attempt | None = None
        try:
            async with session.begin_nested():
                order = await self._load(session, number)
                claimed = await session.execute(
                    update(Order)
                    .where(Order.id == order.id,
                           Order.status == OrderStatus.PENDING_CONFIRMATION)
                    .values(status=OrderStatus.CONFIRMED)
                )
                if not getattr(claimed, "rowcount", 0):
                    raise NotPending(number, OrderStatus((await session.execute(
                        select(Order.status).where(Order.id == order.id)
                    )).scalar_one()))
                waiting = set(await self.waiting_skus(session, number))
                attempt = await reservations.reserve(session, number, items_of(
                    line for line in order.lines if line.sku not in waiting))
                if attempt.short:
                    raise OutOfStock(list(attempt.short))
                if plan.voucher_code and vouchers is not None:
                    await vouchers.redeem(session, plan.voucher_code, number,
                                          today or date.today())
                await session.execute(
                    update(Order).where(Order.id == order.id).values(
                        delivery_method=plan.delivery_method,
                        delivery_date=plan.delivery_date,
                        delivery_slot=plan.delivery_slot,
                        pickup_location=plan.pickup_location,
                        payment_method=plan.payment_method,
                        voucher_code=plan.voucher_code,
                        discount_minor=plan.discount_minor,
                        total_minor=max(_lines_total(order) - plan.discount_minor, 0),
                        updated_at=utcnow(),
                    )
                )
                session.add(OrderHistory(
                    order_id=order.id, from_status=OrderStatus.PENDING_CONFIRMATION,
                    to_status=OrderStatus.CONFIRMED, cause="customer confirmed",
                ))
                await session.flush()
        except Exception:
            if attempt is not None:  # nothing of it is kept: nor what the inventory holds
                await reservations.rolled_back(session, number, attempt)
            raise
        view = await self._view(session, number)
        await self._orders.changes.record(session, ORDER_CONFIRMED, order=view,
                                          data=confirmed(view))
        return view

    async def decline(self, session: AsyncSession, number: str, cause: str) -> OrderView:
        """Cancel a pending order and release what was reserved for it."""
        order = await self._load(session, number)
        current = OrderStatus(order.status)
        if current is not OrderStatus.PENDING_CONFIRMATION:
            raise NotPending(number, current)
        view = await self._orders.move(session, number, OrderStatus.CANCELLED, cause)
        await self.release_backorders(session, number)
        await self._orders.changes.record(session, ORDER_CANCELLED, order=view,
                                          data={"reason": "declined", "refund": None})
        return view

    async def release_backorders(self, session: AsyncSession, number: str) -> int:
        """Release the incoming stock reserved for an order (decline, cancel)."""
        order_id = select(Order.id).where(Order.number == number).scalar_subquery()
        result = await session.execute(
            update(Backorder).where(Backorder.order_id == order_id,
                                    Backorder.status == "reserved").values(status="released")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def save_document(self, session: AsyncSession, number: str, content: bytes) -> str:
        """Store the confirmation PDF of an order; the document's token."""
        order = await self._load(session, number)
        return await save_document(session, order.id, "confirmation",
                                   f"confirmation-{number}.pdf", content)

    async def _view(self, session: AsyncSession, number: str) -> OrderView:
        view = await self._orders.get_order(session, number)
        if view is None:
            raise UnknownOrder(number)
        return view

    async def _pending(self, session: AsyncSession, number: str) -> Order:
        order = await self._load(session, number)
        try:
            check_move(OrderStatus(order.status), OrderStatus.CONFIRMED)
        except IllegalTransition:
            raise NotPending(number, OrderStatus(order.status)) from None
        return order

    async def _load(self, session: AsyncSession, number: str) -> Order:
        order = await session.scalar(
            select(Order).where(Order.number == number)
            .options(selectinload(Order.lines)).execution_options(populate_existing=True)
        )
        if order is None:
            raise UnknownOrder(number)
        return order


def _lines_total(order: Order) -> int:
    return sum(line.quantity * line.unit_price_minor for line in order.lines)


def _retotal(order: Order) -> None:
    order.total_minor = max(_lines_total(order) - (order.discount_minor or 0), 0)


@dataclass(frozen=True, slots=True)
class ConfirmationSettings:
    """The shop's settings the confirmation and delivery conversations follow."""

    base_url: str
    delivery_slots: tuple[str, ...]
    cod_credit_check_above: int  # whole currency units
    reminder_minutes: int
    escalation_minutes: int
    clock: Callable[[], datetime] = utcnow
