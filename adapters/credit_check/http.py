"""A credit check service over HTTP, with Authorization: Bearer <api_key>:

POST {base}/checks {"customer_id": int, "amount_minor": int, "currency": "EUR"}
answers {"approved": true|false, "reference": "..."}.
Anything else (unreachable, timeout, non-2xx, no "approved") is CreditCheckUnavailable.
"""

from __future__ import annotations

from typing import Any

import httpx

from orders.credit_check import CreditCheckUnavailable, CreditDecision


class HttpCreditCheck:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_seconds

    async def check(
        self, session: Any, customer_id: int, amount_minor: int, currency: str
    ) -> CreditDecision:
        body = {"customer_id": customer_id, "amount_minor": amount_minor, "currency": currency}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self._base_url + "/checks", json=body,
                                             headers=self._headers)
        except httpx.HTTPError as error:
            raise CreditCheckUnavailable(
                f"credit check unreachable: {type(error).__name__}") from None
        if not response.is_success:
            raise CreditCheckUnavailable(f"credit check answered {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise CreditCheckUnavailable("credit check answered with no JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("approved"), bool):
            raise CreditCheckUnavailable("credit check answered without a decision")
        return CreditDecision(data["approved"], str(data.get("reference", "")))
