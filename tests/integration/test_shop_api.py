"""The shop REST API against the real app: auth, orders, events, stock (DESIGN.md, "Shop API")."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.state import HistoryEntry
from orders.states import OrderStatus
from tests.conftest import API_KEY, BotFactory


def order_body(number: str = "A-1001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": number,
        "customer": {
            "name": "Emma Thompson",
            "email": "emma@example.com",
            "phone": "+44 20 7946 0000",
            "language": "en",
            "preferred_channel": "webchat",
        },
        "lines": [
            {"sku": "KB-100", "name": "Mechanical keyboard", "quantity": 2, "unit_price": "89.00"},
            {"sku": "CB-500", "name": "USB-C cable", "quantity": 1, "unit_price": 12.5},
        ],
        "currency": "EUR",
        "delivery": {"method": "courier", "address": {"city": "London", "postcode": "SW1A 1AA"}},
        "payment": {"method": "card", "status": "pending"},
    }
    body.update(changes)
    return body


def client_for(bot: Orderbot, key: str | None = API_KEY) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(bot)), base_url="http://test", headers=headers
    )




@pytest.fixture
async def demo_bot(make_bot: BotFactory) -> Orderbot:
    """A bot on SQLite with the demo shop (its catalogue has MS-210, out of stock)."""
    return await make_bot()


async def order_count(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return await bot.orders.count_orders(session)


async def confirm(bot: Orderbot, number: str) -> None:
    """The customer confirms in the chat (no shop API call does this)."""
    async with bot.database.transaction() as session:
        await bot.orders.move(session, number, OrderStatus.CONFIRMED, "customer confirmed")


async def transcript(bot: Orderbot, number: str) -> list[HistoryEntry]:
    """The entries of the conversation the customer of this order had last."""
    async with bot.units() as uow:
        order = await bot.orders.get_order(uow.session, number)
        assert order is not None
        state = await bot.store.latest_for_customer(uow, order.customer_id)
        assert state is not None, "the customer has no conversation"
        _language, entries = await bot.store.history(uow, state.key)
    return entries


@pytest.mark.parametrize("key", [None, "wrong-key", API_KEY + "x", ""])
async def test_without_a_valid_key_nothing_is_done(make_bot: BotFactory, key: str | None) -> None:
    bot = await make_bot(demo={"enabled": False})
    async with client_for(bot, key) as client:
        created = await client.post("/api/orders", json=order_body())
        read = await client.get("/api/orders/A-1001")
    assert created.status_code == read.status_code == 401
    assert created.headers["www-authenticate"] == "Bearer"
    assert "API key" in created.json()["detail"]
    assert await order_count(bot) == 0


async def test_creating_an_order_echoes_it_with_links(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    response = await api.post("/api/orders", json=order_body("a-1001"))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["number"] == "A-1001"
    assert order["status"] == "pending_confirmation"
    assert order["total"] == 190.5  # 2 x 89.00 + 12.50
    assert order["currency"] == "EUR"
    assert order["customer"]["email"] == "emma@example.com"
    assert [line["quantity"] for line in order["lines"]] == [2, 1]
    assert order["links"]["webchat"].startswith(f"{bot.settings.base_url}/webchat/chat?link=")


async def test_a_new_order_greets_the_customer(bot: Orderbot, api: httpx.AsyncClient) -> None:
    """Creating an order starts the confirmation conversation with the customer."""
    assert (await api.post("/api/orders", json=order_body())).status_code == 201
    entries = await transcript(bot, "A-1001")
    assert any("A-1001" in entry.text for entry in entries)


async def test_the_same_number_again_is_a_conflict(bot: Orderbot, api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/orders", json=order_body("A-1001"))).status_code == 201
    for number in ("A-1001", "a-1001"):
        again = await api.post("/api/orders", json=order_body(number, currency="PLN"))
        assert again.status_code == 409, again.text
        assert "A-1001" in again.json()["detail"]
    assert await order_count(bot) == 1
    kept = (await api.get("/api/orders/A-1001")).json()
    assert kept["currency"] == "EUR"


async def test_each_bad_field_is_named(bot: Orderbot, api: httpx.AsyncClient) -> None:
    body = order_body()
    del body["customer"]["name"]
    body["customer"]["email"] = "not-an-email"
    body["lines"][1]["quantity"] = 0
    body["currency"] = "EURO"
    response = await api.post("/api/orders", json=body)
    assert response.status_code == 422
    locations = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert locations == {
        ("body", "customer", "name"),
        ("body", "customer", "email"),
        ("body", "lines", 1, "quantity"),
        ("body", "currency"),
    }
    assert await order_count(bot) == 0


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"lines": []}, ("body", "lines")),
        ({"number": "A 1001"}, ("body", "number")),
        ({"payment": {"method": "card", "status": "refunded"}}, ("body", "payment", "status")),
        ({"coupon": "FREE"}, ("body", "coupon")),
    ],
)
async def test_other_bad_bodies_name_the_field(
    make_bot: BotFactory, change: dict[str, Any], location: tuple[Any, ...]
) -> None:
    bot = await make_bot(demo={"enabled": False})
    async with client_for(bot) as client:
        response = await client.post("/api/orders", json=order_body(**change))
    assert response.status_code == 422
    assert location in {tuple(error["loc"]) for error in response.json()["detail"]}
    assert await order_count(bot) == 0


async def test_malformed_json_is_refused_clearly(bot: Orderbot, api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/orders",
        content=b'{"number": "A-1001", "customer": {',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    [error] = response.json()["detail"]
    assert error["type"] == "json_invalid" and "JSON" in error["msg"]
    assert await order_count(bot) == 0


@pytest.mark.parametrize("number", ["2024/05/123", "A_1001", "A 1001", "-1001"])
async def test_an_order_number_that_cannot_be_addressed_is_refused(
    make_bot: BotFactory, number: str
) -> None:
    """A number with a slash could be stored but never read back through its URL."""
    bot = await make_bot(demo={"enabled": False})
    async with client_for(bot) as client:
        created = await client.post("/api/orders", json=order_body(number))
    assert created.status_code == 422
    assert any(error["loc"][-1] == "number" for error in created.json()["detail"])


async def test_a_hyphenated_number_can_be_read_back(make_bot: BotFactory) -> None:
    bot = await make_bot(demo={"enabled": False})
    async with client_for(bot) as client:
        created = await client.post("/api/orders", json=order_body("2024-05-123"))
        read = await client.get("/api/orders/2024-05-123")
        event = await client.post(
            "/api/orders/2024-05-123/events", json={"type": "payment_received"}
        )
    assert created.status_code == 201
    assert read.status_code == 200 and read.json()["number"] == "2024-05-123"
    assert event.status_code == 200


async def test_an_unknown_order_is_not_found(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/orders/A-404")
    assert response.status_code == 404
    assert "A-404" in response.json()["detail"]


async def test_a_known_order_shows_its_history(api: httpx.AsyncClient) -> None:
    await api.post("/api/orders", json=order_body())
    response = await api.get("/api/orders/a-1001")
    assert response.status_code == 200
    order = response.json()
    assert order["status"] == "pending_confirmation"
    [created] = order["history"]
    assert (created["from"], created["to"], created["cause"]) == (
        None, "pending_confirmation", "shop api"
    )


async def test_shipping_shows_tracking_and_tells_the_customer(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    await api.post("/api/orders", json=order_body())
    await confirm(bot, "A-1001")
    shipped = await api.post(
        "/api/orders/A-1001/events",
        json={"type": "shipped", "carrier": "DPD", "tracking_number": "DPD700123",
              "tracking_url": "https://tracking.dpd.example/DPD700123"},
    )
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"

    order = (await api.get("/api/orders/A-1001")).json()
    assert order["status"] == "shipped"
    assert order["tracking"] == {
        "carrier": "DPD",
        "tracking_number": "DPD700123",
        "tracking_url": "https://tracking.dpd.example/DPD700123",
    }
    assert [h["to"] for h in order["history"]] == ["pending_confirmation", "confirmed", "shipped"]
    told = [entry for entry in await transcript(bot, "A-1001") if "DPD700123" in entry.text]
    assert len(told) == 1 and told[0].sender == "bot"


async def test_a_cancelled_order_that_ships_keeps_the_fact(
    bot: Orderbot, api: httpx.AsyncClient
) -> None:
    """The shop is the system of record: the shipment is kept, the contradiction named
    (tests/integration/test_shop_facts.py has the operator task)."""
    await api.post("/api/orders", json=order_body())
    async with bot.database.transaction() as session:
        await bot.orders.move(session, "A-1001", OrderStatus.CANCELLED, "customer cancelled")
    response = await api.post(
        "/api/orders/A-1001/events",
        json={"type": "shipped", "carrier": "DPD", "tracking_number": "DPD700123"},
    )
    assert response.status_code == 200
    assert "cancelled" in response.json()["conflict"]
    order = (await api.get("/api/orders/A-1001")).json()
    assert order["status"] == "shipped"
    assert order["tracking"]["tracking_number"] == "DPD700123"
    assert [h["to"] for h in order["history"]] == [
        "pending_confirmation", "cancelled", "shipped"
    ]


async def test_an_event_on_an_unknown_order_is_not_found(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/orders/A-404/events", json={"type": "delivered"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "event",
    [{"type": "lost_in_transit"}, {}, {"type": "shipped", "carrier": "DPD"}],
    ids=["unknown-type", "no-type", "shipped-without-tracking"],
)
async def test_a_bad_event_is_refused(
    make_bot: BotFactory, event: dict[str, Any]
) -> None:
    bot = await make_bot(demo={"enabled": False})
    async with client_for(bot) as client:
        await client.post("/api/orders", json=order_body())
        response = await client.post("/api/orders/A-1001/events", json=event)
        order = (await client.get("/api/orders/A-1001")).json()
    assert response.status_code == 422
    assert order["status"] == "pending_confirmation" and len(order["history"]) == 1


async def test_a_payment_marks_the_order_paid(bot: Orderbot, api: httpx.AsyncClient) -> None:
    await api.post("/api/orders", json=order_body())
    response = await api.post("/api/orders/A-1001/events", json={"type": "payment_received"})
    assert response.status_code == 200, response.text
    order = (await api.get("/api/orders/A-1001")).json()
    assert order["payment"]["status"] == "paid"
    assert order["status"] == "pending_confirmation"
    assert any("received the payment" in entry.text for entry in await transcript(bot, "A-1001"))


async def test_setting_stock_of_a_known_product(demo_bot: Orderbot) -> None:
    async with client_for(demo_bot) as client:
        response = await client.put(
            "/api/stock/MS-210", json={"available": 12, "expected_date": "2030-01-15"}
        )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sku": "MS-210", "name": "Ergonomic mouse", "available": 12, "expected_date": "2030-01-15"
    }
    async with demo_bot.database.transaction() as session:
        stock = await demo_bot.orders.stock(session, "MS-210")
    assert stock is not None
    assert (stock.available, stock.expected_date) == (12, date(2030, 1, 15))


async def test_stock_of_an_unknown_product_is_not_found(demo_bot: Orderbot) -> None:
    async with client_for(demo_bot) as client:
        response = await client.put("/api/stock/NO-SUCH", json={"available": 3})
    assert response.status_code == 404
    assert "NO-SUCH" in response.json()["detail"]


async def test_negative_stock_is_refused(demo_bot: Orderbot) -> None:
    async with demo_bot.database.transaction() as session:
        before = await demo_bot.orders.stock(session, "KB-100")
    async with client_for(demo_bot) as client:
        response = await client.put("/api/stock/KB-100", json={"available": -1})
    assert response.status_code == 422
    assert ("body", "available") in {tuple(error["loc"]) for error in response.json()["detail"]}
    async with demo_bot.database.transaction() as session:
        after = await demo_bot.orders.stock(session, "KB-100")
    assert before is not None and after == before


async def test_the_openapi_document_lists_the_shop_api(make_bot: BotFactory) -> None:
    bot = await make_bot(demo={"enabled": False})
    async with client_for(bot, key=None) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/orders", "/api/orders/{number}", "/api/orders/{number}/events",
            "/api/stock/{sku}"} <= set(paths)
    assert "post" in paths["/api/orders"] and "put" in paths["/api/stock/{sku}"]
