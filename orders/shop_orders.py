"""The shop's own view of its open orders, read by the reconciliation (orders/reconcile.py).

Optional: [adapters] orders_url names it (adapters/orders/http.py); with no URL there is
nothing to compare with, and the reconciliation does not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class ShopOrdersUnavailable(Exception):
    """The shop's order service failed or answered nonsense; str() says why (no secrets)."""


@dataclass(frozen=True, slots=True)
class ShopOrder:
    number: str
    status: str
    tracking_number: str | None = None
    carrier: str | None = None
    delivery: dict[str, Any] | None = None
    total: Any = None
    lines: dict[str, int] | None = None  # {sku: quantity}; None: the shop did not say


class ShopOrders(Protocol):
    async def open_orders(self) -> list[ShopOrder]:
        """Every order the shop has open (all pages); ShopOrdersUnavailable if it cannot say."""
        ...
