"""The order use cases on real SQLite and PostgreSQL: orders, history, stock, proof of ownership."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from orders.service import (
    DuplicateOrder,
    LineView,
    NewCustomer,
    NewOrder,
    OrderService,
    OrderView,
    OutOfStock,
)
from orders.states import IllegalTransition, OrderStatus
from orders.tables import Order, Product
from storage.database import Database, make_engine
from storage.upgrade import upgrade

service = OrderService()


async def migrated(url: str) -> Database:
    database = Database(make_engine(url))
    await upgrade(database.engine)
    return database


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database (SQLite and PostgreSQL)."""
    database = await migrated(database_url)
    yield database
    await database.dispose()


def new_order(
    number: str,
    *lines: tuple[str, int],
    email: str = "emma@example.com",
    name: str = "Emma Thompson",
    postcode: str = "SW1A 1AA",
) -> NewOrder:
    """An order of (sku, quantity) lines at 12.50 each."""
    return NewOrder(
        number=number,
        customer=NewCustomer(name=name, email=email),
        lines=tuple(LineView(sku, f"item {sku}", quantity, 1250) for sku, quantity in lines),
        currency="eur",
        delivery_address={"street": "10 Downing St", "city": "London", "postcode": postcode},
    )


async def place(database: Database, order: NewOrder) -> OrderView:
    async with database.transaction() as session:
        return await service.create_order(session, order, "test")


async def add_product(database: Database, sku: str, stock: int) -> None:
    async with database.transaction() as session:
        session.add(Product(sku=sku, name=f"item {sku}", price_minor=1250, stock=stock))


async def stock_of(database: Database, sku: str) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(Product.stock).where(Product.sku == sku)))


async def status_of(database: Database, number: str) -> OrderStatus:
    async with database.transaction() as session:
        order = await service.get_order(session, number)
    assert order is not None
    return order.status


async def move(database: Database, number: str, target: OrderStatus, cause: str = "test") -> None:
    async with database.transaction() as session:
        await service.move(session, number, target, cause)


async def test_a_created_order_reads_back_whole(database: Database) -> None:
    order = NewOrder(
        number="A-1",
        customer=NewCustomer(name="Emma Thompson", email=" Emma@Example.com "),
        lines=(LineView("KB-100", "Keyboard", 2, 8900), LineView("CB-500", "Cable", 1, 1199)),
        currency="eur",
        delivery_address={"city": "London", "postcode": "sw1a 1aa"},
    )
    async with database.transaction() as session:
        await service.create_order(session, order, "shop api")
    async with database.transaction() as session:
        found = await service.get_order(session, "A-1")

    assert found is not None
    assert found.status is OrderStatus.PENDING_CONFIRMATION
    assert found.lines == order.lines
    assert (found.total_minor, found.currency) == (2 * 8900 + 1199, "EUR")
    assert (found.customer_name, found.customer_email) == ("Emma Thompson", "emma@example.com")
    assert found.postcode == "SW1A1AA"
    [created] = found.history
    assert (created.from_status, created.to_status, created.cause) == (
        None, "pending_confirmation", "shop api"
    )
    assert created.at.tzinfo is not None


async def test_the_view_s_lines_and_history_are_those_the_tables_hold_in_order(
    database: Database,
) -> None:
    """The view reads lines and history as JSON aggregates: every value, every instant to the
    microsecond (and without one), in the order they were written, as the ORM reads them."""
    skus = [(f"SKU-{n}", n) for n in range(1, 13)]  # past 9 and 10: no text ordering
    await place(database, new_order("A-1", *skus))
    await move(database, "A-1", OrderStatus.CONFIRMED, "zamówienie potwierdzone ✓")
    await move(database, "A-1", OrderStatus.CANCELLED, 'a "quoted" cause')
    async with database.transaction() as session:  # an instant with no microseconds
        await session.execute(text(
            "UPDATE order_history SET at = :at WHERE to_status = 'confirmed'"), {
            "at": "2026-01-02 03:04:05" if database.engine.dialect.name == "sqlite"
            else datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)})
    async with database.transaction() as session:
        found = await service.get_order(session, "A-1")
        stored = await session.scalar(select(Order).where(Order.number == "A-1").options(
            selectinload(Order.lines), selectinload(Order.history)))
        assert stored is not None
        tables = ([LineView(line.sku, line.name, line.quantity, line.unit_price_minor)
                   for line in stored.lines],
                  [(h.from_status, h.to_status, h.cause, h.at) for h in stored.history])

    assert found is not None
    assert list(found.lines) == tables[0] and [line.quantity for line in found.lines] == list(
        range(1, 13))
    assert [(h.from_status, h.to_status, h.cause, h.at) for h in found.history] == tables[1]
    assert [h.cause for h in found.history] == [
        "test", "zamówienie potwierdzone ✓", 'a "quoted" cause']
    assert found.history[1].at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert all(h.at.utcoffset() == timedelta(0) for h in found.history)
    assert found.history[2].at.microsecond == tables[1][2][3].microsecond


