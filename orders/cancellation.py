"""Cancelling an order at the customer's request: allowed until it ships.

The status flips with a conditional update (only the request that sees the order still
pending or confirmed wins), so two cancellations at once release the stock once. A confirmed
order had its stock reserved: its line quantities go back. A paid order gets its refund
started through the payment provider; the refund id is kept in the order's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.changes import ORDER_CANCELLED
from orders.payments import PaymentFailed, Payments
from orders.service import OrderError, OrderService, OrderView, UnknownOrder
from orders.states import OrderStatus, check_move
from orders.tables import Order, OrderHistory
from storage.clock import utcnow

CANCELLABLE = frozenset({OrderStatus.PENDING_CONFIRMATION, OrderStatus.CONFIRMED})
SHIPPED_OR_LATER = frozenset({
    OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURN_REQUESTED,
    OrderStatus.RETURNED,
})


class AlreadyShipped(OrderError):
    """Too late to cancel: the parcel has left (a return is the way now)."""

    def __init__(self, number: str, status: OrderStatus) -> None:
        super().__init__(f"order {number} is {status}")
        self.status = status


class AlreadyCancelled(OrderError):
    pass


@dataclass(frozen=True, slots=True)
class Cancellation:
    order: OrderView
    refunded_minor: int = 0  # the refund started now (0: nothing was paid)
    refund_id: str | None = None
    refund_failed: bool = False  # paid, but the provider refused: a person must refund


async def cancel_order(
    session: AsyncSession,
    orders: OrderService,
    payments: Payments | None,
    number: str,
    cause: str,
) -> Cancellation:
    """Cancel the order (AlreadyShipped, AlreadyCancelled, UnknownOrder if not possible)."""
    order = await orders.get_order(session, number)
    if order is None:
        raise UnknownOrder(number)
    if order.status in SHIPPED_OR_LATER:
        raise AlreadyShipped(number, order.status)
    if order.status is OrderStatus.CANCELLED:
        raise AlreadyCancelled(number)
    check_move(order.status, OrderStatus.CANCELLED)
    order_id = await session.scalar(
        update(Order)
        .where(Order.number == number, Order.status == order.status.value)
        .values(status=OrderStatus.CANCELLED.value, updated_at=utcnow())
        .returning(Order.id)
    )
    if order_id is None:  # changed since we looked: tell what it is now
        return await cancel_order(session, orders, payments, number, cause)
    if order.status is OrderStatus.CONFIRMED:
        await orders.reservations.release(session, number)
    session.add(OrderHistory(
        order_id=order_id, from_status=order.status.value,
        to_status=OrderStatus.CANCELLED.value, cause=cause,
    ))
    await session.flush()
    due = order.total_minor - order.refunded_minor
    if order.payment_status != "paid" or due <= 0 or payments is None:
        done = Cancellation(await _view(session, orders, number))
    else:
        done = await _refund(session, orders, payments, order, order_id, due)
    refund = None if not (done.refund_id or done.refund_failed) else {
        "amount": done.refunded_minor / 100, "id": done.refund_id, "failed": done.refund_failed}
    await orders.changes.record(session, ORDER_CANCELLED, order=done.order,
                                data={"reason": cause, "refund": refund})
    return done


async def _refund(
    session: AsyncSession, orders: OrderService, payments: Payments, order: OrderView,
    order_id: int, amount: int,
) -> Cancellation:
    cancelled = OrderStatus.CANCELLED.value
    try:
        refund_id = await payments.refund(order, amount, "order cancelled")
    except PaymentFailed:
        session.add(OrderHistory(
            order_id=order_id, from_status=cancelled, to_status=cancelled,
            cause="refund failed: to be refunded by hand",
        ))
        await session.flush()
        return Cancellation(await _view(session, orders, order.number), refund_failed=True)
    await session.execute(
        update(Order).where(Order.id == order_id)
        .values(refunded_minor=Order.refunded_minor + amount)
    )
    session.add(OrderHistory(
        order_id=order_id, from_status=cancelled, to_status=cancelled,
        cause=f"refund started: {refund_id}"[:200],
    ))
    await session.flush()
    return Cancellation(await _view(session, orders, order.number), amount, refund_id)


async def _view(session: AsyncSession, orders: OrderService, number: str) -> OrderView:
    view = await orders.get_order(session, number)
    assert view is not None
    return view
