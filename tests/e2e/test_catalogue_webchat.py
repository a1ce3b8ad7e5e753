"""A shop with no demo data loads its catalogue through the API, and a customer in the web chat
(a real WebSocket) asks for products by name, gets an alternative for one out of stock, is
offered an accessory and confirms the shop's order, all with names in their own language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from channels.webchat.identity import signed_identity
from tests.conftest import API_KEY, BotFactory, LiveServer, free_port, serve
from tests.e2e.test_webchat import Chat, chat

CATALOGUE: dict[str, dict[str, Any]] = {
    "KB-100": {"name": {"en": "Mechanical keyboard", "pl": "Klawiatura mechaniczna",
                        "ru": "Механическая клавиатура"},
               "category": "keyboards", "price": "89.00", "available": 25},
    "KB-110": {"name": {"en": "Wireless keyboard", "pl": "Klawiatura bezprzewodowa",
                        "ru": "Беспроводная клавиатура"},
               "category": "keyboards", "price": "49.00", "available": 0},
    "KB-120": {"name": {"en": "Compact keyboard", "pl": "Klawiatura kompaktowa",
                        "ru": "Компактная клавиатура"},
               "category": "keyboards", "price": "45.00", "available": 10,
               "accessories": ["PD-300"]},
    "PD-300": {"name": {"en": "Wrist rest", "pl": "Podkładka pod nadgarstki",
                        "ru": "Подставка для запястий"},
               "category": "desk", "price": "15.00", "available": 30},
}
# What the customer says, and what the bot must show, in each language.
SAYS = {
    "en": {"ask": "do you have a mechanical keyboard?",
           "ask_out": "do you have a wireless keyboard?",
           "in_stock": "Yes, Mechanical keyboard is in stock: 25 available.",
           "out": "Wireless keyboard is out of stock right now"},
    "pl": {"ask": "czy macie klawiaturę mechaniczną?",
           "ask_out": "czy macie klawiaturę bezprzewodową?",
           "in_stock": "Tak, produkt „Klawiatura mechaniczna” jest dostępny: 25 szt. w magazynie.",
           "out": "Produkt „Klawiatura bezprzewodowa” jest chwilowo niedostępny"},
    "ru": {"ask": "есть ли механическая клавиатура?",
           "ask_out": "есть ли беспроводная клавиатура?",
           "in_stock": "Да, товар «Механическая клавиатура» есть в наличии: 25 шт.",
           "out": "Товара «Беспроводная клавиатура» сейчас нет в наличии"},
}


@pytest.fixture
async def shop(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    """A bot with no demo data, serving on a port of its own, its catalogue loaded by the API."""
    bot = await make_bot(demo={"enabled": False}, http={"port": free_port()})
    server = await serve(bot)
    async with api(server) as client:
        for sku, product in CATALOGUE.items():
            answer = await client.put(f"/api/products/{sku}", json={"currency": "EUR", **product})
            assert answer.status_code == 201, answer.text
    yield server
    await server.stop()


def api(server: LiveServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"})


def name(sku: str, language: str) -> str:
    return str(CATALOGUE[sku]["name"][language])


async def press(conversation: Chat, message: dict[str, Any], ending: str) -> dict[str, Any]:
    """Press the button of `message` whose payload ends with `ending`."""
    [button] = [b for b in message["buttons"] if b["payload"].endswith(ending)]
    return await conversation.press(button["payload"])


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
async def test_a_shop_without_demo_data_sells_from_its_own_catalogue(
    shop: LiveServer, language: str,
) -> None:
    says = SAYS[language]
    email = f"customer-{language}@example.com"
    identity = {"customer": {"email": email, "name": "Customer"}, "language": language,
                **signed_identity("test-identity-secret", email)}
    async with chat(shop, **identity) as conversation:
        assert (await conversation.say(says["ask"]))["text"] == says["in_stock"]
        assert says["out"] in (await conversation.say(says["ask_out"]))["text"]

        order = {
            "number": f"S-{language.upper()}1",
            "customer": {"name": "Customer", "email": email, "language": language,
                         "preferred_channel": "webchat"},
            # The shop's own (English) line names: the chat shows the catalogue's.
            "lines": [{"sku": "KB-110", "name": "Wireless keyboard", "quantity": 1,
                       "unit_price": "49.00"}],
            "currency": "EUR",
            "delivery": {"method": "courier", "address": {"postcode": "00-001",
                                                          "city": "Warszawa"}},
        }
        async with api(shop) as client:
            created = await client.post("/api/orders", json=order)
        assert created.status_code == 201, created.text
        request = await conversation.next()  # the confirmation, pushed to the open widget
        assert f"1 × {name('KB-110', language)} — " in request["text"]

        stock = await press(conversation, request, ":go")
        assert name("KB-110", language) in stock["text"]
        alternative = [b for b in stock["buttons"] if b["payload"].endswith(":alt-KB-120")]
        assert alternative and alternative[0]["title"].startswith(name("KB-120", language))

        step = await press(conversation, stock, ":alt-KB-120")
        assert name("KB-120", language) in step["text"]
        cross_sell = await walk_to_cross_sell(conversation, step)
        assert name("PD-300", language) in cross_sell["text"]  # KB-120's own accessory

        final = await press(conversation, cross_sell, ":add")
        while not any(b["payload"].endswith(":confirm") for b in final["buttons"]):
            final = await conversation.next()
        assert f"1 × {name('KB-120', language)} — " in final["text"]
        assert f"1 × {name('PD-300', language)} — " in final["text"]
        done = await press(conversation, final, ":confirm")
        assert order["number"] in done["text"]
    async with api(shop) as client:
        confirmed = (await client.get(f"/api/orders/{order['number']}")).json()
    assert confirmed["status"] == "confirmed"
    assert [line["sku"] for line in confirmed["lines"]] == ["KB-120", "PD-300"]


async def walk_to_cross_sell(conversation: Chat, message: dict[str, Any]) -> dict[str, Any]:
    """Delivery by courier, the first day and slot offered, card, no voucher."""
    for _step in range(12):
        payloads = [b["payload"] for b in message["buttons"]]
        if not payloads:  # news before the next question
            message = await conversation.next()
            continue
        if any(p.endswith(":add") for p in payloads):
            return message
        wanted = next((p for p in payloads if p.endswith((":courier", ":card", ":none"))),
                      payloads[0])  # a day, then a slot: the first offered
        message = await conversation.press(wanted)
    raise AssertionError(f"no cross-sell offered; last: {message['text']}")
