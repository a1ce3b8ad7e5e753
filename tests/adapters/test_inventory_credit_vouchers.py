"""The inventory, credit check and voucher adapters: local (the shop's database) and HTTP
(against a small test server on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiohttp import web

from adapters.credit_check.http import HttpCreditCheck
from adapters.credit_check.local import LocalCreditCheck
from adapters.inventory.http import HttpInventory
from adapters.inventory.local import LocalInventory
from adapters.vouchers.http import HttpVouchers
from orders.credit_check import CreditCheckUnavailable
from orders.inventory import InventoryUnavailable, Place
from orders.tables import Product
from orders.vouchers import VoucherRefused, VouchersUnavailable
from tests.integration.test_confirmation import database  # noqa: F401  (both databases)

TODAY = date(2026, 11, 24)


async def test_local_inventory_levels_alternatives_stores_and_accessory(
    database,  # noqa: F811
) -> None:
    inventory = LocalInventory()
    async with database.transaction() as session:
        session.add_all([
            Product(sku="M-1", name="Mouse", category="computers", price_minor=5000, stock=0),
            Product(sku="M-2", name="Mouse 2", category="computers", price_minor=5500, stock=9),
            Product(sku="M-3", name="Mouse 3", category="computers", price_minor=4800, stock=9),
            Product(sku="M-4", name="Pricey", category="computers", price_minor=9000, stock=9),
            Product(sku="C-1", name="Cable", category="accessories", price_minor=900, stock=5),
        ])
        await session.flush()
        levels = await inventory.levels(session, ["M-1", "NOPE"])
        assert list(levels) == ["M-1"] and levels["M-1"].available == 0
        alternatives = await inventory.alternatives(session, "M-1", 1)
        assert [a.sku for a in alternatives] == ["M-3", "M-2"]  # closest price first
        assert [s.id for s in await inventory.stores_with(session, {"M-2": 4})] == ["WAW-1"]
        assert await inventory.stores_with(session, {"M-1": 1}) == []
        accessory = await inventory.accessory_for(session, ["M-2"])
        assert accessory is not None and accessory.sku == "C-1"


async def test_local_inventory_offers_a_products_own_accessories_first(
    database,  # noqa: F811
) -> None:
    inventory = LocalInventory()
    async with database.transaction() as session:
        session.add_all([
            Product(sku="L-1", name="Laptop", category="computers", price_minor=90000, stock=3,
                    accessories=["B-1", "GONE-1", "S-1"]),
            Product(sku="B-1", name="Bag", category="bags", price_minor=5000, stock=0),
            Product(sku="S-1", name="Sleeve", category="bags", price_minor=2500, stock=4),
            Product(sku="C-1", name="Cable", category="accessories", price_minor=900, stock=5),
        ])
        await session.flush()
        # Its list, in its order: the bag is out of stock, GONE-1 unknown; then the sleeve.
        accessory = await inventory.accessory_for(session, ["L-1"])
        assert accessory is not None and accessory.sku == "S-1"
        # Already ordered: the category rule again (the cheapest accessory).
        accessory = await inventory.accessory_for(session, ["L-1", "S-1"])
        assert accessory is not None and accessory.sku == "C-1"


async def test_local_credit_check_approves_up_to_its_limit() -> None:
    check = LocalCreditCheck(limit_minor=10_000)
    assert (await check.check(None, 1, 10_000, "EUR")).approved
    assert not (await check.check(None, 1, 10_001, "EUR")).approved


@pytest.fixture
async def service() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A fake ERP / credit / voucher service; records each request."""
    seen: list[dict[str, Any]] = []

    async def record(request: web.Request) -> None:
        body = await request.json() if request.can_read_body else None
        seen.append({"path": request.path, "auth": request.headers.get("Authorization"),
                     "query": dict(request.query), "body": body})

    async def stock(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"items": [{"sku": sku, "name": "Mouse", "category": "c",
                                             "price_minor": 5000, "available": 0,
                                             "expected_date": "2026-12-01"}
                                            for sku in request.query.getall("sku")]})

    async def stores(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"stores": [{"id": "S1", "name": "Main", "address": "1 St"}]})

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    async def checks(request: web.Request) -> web.Response:
        await record(request)
        body = await request.json()
        return web.json_response({"approved": body["amount_minor"] < 1000, "reference": "r1"})

    async def quotes(request: web.Request) -> web.Response:
        await record(request)
        body = await request.json()
        if body["code"] == "OLD":
            return web.json_response({"reason": "expired"}, status=422)
        return web.json_response({"code": body["code"], "discount_minor": 250})

    app = web.Application()
    app.router.add_get("/stock", stock)
    app.router.add_post("/stores", stores)
    app.router.add_get("/alternatives", broken)
    app.router.add_post("/checks", checks)
    app.router.add_post("/quotes", quotes)
    app.router.add_post("/redemptions", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_http_inventory(service: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = service
    inventory = HttpInventory(url, "k3y", 5)
    levels = await inventory.levels(None, ["A", "B"])
    assert levels["B"].expected_date == date(2026, 12, 1)
    assert seen[0]["auth"] == "Bearer k3y"
    assert await inventory.stores_with(None, {"A": 2}) == [Place("S1", "Main", "1 St")]
    assert seen[1]["body"] == {"items": {"A": 2}}
    with pytest.raises(InventoryUnavailable, match="answered 500"):
        await inventory.alternatives(None, "A", 1)
    with pytest.raises(InventoryUnavailable, match="unreachable"):
        await HttpInventory("http://127.0.0.1:1", "", 1).levels(None, ["A"])


async def test_http_credit_check(service: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = service
    check = HttpCreditCheck(url, "k3y", 5)
    assert (await check.check(None, 7, 999, "EUR")).approved
    assert not (await check.check(None, 7, 5000, "EUR")).approved
    assert seen[0]["body"] == {"customer_id": 7, "amount_minor": 999, "currency": "EUR"}
    with pytest.raises(CreditCheckUnavailable):
        await HttpCreditCheck("http://127.0.0.1:1", "", 1).check(None, 7, 1, "EUR")


async def test_http_vouchers(service: tuple[str, list[dict[str, Any]]]) -> None:
    url, _seen = service
    vouchers = HttpVouchers(url, "k3y", 5)
    quote = await vouchers.quote(None, " save 5 ", 5000, "EUR", TODAY)
    assert (quote.code, quote.discount_minor) == ("SAVE5", 250)
    with pytest.raises(VoucherRefused) as refused:
        await vouchers.quote(None, "old", 5000, "EUR", TODAY)
    assert refused.value.reason == "expired"
    with pytest.raises(VouchersUnavailable):
        await vouchers.redeem(None, "SAVE5", "A-1", TODAY)
