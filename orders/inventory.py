"""The shop's stock as the confirmation sees it: levels, alternatives, stores, pickup points,
and one accessory to offer. Implementations: adapters/inventory/local.py (the shop's own
database, the default) and adapters/inventory/http.py (an ERP / inventory service).

Every call takes the caller's session: the local implementation reads in the turn's own
transaction (a second SQLite transaction would wait for the turn's write lock); the HTTP one
ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


class InventoryUnavailable(Exception):
    """The inventory service failed or answered nonsense; str() says why (no secrets)."""


@dataclass(frozen=True, slots=True)
class StockLevel:
    sku: str
    name: str
    category: str
    price_minor: int
    available: int
    expected_date: date | None  # when more arrives, if out of stock


@dataclass(frozen=True, slots=True)
class Place:
    """A store or a pickup point."""

    id: str
    name: str
    address: str


class Inventory(Protocol):
    async def levels(self, session: Any, skus: Sequence[str]) -> dict[str, StockLevel]:
        """The stock of each known sku (unknown skus are left out)."""
        ...

    async def alternatives(
        self, session: Any, sku: str, quantity: int, limit: int = 3
    ) -> list[StockLevel]:
        """In-stock products of the same category at a similar price, closest price first."""
        ...

    async def stores_with(self, session: Any, wanted: Mapping[str, int]) -> list[Place]:
        """The stores that have every sku in the wanted quantity."""
        ...

    async def pickup_points(self, session: Any, postcode: str) -> list[Place]:
        """Pickup points near a postcode."""
        ...

    async def accessory_for(self, session: Any, skus: Sequence[str]) -> StockLevel | None:
        """One in-stock accessory that goes with these products, or None."""
        ...
