"""The catalogue in the shop API: PUT/GET/DELETE /api/products/{sku}, GET /api/products?q=,
on a bot with no demo data, on SQLite and PostgreSQL (the bot and api fixtures of
tests/integration/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from composition.app import make_app
from composition.bootstrap import Orderbot
from tests.integration.test_shop_api import order_body
from tests.integration.test_stock import waiting_in_chat


def keyboard(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": {"en": "Mechanical keyboard", "pl": "Klawiatura mechaniczna",
                 "ru": "Механическая клавиатура"},
        "category": "computers", "price": "89.00", "currency": "EUR", "available": 25,
        "expected_date": None, "returnable": True, "accessories": ["MS-200"],
    }
    body.update(changes)
    return body


async def test_a_product_is_created_read_replaced_and_deleted(api: httpx.AsyncClient) -> None:
    created = await api.put("/api/products/KB-100", json=keyboard())
    assert created.status_code == 201
    assert created.json() == {
        "sku": "KB-100", "category": "computers", "price": 89.0, "currency": "EUR",
        "available": 25, "expected_date": None, "returnable": True, "accessories": ["MS-200"],
        "name": {"en": "Mechanical keyboard", "pl": "Klawiatura mechaniczna",
                 "ru": "Механическая клавиатура"},
    }
    assert (await api.get("/api/products/KB-100")).json() == created.json()

    replaced = await api.put("/api/products/KB-100", json=keyboard(
        name="Clicky keyboard", price=79.5, available=0, expected_date="2026-12-20",
        returnable=False))
    assert replaced.status_code == 200
    shown = (await api.get("/api/products/KB-100")).json()
    assert shown["name"] == {"en": "Clicky keyboard"}  # a plain string: every language
    assert (shown["price"], shown["available"], shown["expected_date"], shown["returnable"]) == (
        79.5, 0, "2026-12-20", False)

    assert (await api.delete("/api/products/KB-100")).status_code == 204
    assert (await api.get("/api/products/KB-100")).status_code == 404
    assert (await api.delete("/api/products/KB-100")).status_code == 404


async def test_unknown_products_are_404(api: httpx.AsyncClient) -> None:
    missing = await api.get("/api/products/NOPE-1")
    assert missing.status_code == 404 and missing.json() == {"detail": "no product NOPE-1"}


def bad_fields(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 422, answer.text
    return {".".join(str(part) for part in error["loc"][1:3]) for error in answer.json()["detail"]}


async def test_bad_bodies_are_422_naming_each_field_and_store_nothing(
    api: httpx.AsyncClient,
) -> None:
    assert bad_fields(await api.put("/api/products/KB-100", json=keyboard(price=-1))) == {"price"}
    assert bad_fields(await api.put("/api/products/KB-100", json=keyboard(
        available="many", currency="euro", expected_date="20.12.2026", colour="red",
    ))) == {"available", "currency", "expected_date", "colour"}
    german = bad_fields(await api.put("/api/products/KB-100", json=keyboard(
        name={"de": "Tastatur"}, accessories=["no spaces"])))
    assert "accessories.0" in german and {field.split(".")[0] for field in german} == {
        "name", "accessories"}
    nameless = bad_fields(await api.put("/api/products/KB-100", json=keyboard(name={})))
    assert {field.split(".")[0] for field in nameless} == {"name"}
    without_price = keyboard()
    del without_price["price"]
    assert bad_fields(await api.put("/api/products/KB-100", json=without_price)) == {"price"}
    malformed = await api.put("/api/products/KB-100", content=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422
    not_an_object = await api.put("/api/products/KB-100", json=["KB-100"])
    assert not_an_object.status_code == 422
    assert (await api.get("/api/products/KB-100")).status_code == 404  # nothing stored


async def test_a_sku_too_long_or_with_bad_characters_is_422(api: httpx.AsyncClient) -> None:
    for sku in ("K" * 65, "KB 100", "KB*100", "-KB", "КБ-100"):
        answer = await api.put(f"/api/products/{sku}", json=keyboard())
        assert answer.status_code == 422, sku
        assert answer.json()["detail"][0]["loc"] == ["path", "sku"]
    listed = await api.get("/api/products")
    assert listed.json() == {"products": [], "next_cursor": None}


async def test_the_api_key_is_needed(bot: Orderbot) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://test") as anonymous:
        assert (await anonymous.put("/api/products/KB-100", json=keyboard())).status_code == 401
        assert (await anonymous.get("/api/products")).status_code == 401
        assert (await anonymous.delete("/api/products/KB-100")).status_code == 401


async def test_search_finds_sku_and_every_languages_name_without_diacritics_paged(
    api: httpx.AsyncClient,
) -> None:
    products = {
        "LM-800": {"en": "Desk lamp", "pl": "Lampka biurkowa", "ru": "Настольная лампа"},
        "CH-520": {"en": "USB-C charger", "pl": "Ładowarka USB-C", "ru": "Зарядное устройство"},
        "MG-810": {"en": "Coffee mug", "pl": "Kubek", "ru": "Ёмкая кружка"},
        "KB-100": {"en": "Mechanical keyboard"},
    }
    for sku, names in products.items():
        assert (await api.put(f"/api/products/{sku}", json=keyboard(name=names))).is_success

    async def found(query: str) -> list[str]:
        answer = await api.get("/api/products", params={"q": query})
        assert answer.status_code == 200
        return [product["sku"] for product in answer.json()["products"]]

    assert await found("LAMP") == ["LM-800"]
    assert await found("ładowarka") == await found("ladowarka") == ["CH-520"]
    assert await found("емкая") == await found("ЁМКАЯ") == ["MG-810"]
    assert await found("kb-1") == ["KB-100"]
    assert await found("100%") == [] and await found("_") == []  # no wildcards
    assert await found("") == ["CH-520", "KB-100", "LM-800", "MG-810"]

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/api/products", params=params)).json()
        pages.append([product["sku"] for product in page["products"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [["CH-520", "KB-100", "LM-800"], ["MG-810"]]
    assert (await api.get("/api/products", params={"limit": 0})).status_code == 422
    assert (await api.get("/api/products", params={"limit": "x"})).status_code == 422


async def test_a_put_that_brings_stock_back_tells_the_waiting_customer(
    bot: Orderbot, api: httpx.AsyncClient,
) -> None:
    arm = {"en": "Monitor arm", "pl": "Ramię do monitora", "ru": "Кронштейн для монитора"}
    assert (await api.put("/api/products/MN-410", json=keyboard(
        name=arm, available=0))).status_code == 201
    key = await waiting_in_chat(bot, "Olga", "ru", "MN-410")

    for available in (3, 5):  # from 0, then up again
        answer = await api.put("/api/products/MN-410", json=keyboard(name=arm,
                                                                     available=available))
        assert answer.status_code == 200
    _, history = await bot.manager.history(key)
    assert [entry.text for entry in history] == [  # once, in her language
        "Хорошие новости: товар «Кронштейн для монитора» снова в наличии (3 шт.)."]


async def test_a_retried_put_with_an_idempotency_key_gets_the_first_answer(
    api: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "catalogue-1"}
    first = await api.put("/api/products/KB-100", json=keyboard(), headers=headers)
    again = await api.put("/api/products/KB-100", json=keyboard(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    other = await api.put("/api/products/KB-100", json=keyboard(available=1), headers=headers)
    assert other.status_code == 422
    assert (await api.get("/api/products/KB-100")).json()["available"] == 25


async def test_deleting_a_product_leaves_past_orders_as_they_were(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.put("/api/products/KB-100", json=keyboard())).status_code == 201
    assert (await api.post("/api/orders", json=order_body("C-1"))).status_code == 201
    assert (await api.delete("/api/products/KB-100")).status_code == 204
    order = (await api.get("/api/orders/C-1")).json()
    assert [(line["sku"], line["name"], line["quantity"]) for line in order["lines"]] == [
        ("KB-100", "Mechanical keyboard", 2), ("CB-500", "USB-C cable", 1)]
