"""Tracking from a courier's (or an aggregator's) tracking service over HTTP.

GET {base}/tracking/{tracking_number}?carrier=NAME with Authorization: Bearer <api_key>
answers {"eta": "YYYY-MM-DD" | null, "delivered": bool,
"last_scan": {"place": str, "at": ISO 8601 datetime} | null}.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from adapters.http import JsonApi
from orders.service import OrderView
from orders.tracking import TrackingInfo, TrackingUnavailable


class HttpCourier:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._api = JsonApi(base_url, api_key, timeout_seconds, "tracking service",
                            TrackingUnavailable)

    async def track(self, order: OrderView, now: datetime) -> TrackingInfo:
        if not order.tracking_number:
            raise TrackingUnavailable("the order has no tracking number")
        data = await self._api.call(
            "GET", f"/tracking/{quote(order.tracking_number, safe='')}",
            params={"carrier": order.carrier or ""},
        )
        try:
            return _parse(order, data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise TrackingUnavailable(f"tracking service answered nonsense: {error}") from None


def _parse(order: OrderView, data: dict[str, Any]) -> TrackingInfo:
    eta = date.fromisoformat(data["eta"]) if data.get("eta") else None
    scan = data.get("last_scan") or None
    place, at = None, None
    if scan is not None:
        place = str(scan["place"])
        at = datetime.fromisoformat(scan["at"])
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    return TrackingInfo(
        carrier=order.carrier or "-",
        tracking_number=order.tracking_number or "",
        eta=eta,
        last_scan_place=place,
        last_scan_at=at,
        delivered=bool(data.get("delivered", False)),
    )
