"""Payments through a payment provider's (or the shop's payment service's) HTTP API.

With Authorization: Bearer <api_key>:
- POST {base}/payment-links {"order": number, "amount_minor": int, "currency": "EUR",
  "email": str | null, "language": "en"} answers {"url": "https://..."};
- POST {base}/refunds {"order": number, "amount_minor": int, "currency": "EUR",
  "reason": str} answers {"id": "..."}.
Anything else (unreachable, timeout, non-2xx, a body without the field) is PaymentFailed.
"""

from __future__ import annotations

from adapters.http import JsonApi
from orders.payments import PaymentFailed
from orders.service import OrderView


class HttpPayments:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._api = JsonApi(base_url, api_key, timeout_seconds, "payment provider",
                            PaymentFailed)

    async def payment_link(self, order: OrderView) -> str:
        data = await self._api.call("POST", "/payment-links", json={
            "order": order.number,
            "amount_minor": max(order.total_minor - order.refunded_minor, 0),
            "currency": order.currency,
            "email": order.customer_email,
            "language": order.customer_language,
        })
        url = data.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise PaymentFailed("payment provider answered without a payment link")
        return url

    async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
        data = await self._api.call("POST", "/refunds", json={
            "order": order.number, "amount_minor": amount_minor, "currency": order.currency,
            "reason": reason,
        })
        refund_id = data.get("id")
        if not isinstance(refund_id, str) or not refund_id:
            raise PaymentFailed("payment provider answered without a refund id")
        return refund_id