async def test_a_duplicate_number_is_refused_and_the_first_order_kept(database: Database) -> None:
    await place(database, new_order("A-1", ("KB-100", 1)))
    with pytest.raises(DuplicateOrder):
        await place(database, new_order("A-1", ("MS-200", 5), email="other@example.com"))
    async with database.transaction() as session:
        assert await service.count_orders(session) == 1
        kept = await service.get_order(session, "A-1")
    assert kept is not None and kept.lines[0].sku == "KB-100"


async def test_a_move_is_recorded_in_the_history(database: Database) -> None:
    await place(database, new_order("A-1", ("KB-100", 1)))
    await move(database, "A-1", OrderStatus.CONFIRMED, "customer confirmed in chat")
    await move(database, "A-1", OrderStatus.CANCELLED, "customer cancelled in chat")
    async with database.transaction() as session:
        order = await service.get_order(session, "A-1")
    assert order is not None and order.status is OrderStatus.CANCELLED
    assert [(h.from_status, h.to_status, h.cause) for h in order.history] == [
        (None, "pending_confirmation", "test"),
        ("pending_confirmation", "confirmed", "customer confirmed in chat"),
        ("confirmed", "cancelled", "customer cancelled in chat"),
    ]


async def test_an_illegal_move_changes_nothing(database: Database) -> None:
    await place(database, new_order("A-1", ("KB-100", 1)))
    await move(database, "A-1", OrderStatus.CANCELLED)
    with pytest.raises(IllegalTransition) as refused:
        await move(database, "A-1", OrderStatus.SHIPPED)
    assert (refused.value.current, refused.value.target) == (
        OrderStatus.CANCELLED, OrderStatus.SHIPPED
    )
    async with database.transaction() as session:
        order = await service.get_order(session, "A-1")
    assert order is not None and order.status is OrderStatus.CANCELLED
    assert len(order.history) == 2


async def test_confirming_reserves_stock_and_cancelling_gives_it_back(database: Database) -> None:
    await add_product(database, "KB-100", 10)
    await place(database, new_order("A-1", ("KB-100", 3)))
    await move(database, "A-1", OrderStatus.CONFIRMED)
    assert await stock_of(database, "KB-100") == 7
    await move(database, "A-1", OrderStatus.CANCELLED)
    assert await stock_of(database, "KB-100") == 10


async def test_cancelling_an_unconfirmed_order_adds_no_stock(database: Database) -> None:
    await add_product(database, "KB-100", 10)
    await place(database, new_order("A-1", ("KB-100", 3)))
    await move(database, "A-1", OrderStatus.CANCELLED)
    assert await stock_of(database, "KB-100") == 10


async def test_confirming_with_too_little_stock_changes_no_stock(database: Database) -> None:
    """The first line's reservation is rolled back when the second line cannot be served."""
    await add_product(database, "KB-100", 10)
    await add_product(database, "MS-210", 1)
    await place(database, new_order("A-1", ("KB-100", 2), ("MS-210", 3)))
    with pytest.raises(OutOfStock) as refused:
        await move(database, "A-1", OrderStatus.CONFIRMED)
    assert refused.value.skus == ("MS-210",)
    assert "MS-210" in str(refused.value)
    assert await stock_of(database, "KB-100") == 10
    assert await stock_of(database, "MS-210") == 1
    assert await status_of(database, "A-1") is OrderStatus.PENDING_CONFIRMATION


