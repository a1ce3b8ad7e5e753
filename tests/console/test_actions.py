"""Order actions from the console over the real server: done through the order core, only on
the customer's own orders, and told to the customer on their web chat as from the operator."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import API_KEY, LiveServer
from tests.console.conftest import ASK_FOR_A_PERSON, LogIn, escalated, is_operator_message, until
from tests.e2e.test_webchat import chat


async def _claimed(server: LiveServer, client: httpx.AsyncClient, conversation: int) -> str:
    path = f"/console/api/conversations/{conversation}"
    assert (await client.post(f"{path}/claim")).status_code == 200
    return path


async def _order(server: LiveServer, number: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as shop:
        response = await shop.get(f"/api/orders/{number}",
                                  headers={"Authorization": f"Bearer {API_KEY}"})
    return dict(response.json())


async def test_cancelling_the_customers_order_tells_the_customer(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    async with escalated(console_server) as emma:
        path = await _claimed(console_server, anna, emma.conversation)
        done = await anna.post(f"{path}/actions", json={"action": "cancel", "order": "a-1001"})
        assert done.status_code == 200, done.text
        assert done.json()["result"] == "order A-1001 cancelled"
        assert done.json()["order"]["status"] == "cancelled"
        told = await emma.hears(is_operator_message)
        assert told["text"] == "Order A-1001 is cancelled." and told["author"] == "Anna K."
    assert (await _order(console_server, "A-1001"))["status"] == "cancelled"


async def test_someone_elses_order_is_refused_and_left_alone(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma:
        path = await _claimed(console_server, anna, emma.conversation)
        for action in ("cancel", "payment_link", "return"):
            refused = await anna.post(f"{path}/actions",
                                      json={"action": action, "order": "A-1002"})
            assert refused.status_code == 403
            assert refused.json() == {"detail": "order A-1002 is not this customer's"}
    assert (await _order(console_server, "A-1002"))["status"] == "pending_confirmation"


async def test_the_order_core_refusing_is_explained(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma:
        path = f"/console/api/conversations/{emma.conversation}"
        unclaimed = await anna.post(f"{path}/actions", json={"action": "cancel",
                                                             "order": "A-1001"})
        assert unclaimed.status_code == 409
        assert unclaimed.json() == {"detail": "claim the conversation first"}
        await _claimed(console_server, anna, emma.conversation)
        delivered = await anna.post(f"{path}/actions", json={"action": "cancel",
                                                             "order": "A-1025"})
        assert delivered.status_code == 409
        assert delivered.json()["detail"].startswith("order A-1025 is delivered: too late")
        paid = await anna.post(f"{path}/actions", json={"action": "payment_link",
                                                        "order": "A-1013"})
        assert paid.status_code == 409
        assert paid.json() == {"detail": "order A-1013 is paid already"}
        no_day = await anna.post(f"{path}/actions", json={"action": "reschedule",
                                                          "order": "A-1013"})
        assert no_day.status_code == 422
        unknown = await anna.post(f"{path}/actions", json={"action": "refund",
                                                           "order": "A-1013"})
        assert unknown.status_code == 422 and unknown.json()["detail"].startswith("action: ")
    assert (await _order(console_server, "A-1025"))["status"] == "delivered"


async def test_moving_a_delivery_to_an_offered_slot(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma:
        path = await _claimed(console_server, anna, emma.conversation)
        slots = (await anna.get("/console/api/orders/A-1013/slots")).json()["slots"]
        assert len(slots) == 15 and slots[0]["slot"] == "09:00-12:00"
        chosen = slots[4]
        done = await anna.post(f"{path}/actions", json={
            "action": "reschedule", "order": "A-1013", **chosen})
        assert done.status_code == 200, done.text
        assert done.json()["order"]["delivery"]["date"] == chosen["date"]
        assert done.json()["order"]["delivery"]["slot"] == chosen["slot"]
        told = await emma.hears(is_operator_message)
        assert told["text"].startswith("The delivery of order A-1013 is moved to ")
        assert told["text"].endswith(f", {chosen['slot']}.")
        sunday = "2026-11-29"
        refused = await anna.post(f"{path}/actions", json={
            "action": "reschedule", "order": "A-1013", "date": sunday, "slot": "09:00-12:00"})
        assert refused.status_code == 422


async def test_a_return_and_a_payment_link_reach_the_customer(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma:
        path = await _claimed(console_server, anna, emma.conversation)
        returned = await anna.post(f"{path}/actions", json={
            "action": "return", "order": "A-1025", "method": "courier_pickup"})
        assert returned.status_code == 200, returned.text
        assert returned.json()["order"]["status"] == "return_requested"
        told = await emma.hears(is_operator_message)
        assert re.match(r"The return of order A-1025 is registered as R-\d{4}-\d{6}\. "
                        r"Your return label: http", told["text"])
        link = await anna.post(f"{path}/actions", json={"action": "payment_link",
                                                        "order": "A-1001"})
        assert link.status_code == 200, link.text
        told = await emma.hears(is_operator_message)
        assert told["text"].startswith("Here is the link to pay for order A-1001 (")
        assert console_server.url in told["text"]


async def test_an_anonymous_customers_orders_cannot_be_changed(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server, email=None) as stranger:
        path = await _claimed(console_server, anna, stranger.conversation)
        refused = await anna.post(f"{path}/actions", json={"action": "cancel",
                                                           "order": "A-1001"})
        assert refused.status_code == 409
        assert "customer of this conversation is not known" in refused.json()["detail"]
        detail = (await anna.get(path)).json()
        assert detail["customer"] is None and detail["orders"] == []


async def test_orders_proven_in_an_anonymous_chat_are_shown_and_can_be_acted_on(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with httpx.AsyncClient(base_url=console_server.url) as client:
        token = (await client.post("/webchat/session", json={})).json()["token"]
    async with chat(console_server, token) as stranger:
        assert "postcode" in (await stranger.say("Where is my order A-1006?"))["text"]
        assert "A-1006" in (await stranger.say("30-001"))["text"]  # proven: Piotr's order
        await stranger.say(ASK_FOR_A_PERSON)
        conversation = (await console_server.bot.desk.queue("escalated"))[-1].conversation_id
        path = await _claimed(console_server, anna, conversation)
        detail = (await anna.get(path)).json()
        # the customer who proved the order is known by that order's name and email
        assert (detail["customer"]["name"], detail["customer"]["email"]) == (
            "Piotr Nowak", "piotr.nowak@example.com")
        assert [order["number"] for order in detail["orders"]] == ["A-1006"]
        assert [a["action"] for a in detail["orders"][0]["actions"]] == ["cancel", "reschedule",
                                                                          "payment_link"]
        assert detail["conversation"]["proven_orders"] == ["A-1006"]
        other = await anna.post(f"{path}/actions", json={"action": "cancel", "order": "A-1001"})
        assert other.status_code == 403  # not proven here: nothing changes
        done = await anna.post(f"{path}/actions", json={"action": "cancel", "order": "A-1006"})
        assert done.status_code == 200, done.text
        told = await until(stranger.next, lambda frame: frame.get("from") == "operator")
        assert told["text"] == "Order A-1006 is cancelled."
    assert (await _order(console_server, "A-1001"))["status"] != "cancelled"
    assert (await _order(console_server, "A-1006"))["status"] == "cancelled"


async def test_each_order_carries_the_actions_its_state_allows(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma:
        path = await _claimed(console_server, anna, emma.conversation)
        orders = {o["number"]: o for o in (await anna.get(path)).json()["orders"]}
        allowed = {number: [a["action"] for a in o["actions"]] for number, o in orders.items()}
        # pending and unpaid: cancel (nothing to refund), move, ask for the payment
        assert allowed["A-1001"] == ["cancel", "reschedule", "payment_link"]
        assert orders["A-1001"]["actions"][0] == {"action": "cancel", "refund": 0}
        assert orders["A-1001"]["actions"][2] == {"action": "payment_link",
                                                  "amount": orders["A-1001"]["total"]}
        # confirmed and paid: a cancel starts a refund of the whole total
        assert allowed["A-1013"] == ["cancel", "reschedule"]
        assert orders["A-1013"]["actions"][0] == {"action": "cancel",
                                                  "refund": orders["A-1013"]["total"]}
        assert orders["A-1013"]["tracking_url"] is None  # nothing to track before it ships
        # delivered: too late to cancel or move; a return under way: nothing at all
        assert not {"cancel", "reschedule"} & set(allowed["A-1025"])
        assert orders["A-1025"]["tracking_url"] == (
            await _order(console_server, "A-1025"))["tracking"]["tracking_url"]
        assert allowed["A-1037"] == []

        done = await anna.post(f"{path}/actions", json={"action": "cancel", "order": "A-1001"})
        assert done.json()["order"]["actions"] == []  # a cancelled order offers nothing
