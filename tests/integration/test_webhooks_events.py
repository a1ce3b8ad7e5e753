"""Each change the bot makes in a chat reaches the shop as a signed webhook with the right
payload; what the shop itself told the bot does not come back to it."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from composition.bootstrap import Orderbot
from dialog.desk_values import OperatorRef
from orders.tables import Customer
from tests.conftest import BotFactory
from tests.dialog.confirm_helpers import fix_clock, order, shop_creates, verified
from tests.dialog.conftest import Conversation
from tests.doubles.webhook_shop import WebhookShop
from tests.integration.test_shop_api import client_for
from tests.integration.webhook_helpers import admin_console, rows, webhook_bot

KEYBOARD = ("KB-110", "Wireless keyboard", 1, 4900)
CABLE = ("CB-100", "USB-C cable 2 m", 2, 1200)
ANNA = OperatorRef("console:1", "Anna K.")


@pytest.fixture
async def bot(make_bot: BotFactory, webhook_shop: WebhookShop) -> Orderbot:
    return await webhook_bot(make_bot, webhook_shop)


async def as_the_api_shows(bot: Orderbot, number: str) -> dict[str, object]:
    async with client_for(bot) as api:
        answer = await api.get(f"/api/orders/{number}", params={"links": "false"})
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


async def test_confirmation_in_the_chat_sends_order_confirmed_with_the_choices(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    fix_clock(bot)
    conversation, _ = await shop_creates(bot, "B-100", [KEYBOARD, CABLE])
    for text in ("yes", "courier", "tomorrow", "9-12", "2", "welcome10", "no thanks"):
        await conversation.say(text)
    assert "Your order B-100 is confirmed" in await conversation.say("yes")

    [hook] = await webhook_shop.wait_for(1)
    assert webhook_shop.received[0].verified  # signed with the shop's secret
    assert re.fullmatch(r"msg_[0-9a-f]{32}", hook.webhook_id)
    payload = hook.payload
    assert payload["type"] == "order.confirmed"
    assert datetime.fromisoformat(payload["timestamp"]).utcoffset().total_seconds() == 0
    data = payload["data"]
    assert data["order"] == await as_the_api_shows(bot, "B-100")
    assert data["order"]["status"] == "confirmed"
    assert data["delivery"] == {"method": "courier", "date": "2026-11-25", "slot": "09:00-12:00",
                                "pickup_location": None,
                                "address": {"street": "1 Test St", "postcode": "SW1A 1AA"}}
    assert data["payment"] == {"method": "bank_transfer", "status": "pending"}
    assert data["voucher"] == {"code": "WELCOME10", "discount": 7.3}
    assert [(line["sku"], line["quantity"]) for line in data["lines"]] == [
        ("KB-110", 1), ("CB-100", 2)]
    assert data["total"] == 65.7
    # The order the shop created is not told back to it.
    assert [row.type for row in await rows(bot)] == ["order.confirmed"]


async def test_declining_sends_order_cancelled(bot: Orderbot, webhook_shop: WebhookShop) -> None:
    conversation, _ = await shop_creates(bot, "B-101", [KEYBOARD])
    await conversation.say("no")
    await conversation.say("yes")  # "cancel it?"
    [hook] = await webhook_shop.wait_for(1)
    assert hook.type == "order.cancelled"
    assert hook.payload["data"]["order"]["status"] == "cancelled"
    assert hook.payload["data"]["reason"] == "declined"


async def test_cancelling_a_paid_order_sends_order_cancelled_with_the_refund(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    conversation = Conversation(bot, answers_codes=True)
    await conversation.say("please cancel my order A-1014")
    await conversation.say("M1 1AE")
    assert "is cancelled" in await conversation.say("yes")
    [hook] = await webhook_shop.wait_for(1)
    data = hook.payload["data"]
    assert hook.type == "order.cancelled" and data["order"]["number"] == "A-1014"
    assert data["order"] == await as_the_api_shows(bot, "A-1014")
    assert data["reason"] == "cancelled by the customer in the chat"
    assert data["refund"]["amount"] == data["order"]["total"]
    assert data["refund"]["id"].startswith("local-refund-") and not data["refund"]["failed"]


async def test_changing_the_delivery_sends_order_delivery_changed(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    fix_clock(bot)
    conversation = await verified(bot, "A-1013")
    before = await order(bot, "A-1013")
    await conversation.say("I want to change the delivery of A-1013")
    await conversation.say("1")
    await conversation.say("friday")
    assert "Done" in await conversation.say("afternoon")
    [hook] = await webhook_shop.wait_for(1)
    data = hook.payload["data"]
    assert hook.type == "order.delivery_changed"
    assert (data["delivery"]["date"], data["delivery"]["slot"]) == ("2026-11-27", "12:00-15:00")
    assert data["previous"]["date"] == (before.delivery_date.isoformat()
                                        if before.delivery_date else None)
    assert data["order"] == await as_the_api_shows(bot, "A-1013")


async def test_a_return_sends_order_return_requested_with_its_rma(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    conversation = Conversation(bot, answers_codes=True)
    await conversation.say("I want to return order A-1027")
    await conversation.say("EH1 1YZ")
    await conversation.press("Bluetooth speaker")
    await conversation.press("2")
    await conversation.press("Continue")
    await conversation.press("Damaged or faulty")
    await conversation.press("I have no photo")
    done = await conversation.press("Drop-off point")
    rma = re.search(r"R-\d{4}-\d{6}", done)
    assert rma is not None
    [hook] = await webhook_shop.wait_for(1)
    returned = hook.payload["data"]["return"]
    assert hook.type == "order.return_requested"
    assert hook.payload["data"]["order"]["status"] == "return_requested"
    assert (returned["rma"], returned["method"], returned["reason"]) == (
        rma.group(0), "drop_off", "damaged")
    assert [(line["sku"], line["quantity"]) for line in returned["lines"]] == [("SP-320", 2)]
    assert returned["refund_due"] == 138.0 and returned["label_url"]


async def test_a_payment_link_sends_order_payment_link_created(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    conversation = Conversation(bot)
    await conversation.say("has my payment for A-1041 arrived?")
    await conversation.say("LS1 1UR")
    reply = await conversation.press("Pay now")
    [hook] = await webhook_shop.wait_for(1)
    link = hook.payload["data"]["payment_link"]
    assert hook.type == "order.payment_link_created"
    assert link["url"] in reply and link["amount"] == hook.payload["data"]["order"]["total"]


async def test_escalation_and_release_send_the_conversation_events(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    chat = Conversation(bot)
    await chat.say("talk to a person")
    [escalated] = await webhook_shop.wait_for(1)
    conversation = escalated.payload["data"]["conversation"]
    assert escalated.type == "conversation.escalated"
    assert escalated.payload["data"]["order"] is None
    assert conversation["reason"] == "customer_asked"
    await bot.desk.claim(conversation["id"], ANNA)
    await bot.desk.hand_back(conversation["id"], ANNA)
    _, resolved = await webhook_shop.wait_for(2)
    assert resolved.type == "conversation.resolved"
    assert resolved.payload["data"]["conversation"] == {"id": conversation["id"],
                                                        "outcome": "handed_back"}


async def test_erasing_a_customer_sends_customer_erased_once(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    async with bot.database.transaction() as session:
        emma = await bot.orders.customer_by_email(session, "emma.thompson@example.com")
        assert isinstance(emma, Customer)
    async with admin_console(bot) as console:
        for _ in range(2):  # the second time: erased before, nothing new to tell
            answer = await console.post(f"/console/api/customers/{emma.id}/erase")
            assert answer.status_code == 200
    [hook] = await webhook_shop.wait_for(1)
    assert hook.type == "customer.erased"
    erased = hook.payload["data"]["customer"]
    assert erased["id"] == emma.id and "A-1013" in erased["orders"]
    assert "emma" not in hook.body.decode().lower()  # no personal data in it
    assert len(await rows(bot)) == 1


async def test_facts_from_the_shop_are_not_sent_back(
    bot: Orderbot, webhook_shop: WebhookShop
) -> None:
    async with client_for(bot) as api:
        created = await api.post("/api/orders", json={
            "number": "S-1", "customer": {"name": "Shop Customer", "email": "s1@example.com"},
            "lines": [{"sku": "KB-110", "name": "Wireless keyboard", "quantity": 1,
                       "unit_price": 49}],
            "currency": "EUR", "delivery": {"method": "courier", "address": {}},
            "payment": {"method": "card", "status": "pending"}, "status": "confirmed"})
        assert created.status_code == 201, created.text
        for event in ({"type": "shipped", "carrier": "DHL", "tracking_number": "1"},
                      {"type": "cancelled", "reason": "out of stock"}):
            answer = await api.post("/api/orders/A-1013/events", json=event)
            assert answer.status_code == 200, answer.text
    chat = Conversation(bot)
    await chat.say("talk to a person")  # a change of the bot's own, after the shop's facts
    await webhook_shop.wait_for(1)
    assert [row.type for row in await rows(bot)] == ["conversation.escalated"]
    assert webhook_shop.types() == ["conversation.escalated"]


async def test_with_webhooks_off_nothing_is_recorded(make_bot: BotFactory) -> None:
    bot = await make_bot()
    assert bot.webhooks is None
    chat = Conversation(bot)
    await chat.say("talk to a person")
    assert await rows(bot) == []
