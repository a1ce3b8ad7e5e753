"""return_received through the shop API: the returned lines are refunded, the order records it,
and the customer is told on their channel (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest

from composition.bootstrap import Orderbot
from orders.payments import PaymentFailed
from orders.returns import ReturnDesk, ReturnPolicy
from orders.service import OrderView
from orders.states import OrderStatus
from tests.conftest import BotFactory
from tests.integration.test_shop_api import client_for, order_body, transcript


@pytest.fixture
async def bot(make_bot: BotFactory, database_url: str) -> Orderbot:
    return await make_bot(database_url, demo={"enabled": False})


async def delivered_with_return(bot: Orderbot, api: httpx.AsyncClient) -> str:
    body = order_body("A-5001", payment={"method": "card", "status": "paid"})
    assert (await api.post("/api/orders", json=body)).status_code == 201
    async with bot.database.transaction() as session:
        await bot.orders.move(session, "A-5001", OrderStatus.CONFIRMED, "customer confirmed")
    for event in ({"type": "shipped", "carrier": "DPD", "tracking_number": "T1"},
                  {"type": "delivered"}):
        assert (await api.post("/api/orders/A-5001/events", json=event)).status_code == 200
    async with bot.database.transaction() as session:  # one of the two keyboards goes back
        made = await bot.services.returns.request_return(
            session, "A-5001", {1: 1}, "damaged", "drop_off")
    return made.rma


async def test_return_received_refunds_the_returned_lines_and_tells_the_customer(
    bot: Orderbot,
) -> None:
    async with client_for(bot) as api:
        rma = await delivered_with_return(bot, api)
        response = await api.post("/api/orders/A-5001/events", json={"type": "return_received"})
        again = await api.post("/api/orders/A-5001/events", json={"type": "return_received"})
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "returned"
    assert any(entry["cause"].startswith(f"refund 89.00 EUR for {rma} (local-refund-")
               for entry in order["history"])
    async with bot.database.transaction() as session:
        view = await bot.orders.get_order(session, "A-5001")
    assert view is not None and view.refunded_minor == 8900
    # A resent fact is recorded, not refunded nor told twice.
    assert again.status_code == 200 and again.json()["status"] == "returned"
    told = [entry.text for entry in await transcript(bot, "A-5001")]
    assert told.count("We have received the return of order A-5001. "
                      "Your refund of 89.00 EUR is on its way.") == 1


class _FailingPayments:
    async def payment_link(self, order: OrderView) -> str:
        return ""

    async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
        raise PaymentFailed("the provider is down")


async def test_a_failed_refund_answers_502_and_keeps_the_return_open(bot: Orderbot) -> None:
    async with client_for(bot) as api:
        await delivered_with_return(bot, api)
        bot.orders.return_receiver = ReturnDesk(
            bot.orders, _FailingPayments(), shop_name="Shop", base_url="http://x",
            policy=ReturnPolicy())
        response = await api.post("/api/orders/A-5001/events", json={"type": "return_received"})
        order = (await api.get("/api/orders/A-5001")).json()
    assert response.status_code == 502 and "the provider is down" in response.json()["detail"]
    assert order["status"] == "return_requested"
