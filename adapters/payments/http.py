"""Payments through a payment provider's (or the shop's payment service's) HTTP API.

With Authorization: Bearer <api_key>:
- POST {base}/payment-links {"order": number, "amount_minor": int, "currency": "EUR",
  "email": str | null, "language": "en"} answers {"url": "https://..."};
- POST {base}/refunds {"order": number, "amount_minor": int, "currency": "EUR",
  "reason": str} answers {"id": "..."}.
Anything else (unreachable, timeout, non-2xx, a body without the field) is PaymentFailed.
"""

from __future__ import annotations

from typing import Any

import httpx

from orders.payments import PaymentFailed
from orders.service import OrderView


class HttpPayments:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_seconds

    async def payment_link(self, order: OrderView) -> str:
        data = await self._post("/payment-links", {
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
        data = await self._post("/refunds", {
            "order": order.number, "amount_minor": amount_minor, "currency": order.currency,
            "reason": reason,
        })
        refund_id = data.get("id")
        if not isinstance(refund_id, str) or not refund_id:
            raise PaymentFailed("payment provider answered without a refund id")
        return refund_id

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self._base_url + path, json=body,
                                             headers=self._headers)
        except httpx.HTTPError as error:
            raise PaymentFailed(
                f"payment provider unreachable: {type(error).__name__}"
            ) from None
        if not response.is_success:
            raise PaymentFailed(f"payment provider answered {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise PaymentFailed("payment provider answered with no JSON") from None
        if not isinstance(data, dict):
            raise PaymentFailed("payment provider answered with no JSON object")
        return data
