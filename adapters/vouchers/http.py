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

import httpx

from orders.vouchers import (
    REFUSALS,
    VoucherQuote,
    VoucherRefused,
    VouchersUnavailable,
    normalise_code,
)


class HttpVouchers:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_seconds

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
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self._base_url + path, json=body,
                                             headers=self._headers)
        except httpx.HTTPError as error:
            raise VouchersUnavailable(
                f"voucher service unreachable: {type(error).__name__}") from None
        try:
            data = response.json() if response.content else {}
        except ValueError:
            raise VouchersUnavailable("voucher service answered with no JSON") from None
        if response.status_code in (409, 422) and isinstance(data, dict) \
                and data.get("reason") in REFUSALS:
            raise VoucherRefused(str(data["reason"]), int(data.get("minimum_minor") or 0))
        if not response.is_success or not isinstance(data, dict):
            raise VouchersUnavailable(f"voucher service answered {response.status_code}")
        return data
