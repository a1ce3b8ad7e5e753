"""Confirmation rules on SQLite and PostgreSQL: confirm once, never oversell the last item,
vouchers single-use, decline releases, delivery changes only until shipping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

import schema  # noqa: F401  (every table)
from adapters.inventory.local import LocalInventory
from adapters.vouchers.local import LocalVouchers
from orders.confirmation import Confirmation, ConfirmationPlan, NotPending
from orders.delivery import (
    AlreadyShipped,
    BadDelivery,
    DeliveryPlan,
    change_delivery,
    split_address,
)
from orders.service import LineView, NewCustomer, NewOrder, OrderService, OutOfStock
from orders.states import OrderStatus
from orders.tables import Backorder, Product, Voucher
from orders.vouchers import VoucherRefused
from storage.database import Database, make_engine
from storage.upgrade import upgrade

SERVICE = OrderService()
CONFIRMATION = Confirmation(SERVICE)
PLAN = ConfirmationPlan(delivery_method="courier", payment_method="card",
                        delivery_date=date(2026, 11, 25), delivery_slot="09:00-12:00")
TODAY = date(2026, 11, 24)
SLOTS = ("09:00-12:00", "12:00-15:00")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(make_engine(database_url))
    await upgrade(database.engine)
    async with database.transaction() as session:
        session.add(Product(sku="LAST-1", name="Last one", category="x", price_minor=1000,
                            stock=1))
        session.add(Product(sku="OUT-1", name="Gone", category="x", price_minor=1000, stock=0,
                            expected_date=date(2026, 12, 1)))
        session.add(Voucher(code="ONCE10", percent_off=10, amount_off_minor=0,
                            min_total_minor=0, single_use=True))
    yield database
    await database.dispose()


async def new_order(database: Database, number: str, sku: str = "LAST-1") -> None:
    async with database.transaction() as session:
        await SERVICE.create_order(session, NewOrder(
            number=number, customer=NewCustomer(name="C", email=f"{number}@example.com"),
            lines=(LineView(sku, "Item", 1, 1000),), currency="EUR",
        ), "test")


async def stock(database: Database, sku: str) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(Product.stock).where(Product.sku == sku)) or 0)


async def confirm(database: Database, number: str, plan: ConfirmationPlan = PLAN) -> str:
    try:
        async with database.transaction() as session:
            await CONFIRMATION.confirm(session, number, plan, LocalVouchers(), TODAY)
        return "confirmed"
    except OutOfStock:
        return "out of stock"
    except NotPending:
        return "not pending"


async def test_concurrent_confirmations_of_the_last_item_sell_it_once(
    database_url: str, database: Database,
) -> None:
    await new_order(database, "R-1")
    await new_order(database, "R-2")
    other = Database(make_engine(database_url))  # a second process
    try:
        results = await asyncio.gather(confirm(database, "R-1"), confirm(other, "R-2"))
    finally:
        await other.dispose()
    assert sorted(results) == ["confirmed", "out of stock"]
    assert await stock(database, "LAST-1") == 0
    async with database.transaction() as session:
        statuses = sorted([(await SERVICE.get_order(session, n)).status for n in ("R-1", "R-2")])
    assert statuses == [OrderStatus.CONFIRMED, OrderStatus.PENDING_CONFIRMATION]


async def test_a_double_confirm_confirms_nothing_twice(database: Database) -> None:
    await new_order(database, "R-3", "OUT-1")
    async with database.transaction() as session:
        await CONFIRMATION.wait_for(session, "R-3", "OUT-1", 1, date(2026, 12, 1))
    assert await asyncio.gather(confirm(database, "R-3"), confirm(database, "R-3")) in (
        ["confirmed", "not pending"], ["not pending", "confirmed"])
    async with database.transaction() as session:
        order = await SERVICE.get_order(session, "R-3")
    assert order is not None
    assert [h.to_status for h in order.history].count("confirmed") == 1
    assert (order.delivery_slot, order.delivery_date) == ("09:00-12:00", date(2026, 11, 25))


async def test_out_of_stock_keeps_nothing_of_the_confirmation(database: Database) -> None:
    await new_order(database, "R-4", "OUT-1")
    assert await confirm(database, "R-4") == "out of stock"
    async with database.transaction() as session:
        order = await SERVICE.get_order(session, "R-4")
    assert order is not None and order.status is OrderStatus.PENDING_CONFIRMATION


async def test_a_single_use_voucher_works_once(database: Database) -> None:
    await new_order(database, "R-5")
    await new_order(database, "R-6", "OUT-1")
    with_code = replace(PLAN, voucher_code="ONCE10", discount_minor=100)
    assert await confirm(database, "R-5", with_code) == "confirmed"
    async with database.transaction() as session:
        order = await SERVICE.get_order(session, "R-5")
        assert order is not None and (order.total_minor, order.voucher_code) == (900, "ONCE10")
        with pytest.raises(VoucherRefused) as refused:
            await LocalVouchers().quote(session, "once10", 1000, "EUR", TODAY)
        assert refused.value.reason == "used"
        with pytest.raises(VoucherRefused):
            await LocalVouchers().redeem(session, "ONCE10", "R-6", TODAY)


async def test_voucher_misuse_is_refused_with_its_reason(database: Database) -> None:
    vouchers = LocalVouchers()
    async with database.transaction() as session:
        session.add(Voucher(code="OLD", percent_off=10, amount_off_minor=0, min_total_minor=0,
                            valid_until=TODAY - timedelta(days=1), single_use=False))
        session.add(Voucher(code="BIG", percent_off=0, amount_off_minor=500,
                            min_total_minor=5000, single_use=False))
        await session.flush()
        for code, reason in (("NOPE", "unknown"), ("OLD", "expired"), ("BIG", "below_minimum")):
            with pytest.raises(VoucherRefused) as refused:
                await vouchers.quote(session, code, 1000, "EUR", TODAY)
            assert refused.value.reason == reason
        assert (await vouchers.quote(session, "big", 6000, "EUR", TODAY)).discount_minor == 500


async def test_decline_cancels_and_releases_the_backorder(database: Database) -> None:
    await new_order(database, "R-7", "OUT-1")
    async with database.transaction() as session:
        await CONFIRMATION.wait_for(session, "R-7", "OUT-1", 1, date(2026, 12, 1))
        await CONFIRMATION.decline(session, "R-7", "customer declined")
        statuses = list(await session.scalars(select(Backorder.status)))
        with pytest.raises(NotPending):
            await CONFIRMATION.decline(session, "R-7", "again")
    assert statuses == ["released"]


async def test_delivery_changes_until_shipped_and_is_checked(database: Database) -> None:
    await new_order(database, "R-8")
    inventory = LocalInventory()
    async with database.transaction() as session:
        with pytest.raises(BadDelivery):  # a Saturday
            await change_delivery(session, SERVICE, inventory, "R-8", DeliveryPlan(
                "courier", date(2026, 11, 28), "09:00-12:00"), SLOTS, TODAY)
        with pytest.raises(BadDelivery):  # not one of the shop's slots
            await change_delivery(session, SERVICE, inventory, "R-8", DeliveryPlan(
                "courier", date(2026, 11, 27), "06:00-07:00"), SLOTS, TODAY)
        with pytest.raises(BadDelivery):  # one item in stock: no store has half of it
            await change_delivery(session, SERVICE, inventory, "R-8", DeliveryPlan(
                "store", pickup_location="WAW-1"), SLOTS, TODAY)
        changed = await change_delivery(session, SERVICE, inventory, "R-8", DeliveryPlan(
            "courier", date(2026, 11, 27), "12:00-15:00"), SLOTS, TODAY)
        assert changed.delivery_slot == "12:00-15:00"
        await SERVICE.move(session, "R-8", OrderStatus.CONFIRMED, "t")
        await SERVICE.move(session, "R-8", OrderStatus.SHIPPED, "t", tracking_url="https://t/1")
        with pytest.raises(AlreadyShipped) as shipped:
            await change_delivery(session, SERVICE, inventory, "R-8", DeliveryPlan(
                "courier", date(2026, 11, 27), "09:00-12:00"), SLOTS, TODAY)
    assert shipped.value.order.tracking_url == "https://t/1"


async def test_a_new_address_replaces_the_old_and_its_postcode_proves_the_order(
    database: Database,
) -> None:
    await new_order(database, "R-9")
    async with database.transaction() as session:
        await change_delivery(
            session, SERVICE, LocalInventory(), "R-9", None, SLOTS, TODAY,
            address=split_address("ul. Marszałkowska 10, 00-001 Warszawa", "00-001"),
        )
        changed = await SERVICE.get_order(session, "R-9")
        assert changed is not None and changed.delivery_address == {
            "street": "ul. Marszałkowska 10", "city": "Warszawa", "postcode": "00-001"}
        assert await SERVICE.verified_order(session, "R-9", ["00 001"]) is not None


def test_an_address_on_one_line_is_split_around_its_postcode() -> None:
    assert split_address("10 Downing St, London SW1A 2AA", "SW1A 2AA") == {
        "street": "10 Downing St", "city": "London", "postcode": "SW1A 2AA"}
    assert split_address("ул. Баумана, 8, Казань, 420000", "420000") == {
        "street": "ул. Баумана, 8", "city": "Казань", "postcode": "420000"}
    assert split_address("Main Street 5", "") == {
        "street": "Main Street 5", "city": "", "postcode": ""}
