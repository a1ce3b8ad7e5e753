"""Vouchers and loyalty codes from a service over HTTP, with Authorization: Bearer <api_key>:

- POST {base}/quotes  {"code", "total_minor", "currency", "date": "YYYY-MM-DD"}
  -> {"code": "...", "discount_minor": int}  or 422 {"reason": "unknown" | "expired" |
  "used" | "below_minimum", "minimum_minor": int}
- POST {base}/redemptions {"code", "order", "date"} -> 2xx, or 409/422 {"reason": ...}
A 422/409 with a known reason is VoucherRefused; anything else is VouchersUnavailable.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.http import JsonApi
from orders.vouchers import (
    REFUSALS,
    VoucherQuote,
    VoucherRefused,
    VouchersUnavailable,
    normalise_code,
)


class HttpVouchers:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._api = JsonApi(base_url, api_key, timeout_seconds, "voucher service",
                            VouchersUnavailable)

    async def quote(
        self, session: Any, code: str, total_minor: int, currency: str, today: date
    ) -> VoucherQuote:
        data = await self._post("/quotes", {"code": normalise_code(code),
                                            "total_minor": total_minor, "currency": currency,
                                            "date": today.isoformat()})
        try:
            return VoucherQuote(str(data["code"]), int(data["discount_minor"]))
        except (KeyError, TypeError, ValueError):
            raise VouchersUnavailable("voucher service answered without a quote") from None

    async def redeem(self, session: Any, code: str, order_number: str, today: date) -> None:
        await self._post("/redemptions", {"code": normalise_code(code), "order": order_number,
                                          "date": today.isoformat()})

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The answer's JSON object ({} when empty); a refusal the service explains is
        VoucherRefused, anything else that is not a 2xx JSON object is VouchersUnavailable."""
        response = await self._api.send("POST", path, json=body)
        if response.status_code in (409, 422) and response.content:
            refusal = self._api.json_object(response)
            if refusal.get("reason") in REFUSALS:
                raise VoucherRefused(str(refusal["reason"]),
                                     int(refusal.get("minimum_minor") or 0))
        if not response.is_success:
            raise VouchersUnavailable(f"voucher service answered {response.status_code}")
        return self._api.json_object(response) if response.content else {}
