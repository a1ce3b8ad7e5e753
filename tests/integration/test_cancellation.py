"""Cancelling at the customer's request, on SQLite and PostgreSQL: until shipping only, stock
back once, a refund started (and recorded) for a paid order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import update

from adapters.payments.local import LocalPayments
from orders.cancellation import AlreadyCancelled, AlreadyShipped, cancel_order
from orders.payments import PaymentFailed
from orders.service import OrderService, OrderView, UnknownOrder
from orders.states import OrderStatus
from orders.tables import Order
from storage.database import Database
from tests.integration.test_order_service import (
    add_product,
    migrated,
    move,
    new_order,
    place,
    status_of,
    stock_of,
)

service = OrderService()
payments = LocalPayments("http://shop.test")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await migrated(database_url)
    yield database
    await database.dispose()


async def confirmed_order(database: Database, number: str = "A-1", paid: bool = True) -> None:
    await add_product(database, "KB-100", 10)
    await place(database, replace(
        new_order(number, ("KB-100", 3)), payment_status="paid" if paid else "pending"
    ))
    await move(database, number, OrderStatus.CONFIRMED)


async def cancel(database: Database, number: str = "A-1", with_payments: object = payments):
    async with database.transaction() as session:
        return await cancel_order(session, service, with_payments, number, "customer in chat")


async def test_confirmed_paid_order_releases_stock_and_starts_a_refund(database: Database) -> None:
    await confirmed_order(database)
    assert await stock_of(database, "KB-100") == 7
    done = await cancel(database)
    assert done.order.status is OrderStatus.CANCELLED
    assert await stock_of(database, "KB-100") == 10
    assert done.refunded_minor == 3 * 1250 and done.refund_id is not None
    assert done.order.refunded_minor == 3 * 1250
    causes = [entry.cause for entry in done.order.history]
    assert causes[-2:] == ["customer in chat", f"refund started: {done.refund_id}"]


async def test_pending_unpaid_order_is_cancelled_without_refund_or_stock_change(
    database: Database,
) -> None:
    await add_product(database, "KB-100", 10)
    await place(database, new_order("A-1", ("KB-100", 3)))
    done = await cancel(database)
    assert done.order.status is OrderStatus.CANCELLED
    assert (done.refunded_minor, done.refund_id, done.order.refunded_minor) == (0, None, 0)
    assert await stock_of(database, "KB-100") == 10  # nothing was reserved


async def test_unpaid_confirmed_order_gets_stock_back_but_no_refund(database: Database) -> None:
    await confirmed_order(database, paid=False)
    done = await cancel(database)
    assert done.refund_id is None
    assert await stock_of(database, "KB-100") == 10


async def test_after_shipping_cancelling_is_refused_and_nothing_changes(
    database: Database,
) -> None:
    await confirmed_order(database)
    await move(database, "A-1", OrderStatus.SHIPPED)
    with pytest.raises(AlreadyShipped) as refused:
        await cancel(database)
    assert refused.value.status is OrderStatus.SHIPPED
    assert await status_of(database, "A-1") is OrderStatus.SHIPPED
    assert await stock_of(database, "KB-100") == 7


async def test_cancelling_twice_releases_the_stock_once(database: Database) -> None:
    await confirmed_order(database)
    await cancel(database)
    with pytest.raises(AlreadyCancelled):
        await cancel(database)
    assert await stock_of(database, "KB-100") == 10


async def test_concurrent_cancellations_release_and_refund_once(database: Database) -> None:
    await confirmed_order(database)
    refunds: list[int] = []

    class CountingPayments(LocalPayments):
        async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
            refunds.append(amount_minor)
            return await super().refund(order, amount_minor, reason)

    outcomes = await asyncio.gather(
        *(cancel(database, with_payments=CountingPayments("http://shop.test")) for _ in range(2)),
        return_exceptions=True,
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "AlreadyCancelled", "Cancellation"
    ]
    assert await stock_of(database, "KB-100") == 10
    assert refunds == [3 * 1250]


async def test_a_refund_the_provider_refuses_is_left_for_a_person(database: Database) -> None:
    class RefusingPayments(LocalPayments):
        async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
            raise PaymentFailed("card expired")

    await confirmed_order(database)
    done = await cancel(database, with_payments=RefusingPayments("http://shop.test"))
    assert done.order.status is OrderStatus.CANCELLED and done.refund_failed
    assert done.order.refunded_minor == 0
    assert done.order.history[-1].cause == "refund failed: to be refunded by hand"


async def test_partly_refunded_order_gets_the_rest(database: Database) -> None:
    await confirmed_order(database)
    async with database.transaction() as session:
        await session.execute(update(Order).where(Order.number == "A-1").values(refunded_minor=750))
    done = await cancel(database)
    assert done.refunded_minor == 3 * 1250 - 750
    assert done.order.refunded_minor == 3 * 1250


async def test_unknown_order(database: Database) -> None:
    with pytest.raises(UnknownOrder):
        await cancel(database, "A-404")
