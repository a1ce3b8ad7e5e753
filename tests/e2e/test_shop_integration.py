"""The shop integration of issue 16 end to end, on SQLite and PostgreSQL: the shop creates an
order through its API, the customer confirms it by buttons in Telegram, the shop hears of it
by a signed webhook, tells the bot the order shipped and was delivered (the customer hears of
it), and the customer asks to return it in the web chat the order's link opens; the shop hears
of that too. Every platform is a double on 127.0.0.1; the bot is the real server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from tests.channels.test_order_flows import linked_telegram_chat, shop, shop_creates
from tests.channels.test_telegram import keyboard
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.webhook_shop import WebhookShop
from tests.e2e.test_webchat import chat, post_event
from tests.integration.webhook_helpers import webhook_bot

NUMBER = "T-6001"


@pytest.fixture
async def server(
    make_bot: BotFactory, database_url: str, telegram_api: TelegramApiDouble,
    webhook_shop: WebhookShop,
) -> AsyncIterator[LiveServer]:
    """The bot on the test's database, with Telegram on and webhooks to the shop double."""
    bot = await webhook_bot(make_bot, webhook_shop, database_url,
                            telegram=telegram_api.bot_settings())
    live = await serve(bot)
    yield live
    await live.stop()


async def test_an_order_from_the_shops_api_to_a_return_with_the_shop_told_each_step(
    server: LiveServer, telegram_api: TelegramApiDouble, webhook_shop: WebhookShop
) -> None:
    await shop_creates(server, NUMBER, preferred_channel="telegram")
    olivia, status = await linked_telegram_chat(server, telegram_api, NUMBER)
    assert f"Order {NUMBER} is waiting for your confirmation" in status["text"]

    # Confirmed in Telegram, button by button: courier, the first day offered, a slot, card.
    await olivia.press_title("Confirm my order", status)
    await olivia.press_title("Yes, let's confirm")
    [day] = await olivia.press_title("Courier to your door")
    first_day, first_day_payload = keyboard(day)[0]
    await olivia.press_title(first_day)
    await olivia.press_title("12:00-15:00")
    await olivia.press_title("Card")
    await olivia.press_title("No code")
    [final] = await olivia.press_title("No, thanks")
    assert f"Delivery: courier on {first_day}, 12:00-15:00" in final["text"]
    [done] = await olivia.press_title("Confirm the order")
    assert done["text"].startswith(f"Your order {NUMBER} is confirmed (49.00 EUR). Thank you!")

    # The shop hears of it: the day and slot she chose, signed with the shop's secret.
    [confirmed] = await webhook_shop.wait_for(1)
    assert confirmed.type == "order.confirmed"
    delivery = confirmed.payload["data"]["delivery"]
    assert (delivery["method"], delivery["date"], delivery["slot"]) == (
        "courier", first_day_payload.removeprefix("confirm:day:"), "12:00-15:00")
    assert confirmed.payload["data"]["order"]["number"] == NUMBER

    # The shop ships it: her Telegram chat gets the tracking.
    before = len(olivia.replies)
    await post_event(server, NUMBER, type="shipped", carrier="DHL", tracking_number="DHL6001",
                     tracking_url="https://dhl.example/DHL6001")
    await telegram_api.wait_until(lambda: len(olivia.replies) > before)
    [shipped] = olivia.replies[before:]
    assert f"{NUMBER} is on its way with DHL" in shipped["text"]
    assert "https://dhl.example/DHL6001" in shipped["text"]

    # Delivered (she hears it in Telegram); she opens the web chat with the order's link and
    # asks to return it.
    before = len(olivia.replies)
    await post_event(server, NUMBER, type="delivered")
    await telegram_api.wait_until(lambda: len(olivia.replies) > before)
    assert olivia.replies[before]["text"] == f"Your order {NUMBER} has been delivered. Enjoy!"
    links = (await shop(server, "GET", f"/orders/{NUMBER}"))["links"]
    link = links["webchat"].partition("?link=")[2]
    async with chat(server, link=link) as conversation:
        offer = await conversation.say(f"I want to return order {NUMBER}")
        assert f"You can return items from order {NUMBER}" in offer["text"]  # no proof asked
        assert [b["title"] for b in offer["buttons"]] == ["Wireless keyboard"]
        reason = await conversation.press(offer["buttons"][0]["payload"])
        assert reason["text"].startswith("Why are you returning 1 × Wireless keyboard?")
        photo = await conversation.press("returns:reason:damaged")
        assert "photo of the damage" in photo["text"]
        method = await conversation.press("returns:nophoto")
        assert method["text"] == "How would you like to send the items back?"
        registered = await conversation.press("returns:method:courier_pickup")
    rma = re.search(rf"Your return (R-\d{{4}}-\d{{6}}) for order {NUMBER} is registered",
                    registered["text"])
    assert rma is not None
    assert "we will refund 49.00 EUR" in registered["text"]

    # The shop hears of the return after the confirmation; each webhook once, each signed.
    await webhook_shop.wait_for(2)
    assert webhook_shop.types() == ["order.confirmed", "order.return_requested"]
    returned = webhook_shop.delivered[1].payload["data"]
    assert returned["order"]["number"] == NUMBER
    assert returned["order"]["status"] == "return_requested"
    assert (returned["return"]["rma"], returned["return"]["method"],
            returned["return"]["reason"]) == (rma.group(1), "courier_pickup", "damaged")
    assert all(hook.verified for hook in webhook_shop.received)
    assert all(hook.status == 200 for hook in webhook_shop.received)  # nothing sent twice
    ids = [hook.webhook_id for hook in webhook_shop.received]
    assert len(set(ids)) == len(ids) == 2
    # The shop's own facts (created, shipped, delivered) are not told back to it.
    assert [hook.payload["data"]["order"]["number"] for hook in webhook_shop.delivered] == [
        NUMBER, NUMBER]
