"""Tracking without a courier service: plausible, deterministic scans derived from the order
(carrier, tracking number, shipped time), so the demo and tests can show live tracking."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from orders.service import OrderView
from orders.states import OrderStatus
from orders.tracking import TrackingInfo, TrackingUnavailable, moved_at

# The sorting hub a carrier's parcel passes first (picked by the tracking number).
HUBS: dict[str, tuple[str, ...]] = {
    "DHL": ("Leipzig", "Frankfurt", "Cologne"),
    "DPD": ("Hinckley", "Aschaffenburg", "Warsaw"),
    "InPost": ("Warsaw", "Kraków", "Poznań"),
}
OTHER_HUBS = ("Amsterdam", "Brussels", "Prague")
FIRST_SCAN = timedelta(hours=3)  # after shipping: scanned at the hub
LAST_MILE = timedelta(hours=20)  # then at the depot in the customer's city


class LocalCourier:
    async def track(self, order: OrderView, now: datetime) -> TrackingInfo:
        if not order.tracking_number:
            raise TrackingUnavailable("the order has no tracking number")
        carrier = order.carrier or "-"
        seed = int(hashlib.sha256(order.tracking_number.encode()).hexdigest()[:8], 16)
        hubs = HUBS.get(carrier, OTHER_HUBS)
        hub = hubs[seed % len(hubs)]
        city = str(order.delivery_address.get("city") or hub)
        shipped = moved_at(order, OrderStatus.SHIPPED) or order.created_at
        scans = [
            (shipped + FIRST_SCAN, hub),
            (shipped + LAST_MILE + timedelta(hours=seed % 4), city),
        ]
        delivered = order.delivered_at is not None and order.status is not OrderStatus.SHIPPED
        if delivered:
            assert order.delivered_at is not None
            scans.append((order.delivered_at, city))
        seen = [scan for scan in scans if scan[0] <= now]
        place, at = (seen[-1][1], seen[-1][0]) if seen else (None, None)
        eta = _working_days_after(shipped.date(), 1 + seed % 3)
        if delivered:
            assert order.delivered_at is not None
            eta = order.delivered_at.date()
        elif eta <= now.date():  # running late: the next working day
            eta = _working_days_after(now.date(), 1)
        return TrackingInfo(
            carrier=carrier,
            tracking_number=order.tracking_number,
            eta=eta,
            last_scan_place=place,
            last_scan_at=at,
            delivered=delivered,
        )


def _working_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day
