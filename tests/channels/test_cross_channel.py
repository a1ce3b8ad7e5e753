"""One customer across channels: the shop's messages follow her to the channel she used last,
unless the shop names another; an order's chat link opens that order in Telegram, not her.

One bot with Telegram and email on, a Telegram Bot API double and an SMTP relay double.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiosmtplib
import httpx
import pytest

from composition.bootstrap import Orderbot
from tests.conftest import API_KEY, BotFactory, LiveServer, serve
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble, customer_mail
from tests.doubles.telegram_api import (
    USERS,
    WEBHOOK_SECRET,
    TelegramApiDouble,
    text_update,
)
from tests.servers import free_port

SHOP = "orders@shop.example"
OLIVIA_MAIL = "olivia.brown@example.com"
OLIVIA_CHAT = int(USERS["olivia"]["id"])


@pytest.fixture
async def server(
    make_bot: BotFactory, telegram_api: TelegramApiDouble, relay: SmtpRelayDouble
) -> AsyncIterator[LiveServer]:
    bot = await make_bot(
        http={"port": free_port()},
        telegram=telegram_api.bot_settings(),
        email={"enabled": True, "listen_port": free_port(), "address": SHOP,
               "relay_host": "127.0.0.1", "relay_port": relay.port, "authserv_id": MTA},
    )
    live = await serve(bot)
    yield live
    await live.stop()


class Olivia:
    """Olivia Brown of the demo shop, with a mailbox and a Telegram account."""

    def __init__(self, server: LiveServer, telegram: TelegramApiDouble,
                 relay: SmtpRelayDouble) -> None:
        self.server, self.telegram, self.relay = server, telegram, relay

    @property
    def bot(self) -> Orderbot:
        return self.server.bot

    @property
    def telegram_replies(self) -> list[dict[str, Any]]:
        return self.telegram.sent(OLIVIA_CHAT)

    @property
    def mails(self) -> list[Any]:
        return self.relay.to(OLIVIA_MAIL)

    async def mail(self, text: str) -> str:
        before = len(self.mails)
        await aiosmtplib.send(customer_mail(OLIVIA_MAIL, text, to=SHOP), hostname="127.0.0.1",
                              port=self.bot.settings.email.listen_port)
        await self.bot.inbox.drain()
        return str((await self.relay.wait_for(before + 1, OLIVIA_MAIL))[before].text)

    async def telegram_says(self, text: str, replies: int = 1) -> list[str]:
        before = len(self.telegram_replies)
        update = text_update(self.telegram.next_update_id(), "olivia", text)
        async with httpx.AsyncClient(base_url=self.server.url) as client:
            response = await client.post(
                "/telegram/webhook", content=json.dumps(update),
                headers={"Content-Type": "application/json",
                         "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
        assert response.status_code == 200
        await self.bot.inbox.drain()
        await self.telegram.wait_until(lambda: len(self.telegram_replies) >= before + replies)
        return [str(m["text"]) for m in self.telegram_replies[before:]]


async def shop(server: LiveServer, method: str, path: str, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        response = await client.request(method, "/api" + path, json=body or None)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def olivias_orders(bot: Orderbot) -> dict[str, str]:
    """Her demo orders, number -> status."""
    async with bot.database.transaction() as session:
        customer = await bot.orders.customer_by_email(session, OLIVIA_MAIL)
        assert customer is not None
        orders = await bot.orders.orders_of_customer(session, customer.id)
    return {order.number: order.status.value for order in orders}


@pytest.fixture
def olivia(server: LiveServer, telegram_api: TelegramApiDouble,
           relay: SmtpRelayDouble) -> Olivia:
    return Olivia(server, telegram_api, relay)


async def test_what_she_did_by_email_stays_hers_and_news_follow_her_own_conversation(
    server: LiveServer, olivia: Olivia
) -> None:
    orders = await olivias_orders(server.bot)
    shipped = next(n for n, s in orders.items() if s == "shipped")
    pending = next(n for n, s in orders.items() if s == "pending_confirmation")
    tracking = (await shop(server, "GET", f"/orders/{shipped}"))["tracking"]["tracking_number"]

    # By email: she writes from the address on the order, so she needs no other proof.
    answer = await olivia.mail(f"Hello, where is my order {shipped}?")
    assert tracking in answer

    # In Telegram she opens the chat link of another order: the chat may see that order...
    link = (await shop(server, "GET", f"/orders/{pending}"))["links"]["telegram"]
    assert link.startswith("https://t.me/orderbot_test_bot?start=")
    token = link.partition("?start=")[2]
    linked = await olivia.telegram_says(f"/start {token}", replies=2)
    assert linked[0] == f"Hello Olivia! This chat is now linked to your order {pending}."

    # ...and that one only: a link can be forwarded, so it does not make the chat hers
    # (docs/security.md). Her other order needs its proof there.
    [status] = await olivia.telegram_says(f"where is my order {shipped}?")
    assert tracking not in status and "postcode" in status

    # The shop's news of her orders goes to her own conversation (her mailbox, where she
    # wrote); the Telegram chat gets a copy of the news of the order it was linked to only.
    await shop(server, "POST", f"/orders/{shipped}/events", type="delivered")
    await shop(server, "POST", f"/orders/{pending}/events", type="payment_received")
    paid = f"We have received the payment for order {pending}"
    await server.bot.outbox.drain()
    mails = await olivia.relay.wait_for(3, OLIVIA_MAIL)
    assert any(f"{shipped} has been delivered" in m.text for m in mails)
    assert any(paid in m.text for m in mails)
    await olivia.telegram.wait_until(
        lambda: any(paid in m["text"] for m in olivia.telegram_replies))
    assert not any(f"{shipped} has been delivered" in m["text"]
                   for m in olivia.telegram_replies)


async def test_the_shop_can_name_the_channel_for_a_new_order(
    server: LiveServer, olivia: Olivia
) -> None:
    orders = await olivias_orders(server.bot)
    pending = next(n for n, s in orders.items() if s == "pending_confirmation")
    link = (await shop(server, "GET", f"/orders/{pending}"))["links"]["telegram"]
    await olivia.telegram_says(f"/start {link.partition('?start=')[2]}", replies=2)
    telegram_before = len(olivia.telegram_replies)

    created = await shop(server, "POST", "/orders", **{
        "number": "B-3001",
        "customer": {"name": "Olivia Brown", "email": OLIVIA_MAIL, "language": "en",
                     "preferred_channel": "email"},
        "lines": [{"sku": "KB-100", "name": "Mechanical keyboard", "quantity": 1,
                   "unit_price": "89.00"}],
        "currency": "EUR",
    })
    assert created["number"] == "B-3001"
    [mail] = await olivia.relay.wait_for(1, OLIVIA_MAIL)
    assert "B-3001" in mail.text
    await server.bot.outbox.drain()
    assert len(olivia.telegram_replies) == telegram_before  # not written to twice
