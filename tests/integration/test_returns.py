"""Returns in the order core, on SQLite and PostgreSQL: the window edges, what may go back,
the RMA number and label, and the refund when the parcel arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from orders.payments import PaymentFailed
from orders.returns import BadReturnRequest, ReturnDesk, ReturnPolicy, ReturnRefusal, ReturnRefused
from orders.service import LineView, NewCustomer, NewOrder, OrderService, OrderView
from orders.states import IllegalTransition, OrderStatus
from orders.tables import Document, Order, Product, ReturnRefund
from storage.database import Database, make_engine
from storage.upgrade import upgrade

DELIVERED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SOON = DELIVERED_AT + timedelta(days=2)
LINES = (
    LineView("MG-810", "Coffee mug", 3, 1500),
    LineView("GC-930", "Gift card 50 EUR", 1, 5000),
    LineView("LM-800", "Desk lamp", 1, 3900),
)


class RecordingPayments:
    def __init__(self, fail: bool = False) -> None:
        self.refunds: list[tuple[str, int, str]] = []
        self.fail = fail

    async def payment_link(self, order: OrderView) -> str:
        return "https://pay.example/x"

    async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
        if self.fail:
            raise PaymentFailed("provider unreachable")
        self.refunds.append((order.number, amount_minor, reason))
        return f"refund-{len(self.refunds)}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(make_engine(database_url))
    await upgrade(database.engine)
    async with database.transaction() as session:
        session.add_all([
            Product(sku="MG-810", name="Coffee mug", category="home", price_minor=1500),
            Product(sku="GC-930", name="Gift card 50 EUR", category="gift_cards",
                    price_minor=5000, returnable=False),
            Product(sku="LM-800", name="Desk lamp", category="home", price_minor=3900),
        ])
    yield database
    await database.dispose()


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


@pytest.fixture
def service() -> OrderService:
    return OrderService()


@pytest.fixture
def desk(service: OrderService, payments: RecordingPayments) -> ReturnDesk:
    desk = ReturnDesk(service, payments, shop_name="Test Shop", base_url="http://shop.test",
                      policy=ReturnPolicy(window_days=14))
    service.return_receiver = desk
    return desk


async def delivered_order(
    database: Database, number: str = "A-1", paid: bool = True, status: str = "delivered"
) -> None:
    service = OrderService()
    async with database.transaction() as session:
        await service.create_order(session, NewOrder(
            number=number, customer=NewCustomer("Emma", f"{number.lower()}@example.com"),
            lines=LINES, currency="EUR",
            delivery_address={"street": "1 High St", "city": "London", "postcode": "SW1A 1AA"},
            payment_status="paid" if paid else "pending",
        ), "test")
        await session.execute(update(Order).where(Order.number == number).values(
            status=status, delivered_at=DELIVERED_AT if status != "shipped" else None))


def test_window_counts_calendar_days_in_the_shops_time_zone() -> None:
    policy = ReturnPolicy(window_days=14, timezone="Europe/Warsaw")
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Warsaw
    assert policy.last_day(late_evening).isoformat() == "2026-03-16"
    assert policy.is_open(late_evening, datetime(2026, 3, 16, 22, 59, tzinfo=UTC))  # 23:59 local
    assert not policy.is_open(late_evening, datetime(2026, 3, 16, 23, 0, tzinfo=UTC))


@pytest.mark.parametrize(("days", "refusal"), [
    (0, None), (14, None), (15, ReturnRefusal.WINDOW_CLOSED),
])
async def test_day_14_after_delivery_is_in_and_day_15_is_out(
    database: Database, desk: ReturnDesk, days: int, refusal: ReturnRefusal | None
) -> None:
    await delivered_order(database)
    day = DELIVERED_AT.replace(hour=23, minute=59) + timedelta(days=days)
    first_moment = DELIVERED_AT.replace(hour=0, minute=0) + timedelta(days=days)
    async with database.transaction() as session:
        late = await desk.eligibility(session, "A-1", now=day)
        early = await desk.eligibility(session, "A-1", now=first_moment)
    assert late.refusal is refusal and early.refusal is refusal
    assert late.last_day.isoformat() == "2026-03-15"


async def test_lines_gift_cards_are_not_returnable(database: Database, desk: ReturnDesk) -> None:
    await delivered_order(database)
    async with database.transaction() as session:
        eligibility = await desk.eligibility(session, "A-1", now=SOON)
        with pytest.raises(ReturnRefused) as refused:
            await desk.request_return(session, "A-1", {2: 1}, "damaged", "drop_off", now=SOON)
    assert [(line.name, line.returnable, line.refusal) for line in eligibility.lines] == [
        ("Coffee mug", 3, None),
        ("Gift card 50 EUR", 0, ReturnRefusal.NOT_RETURNABLE),
        ("Desk lamp", 1, None),
    ]
    assert refused.value.refusal is ReturnRefusal.NOT_RETURNABLE


async def test_an_order_not_yet_delivered_cannot_be_returned(
    database: Database, desk: ReturnDesk, service: OrderService
) -> None:
    await delivered_order(database, status="shipped")
    async with database.transaction() as session:
        assert (await desk.eligibility(session, "A-1", now=SOON)).refusal is (
            ReturnRefusal.NOT_DELIVERED)
        with pytest.raises(ReturnRefused):
            await desk.request_return(session, "A-1", {1: 1}, "damaged", "drop_off", now=SOON)
        order = await service.get_order(session, "A-1")
    assert order is not None and order.status is OrderStatus.SHIPPED


@pytest.mark.parametrize("quantities", [{1: 4}, {9: 1}, {}, {1: 0}])
async def test_bad_quantities_are_refused_and_nothing_is_stored(
    database: Database, desk: ReturnDesk, service: OrderService, quantities: dict[int, int]
) -> None:
    await delivered_order(database)
    async with database.transaction() as session:
        with pytest.raises(BadReturnRequest):
            await desk.request_return(session, "A-1", quantities, "x", "drop_off", now=SOON)
        order = await service.get_order(session, "A-1")
    assert order is not None and order.status is OrderStatus.DELIVERED


async def test_a_return_gets_an_rma_a_label_and_the_order_waits_for_the_parcel(
    database: Database, desk: ReturnDesk, service: OrderService
) -> None:
    await delivered_order(database, "A-1")
    await delivered_order(database, "A-2")
    async with database.transaction() as session:
        first = await desk.request_return(session, "A-1", {1: 2}, "wrong_size", "courier_pickup",
                                          now=SOON)
        second = await desk.request_return(session, "A-2", {3: 1}, "Too dark", "drop_off",
                                           now=SOON)
        order = await service.get_order(session, "A-1")
        label = await session.scalar(select(Document).where(Document.kind == "return_label")
                                     .order_by(Document.id))
        again = await desk.eligibility(session, "A-1", now=SOON)
    assert first.rma == "R-2026-000001" and second.rma == "R-2026-000002"
    assert first.amount_minor == 3000 and first.currency == "EUR"
    assert first.lines == ({"position": 1, "sku": "MG-810", "name": "Coffee mug", "quantity": 2,
                            "unit_price_minor": 1500},)
    assert order is not None and order.status is OrderStatus.RETURN_REQUESTED
    assert order.history[-1].cause == "return R-2026-000001 requested"
    assert label is not None and label.content.startswith(b"%PDF")
    assert first.label_url == f"http://shop.test/documents/{label.token}"
    assert again.refusal is ReturnRefusal.RETURN_OPEN and again.open_return == first.rma


async def test_what_was_returned_once_cannot_be_returned_again(
    database: Database, desk: ReturnDesk, service: OrderService
) -> None:
    await delivered_order(database)
    async with database.transaction() as session:
        await desk.request_return(session, "A-1", {1: 3}, "damaged", "drop_off", now=SOON)
        # The shop puts the order back to delivered (say the parcel never came).
        await service.move(session, "A-1", OrderStatus.DELIVERED, "return withdrawn")
        eligibility = await desk.eligibility(session, "A-1", now=SOON)
        with pytest.raises(ReturnRefused) as refused:
            await desk.request_return(session, "A-1", {1: 1}, "damaged", "drop_off", now=SOON)
    assert eligibility.refusal is None
    assert [line.refusal for line in eligibility.lines] == [
        ReturnRefusal.ALREADY_RETURNED, ReturnRefusal.NOT_RETURNABLE, None]
    assert refused.value.refusal is ReturnRefusal.ALREADY_RETURNED


async def test_received_return_refunds_the_returned_lines_once(
    database: Database, desk: ReturnDesk, service: OrderService, payments: RecordingPayments
) -> None:
    await delivered_order(database)
    async with database.transaction() as session:
        made = await desk.request_return(session, "A-1", {1: 2, 3: 1}, "damaged", "drop_off",
                                         now=SOON)
    async with database.transaction() as session:
        order = await service.apply_event(session, "A-1", "return_received", "shop api")
        refund = await session.scalar(select(ReturnRefund))
    assert payments.refunds == [("A-1", 6900, f"return {made.rma}")]
    assert order.status is OrderStatus.RETURNED
    assert order.refunded_minor == 6900
    assert order.history[-1].cause == f"refund 69.00 EUR for {made.rma} (refund-1)"
    assert refund is not None and refund.amount_minor == 6900
    assert refund.provider_reference == "refund-1"
    async with database.transaction() as session:
        with pytest.raises(IllegalTransition):
            await service.apply_event(session, "A-1", "return_received", "shop api")
    assert len(payments.refunds) == 1


async def test_unpaid_order_is_returned_without_a_refund(
    database: Database, desk: ReturnDesk, service: OrderService, payments: RecordingPayments
) -> None:
    await delivered_order(database, paid=False)
    async with database.transaction() as session:
        await desk.request_return(session, "A-1", {1: 1}, "damaged", "drop_off", now=SOON)
        order = await service.apply_event(session, "A-1", "return_received", "shop api")
    assert payments.refunds == [] and order.refunded_minor == 0
    assert "nothing paid" in order.history[-1].cause


async def test_a_return_arranged_by_the_shop_refunds_every_returnable_line(
    database: Database, desk: ReturnDesk, service: OrderService, payments: RecordingPayments
) -> None:
    await delivered_order(database, status="return_requested")
    async with database.transaction() as session:
        order = await service.apply_event(session, "A-1", "return_received", "shop api")
    assert payments.refunds[0][1] == 3 * 1500 + 3900  # not the gift card
    assert order.refunded_minor == 8400


async def test_a_discount_is_shared_by_the_returned_lines(
    database: Database, desk: ReturnDesk, service: OrderService, payments: RecordingPayments
) -> None:
    await delivered_order(database)
    async with database.transaction() as session:  # 13400 of goods, 10% off
        await session.execute(update(Order).where(Order.number == "A-1").values(
            discount_minor=1340, total_minor=12060))
        await desk.request_return(session, "A-1", {3: 1}, "damaged", "drop_off", now=SOON)
        await service.apply_event(session, "A-1", "return_received", "shop api")
    assert payments.refunds[0][1] == 3510  # 39.00 less 10%


async def test_a_failed_refund_leaves_the_order_waiting(
    database: Database, desk: ReturnDesk, service: OrderService, payments: RecordingPayments
) -> None:
    await delivered_order(database)
    async with database.transaction() as session:
        await desk.request_return(session, "A-1", {1: 1}, "damaged", "drop_off", now=SOON)
    payments.fail = True
    with pytest.raises(PaymentFailed):
        async with database.transaction() as session:
            await service.apply_event(session, "A-1", "return_received", "shop api")
    async with database.transaction() as session:
        order = await service.get_order(session, "A-1")
    assert order is not None and order.status is OrderStatus.RETURN_REQUESTED
    assert order.refunded_minor == 0