async def test_concurrent_confirmations_never_oversell(database: Database) -> None:
    """5 units, 20 one-unit orders confirmed at once, each in its own transaction."""
    await add_product(database, "HD-300", 5)
    numbers = [f"A-{n}" for n in range(1, 21)]
    for number in numbers:
        await place(database, new_order(number, ("HD-300", 1)))

    async def confirm(number: str) -> str:
        try:
            await move(database, number, OrderStatus.CONFIRMED)
        except OutOfStock:
            return "out_of_stock"
        return "confirmed"

    outcomes = await asyncio.gather(*(confirm(number) for number in numbers))

    assert outcomes.count("confirmed") == 5
    assert outcomes.count("out_of_stock") == 15
    assert await stock_of(database, "HD-300") == 0
    statuses = [await status_of(database, number) for number in numbers]
    assert statuses.count(OrderStatus.CONFIRMED) == 5
    assert statuses.count(OrderStatus.PENDING_CONFIRMATION) == 15


async def test_the_right_proof_shows_the_order(database: Database) -> None:
    """The email in any case, the postcode with or without spaces and dashes."""
    await place(database, new_order("A-1", ("KB-100", 1)))
    async with database.transaction() as session:
        for proof in ["emma@example.com", "  EMMA@Example.COM", "SW1A 1AA", "sw1a1aa", "sw1a-1aa"]:
            order = await service.verified_order(session, "A-1", [proof])
            assert order is not None and order.number == "A-1", proof


async def test_a_wrong_proof_and_an_unknown_number_look_the_same(database: Database) -> None:
    await place(database, new_order("A-1", ("KB-100", 1)))
    async with database.transaction() as session:
        assert await service.verified_order(session, "A-1", ["james@example.com"]) is None
        assert await service.verified_order(session, "A-1", ["M1 1AE"]) is None
        assert await service.verified_order(session, "A-1", [""]) is None
        assert await service.verified_order(session, "A-404", ["emma@example.com"]) is None
        assert await service.verified_order(session, "A-404", ["SW1A 1AA"]) is None
        # one right proof among wrong ones is enough
        assert await service.verified_order(session, "A-1", ["M1 1AE", "sw1a 1aa"]) is not None


async def test_a_proof_in_any_script_is_just_wrong(database: Database) -> None:
    """A customer may answer "what is your postcode?" with any short text, in any alphabet."""
    await place(database, new_order("A-1", ("KB-100", 1), postcode="101000"))
    async with database.transaction() as session:
        for proof in ["Москва", "Kraków", "не знаю", "ул. Ленина"]:
            assert await service.verified_order(session, "A-1", [proof]) is None, proof
            assert await service.verified_order(session, "A-1", [proof, "101000"]) is not None


async def test_a_customer_sees_only_their_orders_newest_first(database: Database) -> None:
    for number, email in [
        ("A-1", "emma@example.com"),
        ("B-1", "james@example.com"),
        ("A-2", "EMMA@example.com"),
        ("B-2", "james@example.com"),
        ("A-3", "emma@example.com"),
    ]:
        await place(database, new_order(number, ("KB-100", 1), email=email))
    async with database.transaction() as session:
        emma = await service.get_order(session, "A-1")
        james = await service.get_order(session, "B-1")
        assert emma is not None and james is not None
        emmas = await service.orders_of_customer(session, emma.customer_id)
        jamess = await service.orders_of_customer(session, james.customer_id)
    assert [order.number for order in emmas] == ["A-3", "A-2", "A-1"]
    assert [order.number for order in jamess] == ["B-2", "B-1"]


async def until_a_transaction_waits_for_a_lock(database: Database, task: asyncio.Task[Any]) -> None:
    """Poll PostgreSQL until some transaction of this database waits for a row lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    async def poll() -> None:
        while not task.done():
            async with database.engine.connect() as connection:
                if await connection.scalar(query):
                    return

    await asyncio.wait_for(poll(), 10)


async def test_two_first_orders_of_a_new_customer_at_once(postgres_url: str) -> None:
    database = await migrated(postgres_url)
    try:
        async with database.transaction() as session:
            first = await service.create_order(
                session, new_order("A-1", ("KB-100", 1), email="new@example.com"), "test"
            )
            second = asyncio.create_task(
                place(database, new_order("A-2", ("KB-100", 1), email="NEW@example.com"))
            )
            await until_a_transaction_waits_for_a_lock(database, second)
        later = await second
        assert later.customer_id == first.customer_id
    finally:
        await database.dispose()
