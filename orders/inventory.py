"""The shop's stock as the confirmation sees it: levels, alternatives, stores, pickup points,
and one accessory to offer. Implementations: adapters/inventory/local.py (the shop's own
database, the default) and adapters/inventory/http.py (an ERP / inventory service).

Every call takes the caller's session: the local implementation reads in the turn's own
transaction (a second SQLite transaction would wait for the turn's write lock); the HTTP one
ignores it.

Reservations (reserve, release, commit) carry an idempotency key each, made by
orders/reservations.py, which decides when they are called and whether release and commit go
at once (`transactional`: the calls change the caller's own database) or as durable jobs.
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


@dataclass(frozen=True, slots=True)
class Reservation:
    """The inventory's answer to a reservation: what it holds for the order, and for each sku
    it could not hold, how many are available. An ERP grants all or nothing; the shop's own
    table takes what it can (as the bot always did for the shop's facts)."""

    id: str
    granted: dict[str, int]
    short: dict[str, int]


class Inventory(Protocol):
    # True: reserve/release/commit write in the caller's transaction (the shop's own
    # database); False: a remote system, whose release and commit leave as durable jobs.
    transactional: bool

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

    async def reserve(
        self, session: Any, key: str, order: str, items: Mapping[str, int]
    ) -> Reservation:
        """Hold items {sku: quantity} for the order; a retry with the same key is the same
        reservation. InventoryUnavailable when there is no answer."""
        ...

    async def release(
        self, session: Any, key: str, order: str, items: Mapping[str, int]
    ) -> None:
        """Give the reservation back (order cancelled, lines changed); unknown key: done."""
        ...

    async def commit(self, session: Any, key: str, order: str) -> None:
        """The goods left: the reservation becomes a sale; unknown key: done."""
        ...
