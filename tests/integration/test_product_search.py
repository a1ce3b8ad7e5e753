"""The product search's index sees every change of the catalogue by the next question: a
product added, renamed or deleted through the shop API of this bot or of another bot on the
same database (two processes in production), and not one that was rolled back; stock is
always live. A 10,000-product catalogue answers as the scan of every product did."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from orders.catalogue import CatalogueProduct, put_products
from orders.demo import NAMES
from orders.stock import find_products
from orders.tables import Product
from tests.conftest import API_KEY, BotFactory
from tests.dialog.conftest import Conversation
from tests.product_scan import full_scan

CATALOGUE = [
    ("MG-810", "Coffee mug 'Ship it'", 80),
    ("MN-410", "Monitor arm", 0),
    ("MN-400", "27\" monitor", 7),
    ("HD-300", "Noise-cancelling headphones", 12),
    ("HD-310", "In-ear headphones", 0),
    ("KB-100", "Mechanical keyboard", 25),
]
NOT_FOUND = ("Sorry, I could not find that product in our catalogue. Please tell me its name "
             "in other words, or talk to a person.")


def product(sku: str, name: str, available: int) -> CatalogueProduct:
    names = {"en": name, **dict(zip(("pl", "ru"), NAMES.get(sku, ()), strict=False))}
    return CatalogueProduct(sku=sku, names=names, category="general", price_minor=1000,
                            currency="EUR", available=available)


@pytest.fixture
async def bot(make_bot: BotFactory, database_url: str) -> Orderbot:
    bot = await make_bot(database_url, demo={"enabled": False})
    async with bot.database.transaction() as session:
        await put_products(session, [product(*row) for row in CATALOGUE])
    return bot


async def api_of(bot: Orderbot) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(bot)), base_url="http://test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


@pytest.fixture
async def api(bot: Orderbot) -> AsyncIterator[httpx.AsyncClient]:
    async for client in api_of(bot):
        yield client


@pytest.fixture
async def other_api(make_bot: BotFactory, database_url: str,
                    bot: Orderbot) -> AsyncIterator[httpx.AsyncClient]:
    """The shop API of a second bot on the same database, with an index of its own."""
    other = await make_bot(database_url, demo={"enabled": False})
    async for client in api_of(other):
        yield client


def put_body(name: str | dict[str, str], available: int) -> dict[str, object]:
    return {"name": name, "category": "home", "price": "19.99", "currency": "EUR",
            "available": available}


async def test_a_renamed_product_is_found_by_its_new_name_at_the_next_question(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    customer = Conversation(bot)
    assert await customer.say("do you have the ceramic mug?") == (
        "Yes, Coffee mug 'Ship it' is in stock: 80 available.")
    renamed = await api.put("/api/products/MG-810", json=put_body(
        {"en": "Teapot 'Ship it'", "pl": "Dzbanek Ship it", "ru": "Чайник Ship it"}, 80))
    assert renamed.status_code == 200

    assert await Conversation(bot).say("do you have a teapot?") == (
        "Yes, Teapot 'Ship it' is in stock: 80 available.")
    assert await Conversation(bot).say("czy macie dzbanek?") == (
        "Tak, produkt „Dzbanek Ship it” jest dostępny: 80 szt. w magazynie.")
    assert await Conversation(bot).say("do you have the ceramic mug?") == NOT_FOUND


async def test_a_product_added_and_deleted_by_another_bot_is_seen_by_the_next_question(
    bot: Orderbot, other_api: httpx.AsyncClient
) -> None:
    assert await Conversation(bot).say("do you have an electric kettle?") == NOT_FOUND

    added = await other_api.put("/api/products/KT-500", json=put_body("Electric kettle", 6))
    assert added.status_code == 201
    assert await Conversation(bot).say("do you have an electric kettle?") == (
        "Yes, Electric kettle is in stock: 6 available.")

    # Stock alone leaves the index as it is, and is read live.
    restocked = await other_api.put("/api/stock/KT-500", json={"available": 2})
    assert restocked.status_code == 200
    assert await Conversation(bot).say("do you have an electric kettle?") == (
        "Yes, Electric kettle is in stock: 2 available.")

    assert (await other_api.delete("/api/products/KT-500")).status_code == 204
    assert await Conversation(bot).say("do you have an electric kettle?") == NOT_FOUND


async def test_a_rename_rolled_back_is_not_seen(bot: Orderbot) -> None:
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with bot.database.transaction() as session:
            await put_products(session, [product("MG-810", "Teapot", 80)])
            # Its own transaction sees the rename...
            assert [p.sku for p in await find_products(session, "teapot", "en")] == ["MG-810"]
            raise Abandoned
    # ...no other does, once it is rolled back.
    async with bot.database.transaction() as session:
        assert await find_products(session, "teapot", "en") == []
        [mug] = await find_products(session, "a mug", "en")
    assert (mug.sku, mug.name) == ("MG-810", "Coffee mug 'Ship it'")


# Generated products: 6 colours x 8 things, in three languages, each pair many times.
COLOURS = [("Red", "Czerwony", "Красный"), ("Green", "Zielony", "Зелёный"),
           ("Yellow", "Żółty", "Жёлтый"), ("Black", "Czarny", "Чёрный"),
           ("White", "Biały", "Белый"), ("Purple", "Fioletowy", "Фиолетовый")]
THINGS = [("chair", "fotel", "кресло"), ("kettle", "czajnik", "чайник"),
          ("backpack", "plecak", "рюкзак"), ("bottle", "butelka", "бутылка"),
          ("speaker", "głośnik", "колонка"), ("tripod", "statyw", "штатив"),
          ("umbrella", "parasol", "зонт"), ("tent", "namiot", "палатка")]


def generated(n: int) -> CatalogueProduct:
    colour, thing = COLOURS[n % len(COLOURS)], THINGS[n // len(COLOURS) % len(THINGS)]
    return CatalogueProduct(
        sku=f"GEN-{n:05d}", category="generated", price_minor=1000, currency="EUR",
        available=n % 5,
        names={language: f"{colour[i]} {thing[i]} {n}"
               for i, language in enumerate(("en", "pl", "ru"))})


QUESTIONS = [
    "do you have the ceramic mug?", "czy macie kubek?", "нужна кружку",
    "is the monitor arm in stock", "a monitor please", "klawiatury mechaniczne", "headphones",
    "słuchawki douszne", "do you have a unicorn saddle?", "I plan to visit",
    "GEN-04321", "gen 00017", "black kettle", "a green tent", "kettles", "чайники",
    "красный чайник 1234", "zielone parasole", "czarne fotele", "umbrellas",
    "the white speakers", "żółty statyw", "фиолетовое кресло", "tents", "purple", "bottles",
]


async def test_a_catalogue_of_ten_thousand_products_answers_as_the_full_scan(
    bot: Orderbot
) -> None:
    async with bot.database.transaction() as session:
        for start in range(0, 10_000, 2_000):
            await put_products(session, [generated(n) for n in range(start, start + 2_000)])
    async with bot.database.transaction() as session:
        rows = [(sku, dict(names)) for sku, names in await session.execute(
            select(Product.sku, Product.names))]
        assert len(rows) == 10_006
        for text in QUESTIONS:
            found = await find_products(session, text, "en")
            assert [p.sku for p in found] == full_scan(rows, text), text
        [one] = await find_products(session, "GEN-04321", "pl")
    assert (one.name, one.available) == ("Zielony fotel 4321", 1)
    # A customer is answered about a generated product in a conversation, too.
    assert await Conversation(bot).say("do you have GEN-00017?") == (
        "Yes, Purple backpack 17 is in stock: 2 available.")
