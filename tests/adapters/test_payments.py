"""Payments: the local adapter links to the shop's own payment page; the HTTP one asks a
provider (a test server on 127.0.0.1) and turns every failure into PaymentFailed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from adapters.payments.http import HttpPayments
from adapters.payments.local import LocalPayments
from orders.payments import PaymentFailed
from orders.service import OrderView
from orders.states import OrderStatus
from tests.servers import free_port

ORDER = OrderView(
    number="A-3001", status=OrderStatus.CONFIRMED, customer_id=1, customer_name="Emma",
    customer_email="emma@example.com", customer_language="pl", preferred_channel=None,
    customer_email_undeliverable=False, currency="EUR", total_minor=12550, postcode="00950",
    delivery_method="courier", delivery_address={}, payment_method="bank_transfer",
    payment_status="pending", carrier=None, tracking_number=None, tracking_url=None,
    pay_token="tok-123", created_at=datetime(2026, 11, 20, tzinfo=UTC), delivered_at=None,
)


async def test_local_payment_link_is_the_shops_page_for_the_order() -> None:
    payments = LocalPayments("http://127.0.0.1:8000/")
    assert await payments.payment_link(ORDER) == "http://127.0.0.1:8000/pay/tok-123"
    first = await payments.refund(ORDER, 500, "return")
    second = await payments.refund(ORDER, 500, "return")
    assert first.startswith("local-refund-") and first != second


class Provider:
    """A payment provider double: records requests, answers as told."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.status = 200
        self.answer: Any = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            (request.path, request.headers.get("Authorization", ""), await request.json())
        )
        if self.answer is None:
            body: Any = ({"url": "https://pay.example/p/abc"} if request.path == "/payment-links"
                         else {"id": "re_42"})
        else:
            body = self.answer
        if isinstance(body, str):
            return web.Response(status=self.status, text=body)
        return web.json_response(body, status=self.status)


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    double = Provider()
    app = web.Application()
    app.router.add_post("/payment-links", double.handle)
    app.router.add_post("/refunds", double.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield double, f"http://127.0.0.1:{port}/"
    await runner.cleanup()


async def test_http_payment_link_asks_the_provider_with_the_key(
    provider: tuple[Provider, str],
) -> None:
    double, url = provider
    payments = HttpPayments(url, api_key="secret-key", timeout_seconds=2)
    assert await payments.payment_link(ORDER) == "https://pay.example/p/abc"
    assert await payments.refund(ORDER, 500, "return") == "re_42"
    assert double.requests == [
        ("/payment-links", "Bearer secret-key",
         {"order": "A-3001", "amount_minor": 12550, "currency": "EUR",
          "email": "emma@example.com", "language": "pl"}),
        ("/refunds", "Bearer secret-key",
         {"order": "A-3001", "amount_minor": 500, "currency": "EUR", "reason": "return"}),
    ]


@pytest.mark.parametrize(("status", "answer", "reason"), [
    (500, {"error": "down"}, "answered 500"),
    (401, {"error": "bad key"}, "answered 401"),
    (200, "<html>not json</html>", "no JSON"),
    (200, ["a list"], "no JSON object"),
    (200, {"url": "javascript:alert(1)"}, "without a payment link"),
    (200, {}, "without a payment link"),
])
async def test_http_payment_link_failures_are_payment_failed(
    provider: tuple[Provider, str], status: int, answer: Any, reason: str
) -> None:
    double, url = provider
    double.status, double.answer = status, answer
    with pytest.raises(PaymentFailed, match=reason):
        await HttpPayments(url, "k").payment_link(ORDER)


async def test_http_refund_without_an_id_is_payment_failed(
    provider: tuple[Provider, str],
) -> None:
    double, url = provider
    double.answer = {"status": "ok"}
    with pytest.raises(PaymentFailed, match="without a refund id"):
        await HttpPayments(url, "k").refund(ORDER, 100, "return")


async def test_unreachable_provider_is_payment_failed_without_secrets() -> None:
    payments = HttpPayments(f"http://127.0.0.1:{free_port()}", "secret-key", 2)
    with pytest.raises(PaymentFailed, match="unreachable") as failure:
        await payments.payment_link(ORDER)
    assert "secret-key" not in str(failure.value)
