"""Courier tracking: the local adapter derives it from the order, the HTTP one asks a service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from aiohttp import web

from adapters.courier.http import HttpCourier
from adapters.courier.local import LocalCourier
from orders.service import HistoryView, OrderView
from orders.states import OrderStatus
from orders.tracking import TrackingUnavailable, pickup_readiness

SHIPPED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday


def shipped_order(**changes: object) -> OrderView:
    order = OrderView(
        number="A-2001", status=OrderStatus.SHIPPED, customer_id=1, customer_name="Emma",
        customer_email="emma@example.com", customer_language="en", preferred_channel=None,
        customer_email_undeliverable=False, currency="EUR", total_minor=1000,
        postcode="SW1A1AA", delivery_method="courier",
        delivery_address={"city": "London", "postcode": "SW1A 1AA"}, payment_method="card",
        payment_status="paid", carrier="DHL", tracking_number="DHL123456",
        tracking_url="https://dhl.example/track?id=DHL123456", pay_token="t",
        created_at=SHIPPED_AT - timedelta(days=1), delivered_at=None,
        history=(
            HistoryView(None, "pending_confirmation", "api", SHIPPED_AT - timedelta(days=1)),
            HistoryView(
                "pending_confirmation", "confirmed", "chat", SHIPPED_AT - timedelta(hours=20)
            ),
            HistoryView("confirmed", "shipped", "api", SHIPPED_AT),
        ),
    )
    return replace(order, **changes)  # type: ignore[arg-type]


async def test_local_tracking_is_plausible_and_the_same_every_time() -> None:
    courier = LocalCourier()
    now = SHIPPED_AT + timedelta(hours=5)
    first = await courier.track(shipped_order(), now)
    assert first == await courier.track(shipped_order(), now)
    assert first.carrier == "DHL" and first.tracking_number == "DHL123456"
    assert first.last_scan_place in ("Leipzig", "Frankfurt", "Cologne")  # the sorting hub
    assert first.last_scan_at == SHIPPED_AT + timedelta(hours=3)
    assert first.eta is not None and date(2026, 11, 23) <= first.eta <= date(2026, 11, 25)
    assert first.eta.weekday() < 5


async def test_local_tracking_moves_on_with_time() -> None:
    courier = LocalCourier()
    before = await courier.track(shipped_order(), SHIPPED_AT + timedelta(hours=1))
    assert before.last_scan_place is None and before.last_scan_at is None
    later = await courier.track(shipped_order(), SHIPPED_AT + timedelta(days=2))
    assert later.last_scan_place == "London"  # the depot in the customer's city
    # Long past the expected day: the parcel is late, expected the next working day.
    late = await courier.track(shipped_order(), datetime(2026, 12, 4, 12, tzinfo=UTC))
    assert late.eta == date(2026, 12, 7)


async def test_local_tracking_needs_a_tracking_number() -> None:
    with pytest.raises(TrackingUnavailable):
        await LocalCourier().track(shipped_order(tracking_number=None), SHIPPED_AT)


def test_store_pickup_is_ready_two_hours_after_confirmation() -> None:
    confirmed_at = SHIPPED_AT - timedelta(hours=20)
    order = shipped_order(
        status=OrderStatus.CONFIRMED, delivery_method="store_pickup", pickup_location="Store 1"
    )
    waiting = pickup_readiness(order, confirmed_at + timedelta(minutes=30))
    assert waiting is not None and not waiting.ready
    assert waiting.ready_at == confirmed_at + timedelta(hours=2)
    ready = pickup_readiness(order, confirmed_at + timedelta(hours=2))
    assert ready is not None and ready.ready and ready.location == "Store 1"
    assert pickup_readiness(shipped_order(), SHIPPED_AT) is None  # not a pickup order


Handler = Callable[[web.Request], web.StreamResponse]


@pytest.fixture
async def tracking_service() -> AsyncIterator[Callable[[Handler], str]]:
    """A tracking service on 127.0.0.1 answering with the handler a test gives."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/api/tracking/{number}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/api"

    yield start  # type: ignore[misc]
    for runner in runners:
        await runner.cleanup()


async def test_http_tracking_asks_the_service_with_the_api_key(tracking_service) -> None:
    seen: dict[str, str] = {}

    async def answer(request: web.Request) -> web.Response:
        seen.update(number=request.match_info["number"], carrier=request.query["carrier"],
                    auth=request.headers.get("Authorization", ""))
        return web.json_response({
            "eta": "2026-11-24", "delivered": False,
            "last_scan": {"place": "Edinburgh depot", "at": "2026-11-23T06:40:00+00:00"},
        })

    base = await tracking_service(answer)
    info = await HttpCourier(base, "secret-key", 5).track(shipped_order(), SHIPPED_AT)
    assert seen == {"number": "DHL123456", "carrier": "DHL", "auth": "Bearer secret-key"}
    assert info.eta == date(2026, 11, 24)
    assert info.last_scan_place == "Edinburgh depot"
    assert info.last_scan_at == datetime(2026, 11, 23, 6, 40, tzinfo=UTC)


async def test_http_tracking_without_a_scan_yet(tracking_service) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"eta": None, "last_scan": None})

    info = await HttpCourier(await tracking_service(answer)).track(shipped_order(), SHIPPED_AT)
    assert info.eta is None and info.last_scan_place is None


@pytest.mark.parametrize("status, body", [(500, "oops"), (200, "not json"), (200, '{"eta": 5}')])
async def test_http_tracking_failures_are_typed(tracking_service, status: int, body: str) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json")

    courier = HttpCourier(await tracking_service(answer))
    with pytest.raises(TrackingUnavailable):
        await courier.track(shipped_order(), SHIPPED_AT)


async def test_http_tracking_service_down_is_typed() -> None:
    from tests.servers import free_port

    courier = HttpCourier(f"http://127.0.0.1:{free_port()}", timeout_seconds=1)
    with pytest.raises(TrackingUnavailable, match="unreachable"):
        await courier.track(shipped_order(), SHIPPED_AT)
