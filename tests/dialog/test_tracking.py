"""Status with live tracking (ETA, last scan), store pickup readiness and the order's history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import update

from composition.bootstrap import Orderbot
from orders.service import LineView, NewCustomer, NewOrder
from orders.states import OrderStatus
from orders.tables import Order, OrderHistory
from storage.clock import utcnow
from tests.conftest import BotFactory
from tests.dialog.conftest import Conversation
from tests.servers import free_port

SHIPPED = "A-1015"  # Olivia Brown, EH1 1YZ, DHL, Edinburgh
SHIPPED_PL = "A-1017"  # Anna Kowalska, 00-950, InPost
DELIVERED = "A-1025"  # Emma Thompson, SW1A 1AA


async def test_shipped_order_tells_eta_last_scan_and_history(conversation: Conversation) -> None:
    reply = await conversation.say(f"where is {SHIPPED}? olivia.brown@example.com")
    assert f"Order {SHIPPED} is on its way with DHL" in reply
    assert "Expected delivery: " in reply
    assert "Last scan: Edinburgh, " in reply  # long shipped: at the depot in her city
    assert "History:" in reply and ": order placed" in reply and ": shipped" in reply
    assert [b.title for b in conversation.buttons] == ["Another order", "Talk to a person"]


async def test_polish_tracking(conversation: Conversation) -> None:
    reply = await conversation.say(f"Gdzie jest moje zamówienie {SHIPPED_PL}? kod 00-950")
    assert "Przewidywana dostawa: " in reply
    assert "Ostatni skan: Warszawa, " in reply
    assert "Historia:" in reply and ": wysłane" in reply


async def test_delivered_order_shows_its_history(conversation: Conversation) -> None:
    reply = await conversation.say(f"{DELIVERED} sw1a1aa")
    assert reply.startswith(f"Order {DELIVERED} was delivered on ")
    assert ": confirmed" in reply and ": delivered" in reply
    assert "Last scan" not in reply  # delivered: no live tracking


@pytest.fixture
async def tracking_service() -> AsyncIterator[str]:
    """A courier tracking service on 127.0.0.1."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({
            "eta": "2026-12-01",
            "last_scan": {"place": "Glasgow hub", "at": "2026-11-29T07:15:00+00:00"},
        })

    app = web.Application()
    app.router.add_get("/tracking/{number}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_tracking_from_the_courier_service(
    make_bot: BotFactory, tracking_service: str
) -> None:
    bot = await make_bot(adapters={"courier_url": tracking_service})
    reply = await Conversation(bot).say(f"where is {SHIPPED}? EH1 1YZ")
    assert "Expected delivery: 01 Dec 2026" in reply
    assert "Last scan: Glasgow hub, 29 Nov 2026, 07:15 UTC" in reply


async def test_tracking_service_down_still_tells_the_status(make_bot: BotFactory) -> None:
    bot = await make_bot(
        adapters={"courier_url": f"http://127.0.0.1:{free_port()}", "timeout_seconds": 1}
    )
    reply = await Conversation(bot).say(f"where is {SHIPPED}? EH1 1YZ")
    assert f"Order {SHIPPED} is on its way with DHL" in reply
    assert "https://dhl.example/track?id=DHL" in reply
    assert "Live tracking is not available right now" in reply
    assert "Expected delivery" not in reply


async def pickup_order(
    bot: Orderbot, number: str, confirmed_ago: timedelta, store: str = "MOW-1"
) -> None:
    async with bot.database.transaction() as session:
        await bot.orders.create_order(session, NewOrder(
            number=number,
            customer=NewCustomer(name="Мария Смирнова", email="maria.smirnova@example.com",
                                 language="ru"),
            lines=(LineView("KB-100", "Mechanical keyboard", 1, 8900),),
            currency="EUR", delivery_method="store_pickup",
            delivery_address={"postcode": "190000", "city": "Санкт-Петербург"},
        ), "test")
        await bot.orders.move(session, number, OrderStatus.CONFIRMED, "test")
        order_id = await session.scalar(
            update(Order).where(Order.number == number)
            .values(pickup_location=store).returning(Order.id)
        )
        await session.execute(
            update(OrderHistory)
            .where(OrderHistory.order_id == order_id, OrderHistory.to_status == "confirmed")
            .values(at=utcnow() - confirmed_ago)
        )


async def test_store_pickup_ready_for_collection(bot: Orderbot) -> None:
    await pickup_order(bot, "P-5001", confirmed_ago=timedelta(hours=3))
    reply = await Conversation(bot).say("где мой заказ P-5001? maria.smirnova@example.com")
    assert "Заказ P-5001 готов к выдаче: Москва Тверская, ул. Тверская, 7, 125009 Москва" in reply


async def test_store_pickup_still_being_prepared(bot: Orderbot) -> None:
    await pickup_order(bot, "P-5002", confirmed_ago=timedelta(minutes=30), store="LON-1")
    reply = await Conversation(bot).say("where is my order P-5002? maria.smirnova@example.com")
    assert "Order P-5002 is confirmed and being prepared at London Soho, 12 Wardour St" in reply
    assert "ready for collection from " in reply


async def test_an_unknown_store_id_is_shown_as_it_is(bot: Orderbot) -> None:
    await pickup_order(bot, "P-5003", confirmed_ago=timedelta(hours=5), store="XYZ-9")
    reply = await Conversation(bot).say("where is my order P-5003? maria.smirnova@example.com")
    assert "Order P-5003 is ready for collection at XYZ-9." in reply
