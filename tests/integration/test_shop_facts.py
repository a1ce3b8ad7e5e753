"""The shop is the system of record: its events are facts, taken from any status, recorded,
told to the customer; a fact that contradicts the chat opens an operator task
(DESIGN.md, "The shop is the system of record"; orders/facts.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from channels.webchat.identity import signed_identity
from composition.bootstrap import Orderbot
from orders.facts import CONFLICT_TASK
from orders.operator_tasks import open_operator_tasks
from orders.states import OrderStatus
from storage.clock import utcnow
from storage.tables import Job
from tests.conftest import BotFactory, serve
from tests.dialog.conftest import Conversation
from tests.e2e.test_webchat import chat, post_event
from tests.integration.test_shop_api import client_for, order_body, transcript
from tests.servers import free_port


async def put_in(bot: Orderbot, number: str, *statuses: OrderStatus) -> None:
    """What happened in the chat (or by earlier events): the order moves through statuses."""
    async with bot.database.transaction() as session:
        for status in statuses:
            await bot.orders.move(session, number, status, f"chat: {status}")


async def tasks(bot: Orderbot) -> list[tuple[str, str]]:
    async with bot.database.transaction() as session:
        return [(task.number, task.kind) for task in await open_operator_tasks(session)]


async def told(bot: Orderbot, number: str) -> list[str]:
    return [entry.text for entry in await transcript(bot, number) if entry.sender == "bot"]


SHIPPED = {"type": "shipped", "carrier": "DPD", "tracking_number": "DPD700123"}
CONFIRMED, SHIPPED_STATUS, DELIVERED = (
    OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED
)


@pytest.mark.parametrize(
    ("before", "event", "status", "text"),
    [
        ((), SHIPPED, "shipped", "Good news: your order A-1001 is on its way with DPD."),
        ((CONFIRMED,), {"type": "delivered"}, "delivered",
         "Your order A-1001 has been delivered. Enjoy!"),
        ((), {"type": "confirmed"}, "confirmed",
         "Your order A-1001 is confirmed. We are preparing it for dispatch and will keep you "
         "posted here."),
        ((CONFIRMED,), {"type": "cancelled", "reason": "out of stock"}, "cancelled",
         "Your order A-1001 has been cancelled by the shop: out of stock. Write to me if you "
         "have any questions."),
        ((), {"type": "cancelled"}, "cancelled",
         "Your order A-1001 has been cancelled by the shop. Write to me if you have any "
         "questions."),
        ((CONFIRMED,), {"type": "out_for_delivery"}, "shipped",
         "Your order A-1001 is out for delivery and should reach you today."),
        ((CONFIRMED, SHIPPED_STATUS), {"type": "delivery_failed", "reason": "nobody at home"},
         "shipped", "The courier could not deliver your order A-1001: nobody at home. They "
         "will try again, or write to me to arrange another delivery."),
        ((CONFIRMED, SHIPPED_STATUS, DELIVERED), {"type": "refunded", "amount": "12.50"},
         "delivered", "We have refunded 12.50 EUR for your order A-1001. It may take a few "
         "days to reach your account."),
    ],
    ids=["shipped-while-pending", "delivered-while-confirmed", "confirmed", "cancelled-reason",
         "cancelled", "out-for-delivery", "delivery-failed", "refunded"],
)
async def test_a_fact_is_taken_from_an_earlier_status_recorded_and_told(
    bot: Orderbot, api: httpx.AsyncClient, before: tuple[OrderStatus, ...],
    event: dict[str, Any], status: str, text: str,
) -> None:
    await api.post("/api/orders", json=order_body())
    await put_in(bot, "A-1001", *before)
    response = await api.post("/api/orders/A-1001/events", json=event)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status
    assert "conflict" not in response.json()
    order = (await api.get("/api/orders/A-1001")).json()
    assert order["status"] == status
    assert order["history"][-1]["to"] == status
    assert order["history"][-1]["cause"].startswith(f"shop api: {event['type']}")
    assert any(text in message for message in await told(bot, "A-1001"))
    assert await tasks(bot) == []


async def test_a_refund_from_the_shop_counts_and_shows_the_amount(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    await api.post("/api/orders", json=order_body())
    await api.post("/api/orders/A-1001/events", json={"type": "refunded", "amount": 12.5})
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "A-1001")
    assert order is not None and order.refunded_minor == 1250
    assert order.history[-1].cause == "shop api: refunded: 12.50 EUR"


@pytest.mark.parametrize(
    ("event", "text"),
    [
        ({"type": "cancelled", "reason": "brak towaru"},
         "Sklep anulował Twoje zamówienie A-1001: brak towaru. Napisz do mnie, jeśli masz "
         "pytania."),
        ({"type": "refunded", "amount": "12.50"}, "Zwróciliśmy 12,50 EUR za Twoje zamówienie"),
        ({"type": "out_for_delivery"},
         "Twoje zamówienie A-1001 jest w doręczeniu i powinno dotrzeć do Ciebie dzisiaj."),
    ],
    ids=["cancelled", "refunded", "out-for-delivery"],
)
async def test_the_customer_is_told_in_their_language(
    bot: Orderbot, api: httpx.AsyncClient, event: dict[str, Any], text: str
) -> None:
    body = order_body()
    body["customer"] = {**body["customer"], "language": "pl"}
    await api.post("/api/orders", json=body)
    assert (await api.post("/api/orders/A-1001/events", json=event)).status_code == 200
    assert any(text in message for message in await told(bot, "A-1001")), await told(
        bot, "A-1001"
    )


@pytest.mark.parametrize(
    ("before", "event", "status", "conflict"),
    [
        ((OrderStatus.CANCELLED,), SHIPPED, "shipped", "cancelled"),
        ((OrderStatus.CANCELLED,), {"type": "delivered"}, "delivered", "cancelled"),
        ((OrderStatus.CANCELLED,), {"type": "updated", "payment": {"status": "paid"}},
         "cancelled", "cancelled"),
        ((), {"type": "return_received"}, "returned", "never delivered"),
        ((CONFIRMED, SHIPPED_STATUS, DELIVERED, OrderStatus.RETURN_REQUESTED),
         {"type": "cancelled"}, "cancelled", "asked to return"),
        ((CONFIRMED, SHIPPED_STATUS, DELIVERED), {"type": "confirmed"}, "confirmed",
         "already delivered"),
    ],
    ids=["shipped-after-cancel", "delivered-after-cancel", "updated-after-cancel",
         "return-never-delivered",
         "cancel-during-return", "backwards"],
)
async def test_a_contradicting_fact_is_kept_and_opens_an_operator_task(
    bot: Orderbot, api: httpx.AsyncClient, before: tuple[OrderStatus, ...],
    event: dict[str, Any], status: str, conflict: str,
) -> None:
    await api.post("/api/orders", json=order_body())
    await put_in(bot, "A-1001", *before)
    chat_status = before[-1] if before else "pending_confirmation"
    response = await api.post("/api/orders/A-1001/events", json=event)
    assert response.status_code == 200, response.text
    assert conflict in response.json()["conflict"]
    order = (await api.get("/api/orders/A-1001")).json()
    assert order["status"] == status
    # Both sides: what the chat knew, and what the shop says (a return's refund follows).
    [fact] = [h for h in order["history"] if "conflict" in h["cause"]]
    assert (fact["from"], fact["to"]) == (chat_status, status)
    assert fact["cause"].startswith(f"shop api: {event['type']}") and conflict in fact["cause"]
    assert await tasks(bot) == [("A-1001", CONFLICT_TASK)]


async def test_a_fact_without_contradiction_opens_no_task_and_a_resent_one_is_told_once(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    await api.post("/api/orders", json=order_body())
    for _ in range(2):
        response = await api.post("/api/orders/A-1001/events", json={"type": "confirmed"})
        assert response.status_code == 200 and "conflict" not in response.json()
    messages = await told(bot, "A-1001")
    assert sum("is confirmed" in message for message in messages) == 1
    assert await tasks(bot) == []


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "lost_in_transit"}, "lost_in_transit"),
        ({"type": "refunded"}, "amount"),
        ({"type": "refunded", "amount": "-3"}, "amount"),
        ({"type": "cancelled", "reason": "x" * 201}, "reason"),
    ],
    ids=["unknown-type", "refund-without-amount", "negative-refund", "long-reason"],
)
async def test_a_bad_fact_is_refused_naming_it_and_nothing_is_stored(
    bot: Orderbot, api: httpx.AsyncClient, event: dict[str, Any], field: str
) -> None:
    await api.post("/api/orders", json=order_body())
    response = await api.post("/api/orders/A-1001/events", json=event)
    assert response.status_code == 422
    assert field in response.text
    order = (await api.get("/api/orders/A-1001")).json()
    assert order["status"] == "pending_confirmation" and len(order["history"]) == 1
    assert await tasks(bot) == []


@pytest.mark.parametrize(
    "event", [{"type": "confirmed"}, {"type": "refunded", "amount": 1}, SHIPPED]
)
async def test_a_fact_about_an_unknown_order_is_not_found(
    bot: Orderbot, api: httpx.AsyncClient, event: dict[str, Any]
) -> None:
    response = await api.post("/api/orders/A-404/events", json=event)
    assert response.status_code == 404
    assert "A-404" in response.json()["detail"]
    assert await tasks(bot) == []


async def test_an_order_the_shop_confirmed_asks_the_customer_nothing(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    response = await api.post("/api/orders", json=order_body(status="confirmed"))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "confirmed"
    order = (await api.get("/api/orders/A-1001")).json()
    assert [(h["from"], h["to"]) for h in order["history"]] == [(None, "confirmed")]
    messages = await told(bot, "A-1001")
    assert not any("confirm it?" in message for message in messages)
    assert any("Your order A-1001 is confirmed." in message for message in messages)


async def test_a_pending_order_still_asks_for_confirmation(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    response = await api.post("/api/orders", json=order_body(status="pending_confirmation"))
    assert response.status_code == 201
    assert any("confirm it?" in message for message in await told(bot, "A-1001"))


@pytest.mark.parametrize("status", ["shipped", "delivered", "", 1])
async def test_an_order_cannot_be_created_in_another_status(
    bot: Orderbot, api: httpx.AsyncClient, status: Any
) -> None:
    response = await api.post("/api/orders", json=order_body(status=status))
    assert response.status_code == 422
    assert "status" in response.text
    assert (await api.get("/api/orders/A-1001")).status_code == 404


async def test_an_update_from_the_shop_replaces_what_it_names_and_tells_the_customer(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    await api.post("/api/orders", json=order_body())
    await put_in(bot, "A-1001", CONFIRMED)
    response = await api.post("/api/orders/A-1001/events", json={
        "type": "updated",
        "lines": [{"sku": "KB-100", "name": "Mechanical keyboard", "quantity": 1,
                   "unit_price": "89.00"}],
        "delivery": {"address": {"city": "Leeds", "postcode": "LS1 1UR"}},
        "payment": {"status": "paid"},
    })
    assert response.status_code == 200, response.text
    order = (await api.get("/api/orders/A-1001")).json()
    assert order["status"] == "confirmed" and "conflict" not in response.json()
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("KB-100", 1)]
    assert order["total"] == 89.0
    assert order["delivery"] == {"method": "courier",
                                 "address": {"city": "Leeds", "postcode": "LS1 1UR"}}
    assert order["payment"]["method"] == "card" and order["payment"]["status"] == "paid"
    assert order["history"][-1]["cause"] == "shop api: updated"
    assert any("The shop has updated your order A-1001. The total is now 89.00 EUR." in message
               for message in await told(bot, "A-1001"))
    async with bot.database.transaction() as session:  # the new postcode proves the order
        assert await bot.orders.verified_order(session, "A-1001", ["LS1 1UR"]) is not None


async def test_an_update_in_russian_and_an_empty_update_refused(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    body = order_body()
    body["customer"] = {**body["customer"], "language": "ru"}
    await api.post("/api/orders", json=body)
    empty = await api.post("/api/orders/A-1001/events", json={"type": "updated"})
    assert empty.status_code == 422 and "updated needs lines" in empty.text
    response = await api.post("/api/orders/A-1001/events", json={
        "type": "updated", "payment": {"method": "blik"}})
    assert response.status_code == 200
    assert response.json()["payment"]["method"] == "blik"
    assert response.json()["payment"]["status"] == "pending"
    assert any(message.startswith("Магазин изменил ваш заказ A-1001.")
               for message in await told(bot, "A-1001"))


async def test_a_conflict_task_says_both_sides(bot: Orderbot, api: httpx.AsyncClient) -> None:
    await api.post("/api/orders", json=order_body())
    await put_in(bot, "A-1001", CONFIRMED, OrderStatus.CANCELLED)
    await api.post("/api/orders/A-1001/events", json={
        "type": "shipped", "carrier": "DHL", "tracking_number": "123"})
    async with bot.database.transaction() as session:
        [task] = await open_operator_tasks(session)
    assert task.detail.startswith("the chat: cancelled (chat: cancelled) at ")
    assert task.detail.endswith(" UTC; the shop: shipped with DHL 123")


async def test_a_shipment_without_a_tracking_page_is_told_without_a_dash_for_a_link(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    await api.post("/api/orders", json=order_body())
    response = await api.post("/api/orders/A-1001/events", json=SHIPPED)  # no tracking_url
    assert response.status_code == 200, response.text
    [news] = [m for m in await told(bot, "A-1001") if "on its way" in m]
    assert news == ("Good news: your order A-1001 is on its way with DPD.\n"
                    "Tracking number: DPD700123")
    conversation = Conversation(bot)
    await conversation.say("where is my order A-1001?")
    status = await conversation.say(order_body()["customer"]["email"])
    assert status.startswith("Order A-1001 is on its way with DPD.\nTracking number: DPD700123\n")
    assert "Track it here" not in status  # the courier's scan and date follow, no link
    moved = await conversation.say("I want to change the delivery of A-1001")
    assert moved == ("Order A-1001 is already on its way with DPD, so its delivery can't "
                     "change any more.")


async def test_a_second_shipment_with_a_new_tracking_number_is_recorded_and_told(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    await api.post("/api/orders", json=order_body())
    await api.post("/api/orders/A-1001/events", json={
        **SHIPPED, "tracking_url": "https://dpd.example/DPD700123"})
    reshipped = {"type": "shipped", "carrier": "DHL", "tracking_number": "DHL555"}
    response = await api.post("/api/orders/A-1001/events", json=reshipped)
    assert response.status_code == 200, response.text
    order = response.json()
    # The first parcel's tracking page would mislead: it goes with its number.
    assert order["tracking"] == {"carrier": "DHL", "tracking_number": "DHL555",
                                 "tracking_url": None}
    assert order["history"][-1]["cause"] == "shop api: shipped: new tracking DHL555"
    news = [m for m in await told(bot, "A-1001") if "sent again" in m]
    # no tracking page from the shop: no "Track it here: -" line
    assert news == ["Your order A-1001 has been sent again with DHL, as a new parcel with a new "
                    "tracking number.\nTracking number: DHL555"]
    # The same tracking again is a resend: the customer is not told twice.
    assert (await api.post("/api/orders/A-1001/events", json=reshipped)).status_code == 200
    messages = await told(bot, "A-1001")
    assert sum("DHL555" in message for message in messages) == 1
    assert sum("DPD700123" in message for message in messages) == 1
    assert await tasks(bot) == []


async def test_a_new_tracking_number_is_told_in_the_customers_language(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    body = order_body()
    body["customer"] = {**body["customer"], "language": "ru"}
    await api.post("/api/orders", json=body)
    await api.post("/api/orders/A-1001/events", json=SHIPPED)
    await api.post("/api/orders/A-1001/events", json={**SHIPPED, "tracking_number": "DPD9"})
    assert any(message.startswith("Ваш заказ A-1001 отправлен повторно") and "DPD9" in message
               for message in await told(bot, "A-1001"))


@pytest.mark.parametrize(("event", "answer"), [
    ("confirmed", "Order A-1001 is already confirmed, nothing more to do."),
    ("cancelled", "Order A-1001 has been cancelled, so it can't be confirmed any more."),
])
@pytest.mark.parametrize("by", ["button", "yes"])
async def test_a_confirmation_question_the_shop_decided_is_answered_as_decided_and_not_reminded(
    make_bot: BotFactory, event: str, answer: str, by: str
) -> None:
    """The question waits in the customer's web chat; the shop confirms (or cancels) the order
    itself; the customer presses the question's old button (or writes "yes") over a real
    WebSocket."""
    shop = await make_bot(demo={"enabled": False}, http={"port": free_port()})
    server = await serve(shop)
    try:
        async with client_for(shop) as api:
            assert (await api.post("/api/orders", json=order_body())).status_code == 201
        email = order_body()["customer"]["email"]
        signed = {"customer": {"email": email}, **signed_identity("test-identity-secret", email)}
        async with chat(server, **signed) as customer:
            [question] = [m for m in customer.history if "confirm it?" in m["text"]]
            assert question["buttons"][0] == {"title": "Yes, let's confirm",
                                              "payload": "confirm:begin:go"}
            await post_event(server, "A-1001", type=event)
            assert f"A-1001 {'is confirmed' if event == 'confirmed' else 'has been cancelled'}" \
                in (await customer.next())["text"]
            reply = await (customer.press("confirm:begin:go") if by == "button"
                           else customer.say("yes"))
            assert reply["text"] == answer
        async with shop.database.transaction() as session:
            order = await shop.orders.get_order(session, "A-1001")
            left = await session.scalar(select(func.count()).select_from(Job).where(
                Job.key.startswith("confirm:A-1001:"), Job.done_at.is_(None)))
        assert order is not None and order.status.value == event
        assert [h.to_status for h in order.history].count(event) == 1  # no second confirmation
        assert left == 0  # the reminder and the escalation are cancelled
        await shop.jobs.run_due(utcnow() + timedelta(days=3))
        messages = await told(shop, "A-1001")
        assert not any("still waiting for your confirmation" in m or "haven't heard from you" in m
                       for m in messages), messages
        assert await shop.desk.queue("escalated") == []
    finally:
        await server.stop()
