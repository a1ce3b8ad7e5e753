"""A credit check service over HTTP, with Authorization: Bearer <api_key>:

POST {base}/checks {"customer_id": int, "amount_minor": int, "currency": "EUR"}
answers {"approved": true|false, "reference": "..."}.
Anything else (unreachable, timeout, non-2xx, no "approved") is CreditCheckUnavailable.
"""

from __future__ import annotations

from typing import Any

from adapters.http import JsonApi
from orders.credit_check import CreditCheckUnavailable, CreditDecision


class HttpCreditCheck:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._api = JsonApi(base_url, api_key, timeout_seconds, "credit check",
                            CreditCheckUnavailable)

    async def check(
        self, session: Any, customer_id: int, amount_minor: int, currency: str
    ) -> CreditDecision:
        body = {"customer_id": customer_id, "amount_minor": amount_minor, "currency": currency}
        data = await self._api.call("POST", "/checks", json=body)
        if not isinstance(data.get("approved"), bool):
            raise CreditCheckUnavailable("credit check answered without a decision")
        return CreditDecision(data["approved"], str(data.get("reference", "")))
