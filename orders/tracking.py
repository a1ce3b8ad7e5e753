"""Where a parcel is, as the order core sees it: the courier's live tracking, and whether a
store pickup order is ready.

Implementations of Courier: adapters/courier/local.py (the default: plausible tracking
derived from the order itself) and adapters/courier/http.py (a tracking service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from orders.service import OrderView
from orders.states import OrderStatus

# How long a store needs to put a confirmed pickup order aside.
PICKUP_PREPARATION = timedelta(hours=2)


class TrackingUnavailable(Exception):
    """The tracking service failed or answered nonsense; str() says why (no secrets)."""


@dataclass(frozen=True, slots=True)
class TrackingInfo:
    carrier: str
    tracking_number: str
    eta: date | None  # expected delivery day
    last_scan_place: str | None
    last_scan_at: datetime | None
    delivered: bool = False


class Courier(Protocol):
    async def track(self, order: OrderView, now: datetime) -> TrackingInfo:
        """Live tracking of a shipped order (TrackingUnavailable if it cannot be had)."""
        ...


@dataclass(frozen=True, slots=True)
class PickupReadiness:
    location: str
    ready: bool
    ready_at: datetime  # when it is (or was) ready for collection


def moved_at(order: OrderView, status: OrderStatus) -> datetime | None:
    """When the order last entered `status` (from its history), or None."""
    moments = [entry.at for entry in order.history if entry.to_status == status.value]
    return moments[-1] if moments else None


def pickup_readiness(order: OrderView, now: datetime) -> PickupReadiness | None:
    """Whether a confirmed store pickup order is ready; None for any other order."""
    if order.delivery_method != "store_pickup" or order.status is not OrderStatus.CONFIRMED:
        return None
    confirmed = moved_at(order, OrderStatus.CONFIRMED) or order.created_at
    ready_at = confirmed + PICKUP_PREPARATION
    return PickupReadiness(order.pickup_location or "", now >= ready_at, ready_at)
