"""Stock questions in the order core and the shop API, on SQLite and PostgreSQL: products
found by what customers call them, subscriptions unique per customer and product, and a
restock that tells each waiting customer once, on their channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.messages import ConversationKey
from orders.catalogue import CatalogueProduct, put_products
from orders.demo import NAMES
from orders.service import CustomerView, NewCustomer
from orders.stock import (
    ProductInfo,
    find_products,
    notify_back_in_stock,
    subscribe,
    waiting_customers,
)
from orders.tables import StockSubscription
from storage.database import Database, make_engine
from tests.conftest import API_KEY, BotFactory

CATALOGUE = [
    ("MG-810", "Coffee mug 'Ship it'", 80, None),
    ("MN-410", "Monitor arm", 0, date(2026, 12, 8)),
    ("MN-400", "27\" monitor", 7, None),
    ("HD-300", "Noise-cancelling headphones", 12, None),
    ("HD-310", "In-ear headphones", 0, date(2026, 12, 4)),
    ("KB-100", "Mechanical keyboard", 25, None),
]


@pytest.fixture
async def bot(make_bot: BotFactory, database_url: str) -> Orderbot:
    bot = await make_bot(database_url, demo={"enabled": False})
    async with bot.database.transaction() as session:
        await put_products(session, [
            CatalogueProduct(sku=sku, names={"en": name, "pl": NAMES[sku][0], "ru": NAMES[sku][1]},
                             category="general", price_minor=0, currency="EUR",
                             available=stock, expected_date=expected)
            for sku, name, stock, expected in CATALOGUE
        ])
    return bot


@pytest.fixture
async def api(bot: Orderbot) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(bot)), base_url="http://test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


async def names(bot: Orderbot, text: str, language: str = "en") -> list[str]:
    async with bot.database.transaction() as session:
        return [p.sku for p in await find_products(session, text, language)]


@pytest.mark.parametrize(("text", "skus"), [
    ("do you have the ceramic mug?", ["MG-810"]),
    ("Do you have mugs?", ["MG-810"]),
    ("czy macie kubek?", ["MG-810"]),
    ("есть ли кружка?", ["MG-810"]),
    ("нужна кружку", ["MG-810"]),
    ("is the monitor arm in stock", ["MN-410"]),  # more specific than "monitor"
    ("a monitor please", ["MN-400"]),
    ("klawiatury mechaniczne", ["KB-100"]),
    ("MN-410", ["MN-410"]),
    ("headphones", ["HD-300", "HD-310"]),  # ambiguous: both
    ("słuchawki douszne", ["HD-310"]),
    ("do you have a unicorn saddle?", []),
    ("I plan to visit", []),
])
async def test_products_are_found_by_what_customers_call_them(
    bot: Orderbot, text: str, skus: list[str]
) -> None:
    assert await names(bot, text) == skus


async def test_names_are_given_in_the_customers_language(bot: Orderbot) -> None:
    async with bot.database.transaction() as session:
        [mug] = await find_products(session, "kubek", "pl")
        [arm] = await find_products(session, "monitor arm", "ru")
    assert (mug.name, mug.available, mug.in_stock) == ("Kubek Ship it", 80, True)
    assert (arm.name, arm.available, arm.expected_date) == (
        "Кронштейн для монитора", 0, date(2026, 12, 8)
    )


async def new_customer(bot: Orderbot, name: str, language: str = "en") -> int:
    async with bot.database.transaction() as session:
        customer = await bot.orders.find_or_create_customer(
            session, NewCustomer(name=name, language=language)
        )
        return customer.id


async def waiting_in_chat(bot: Orderbot, name: str, language: str, sku: str) -> ConversationKey:
    """A customer with a web chat of their own, waiting for sku to come back."""
    key = ConversationKey("webchat", f"{name.lower()}-chat")
    customer = await new_customer(bot, name, language)
    async with bot.units() as uow:
        state = await bot.store.load(uow, key, language, customer)
        await bot.store.save(uow, state)
        await subscribe(uow.session, customer, sku)
        await uow.commit()
    return key


async def test_a_customer_waits_for_a_product_once(bot: Orderbot) -> None:
    ann = await new_customer(bot, "Ann")
    async with bot.database.transaction() as session:
        assert await subscribe(session, ann, "MN-410")
        assert not await subscribe(session, ann, "MN-410")
        assert await waiting_customers(session, "MN-410") == [ann]
        rows = list(await session.scalars(select(StockSubscription)))
    assert len(rows) == 1


class Recording:
    def __init__(self) -> None:
        self.told: list[tuple[str, str, int]] = []

    async def back_in_stock(
        self, session: object, customer: CustomerView, product: ProductInfo
    ) -> None:
        self.told.append((customer.name, product.sku, product.available))


async def test_a_restock_tells_each_waiting_customer_once(bot: Orderbot) -> None:
    ann, bob = await new_customer(bot, "Ann"), await new_customer(bot, "Bob")
    async with bot.database.transaction() as session:
        await subscribe(session, ann, "MN-410")
        await subscribe(session, bob, "MN-410")
        await subscribe(session, bob, "HD-310")
    recording = Recording()
    async with bot.database.transaction() as session:
        assert await notify_back_in_stock(session, "MN-410", bot.orders, recording) == 0  # none
        await bot.orders.set_stock(session, "MN-410", 5, None)
        assert await notify_back_in_stock(session, "MN-410", bot.orders, recording) == 2
    async with bot.database.transaction() as session:
        assert await notify_back_in_stock(session, "MN-410", bot.orders, recording) == 0
        assert await waiting_customers(session, "MN-410") == []
        assert await waiting_customers(session, "HD-310") == [bob]
    assert recording.told == [("Ann", "MN-410", 5), ("Bob", "MN-410", 5)]
    async with bot.database.transaction() as session:  # told once: waiting again is new
        assert await subscribe(session, ann, "MN-410")


async def test_two_restocks_at_the_same_moment_tell_a_customer_once(
    bot: Orderbot, database_url: str
) -> None:
    ann = await new_customer(bot, "Ann")
    async with bot.database.transaction() as session:
        await subscribe(session, ann, "MN-410")
        await bot.orders.set_stock(session, "MN-410", 3, None)
    other = Database(make_engine(database_url))  # a second process
    recording = Recording()

    async def restock(database: Database) -> int:
        async with database.transaction() as session:
            return await notify_back_in_stock(session, "MN-410", bot.orders, recording)

    try:
        told = await asyncio.gather(restock(bot.database), restock(other))
    finally:
        await other.dispose()
    assert sorted(told) == [0, 1]
    assert recording.told == [("Ann", "MN-410", 3)]


async def test_put_stock_above_zero_messages_the_waiting_customer_in_their_chat(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    key = await waiting_in_chat(bot, "Anna", "pl", "MN-410")

    still_out = await api.put("/api/stock/MN-410", json={"available": 0,
                                                          "expected_date": "2026-12-10"})
    assert still_out.status_code == 200
    assert (await bot.manager.history(key))[1] == []
    back = await api.put("/api/stock/MN-410", json={"available": 4})
    assert back.status_code == 200 and back.json()["available"] == 4
    again = await api.put("/api/stock/MN-410", json={"available": 9})
    assert again.status_code == 200
    _, history = await bot.manager.history(key)
    assert [entry.text for entry in history] == [
        "Dobra wiadomość: produkt „Ramię do monitora” jest znowu dostępny (4 szt.)."
    ]
    unknown = await api.put("/api/stock/NOPE-1", json={"available": 4})
    assert unknown.status_code == 404
