"""The shop's own database as the inventory: products table for stock and prices, and a few
demo stores and pickup points whose stock is a fixed share of the shop's. Reservations take
from and give back to the products table in the caller's transaction
(orders/products_stock.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from orders.inventory import Place, StockLevel
from orders.products_stock import ProductsStock
from orders.tables import Product

SIMILAR_PRICE = 0.35  # an alternative costs at most this much more or less
# Accessories that go with a category (cross-sell), checked in this order.
GOES_WITH = {
    "computers": ("accessories",),
    "audio": ("accessories",),
    "storage": ("accessories",),
    "bags": ("accessories",),
}


@dataclass(frozen=True, slots=True)
class DemoStore:
    place: Place
    share: float  # of the shop's stock this store holds on its shelves


DEMO_STORES = (
    DemoStore(Place("WAW-1", "Warszawa Centrum", "ul. Marszałkowska 100, 00-026 Warszawa"), 0.5),
    DemoStore(Place("LON-1", "London Soho", "12 Wardour St, London W1D 6QF"), 0.3),
    DemoStore(Place("MOW-1", "Москва Тверская", "ул. Тверская, 7, 125009 Москва"), 0.1),
)
DEMO_PICKUP_POINTS = (
    Place("PP-101", "Parcel locker at the station", "Station Square 1"),
    Place("PP-102", "Corner shop pickup point", "Market Street 15"),
)


class LocalInventory(ProductsStock):  # its reserve, release and commit
    def __init__(self, stores: Sequence[DemoStore] = DEMO_STORES,
                 pickup_points: Sequence[Place] = DEMO_PICKUP_POINTS) -> None:
        self._stores = tuple(stores)
        self._pickup_points = tuple(pickup_points)

    async def levels(self, session: Any, skus: Sequence[str]) -> dict[str, StockLevel]:
        products = await session.scalars(select(Product).where(Product.sku.in_(list(skus))))
        return {product.sku: _level(product) for product in products}

    async def alternatives(
        self, session: Any, sku: str, quantity: int, limit: int = 3
    ) -> list[StockLevel]:
        wanted = await session.scalar(select(Product).where(Product.sku == sku))
        if wanted is None:
            return []
        low = wanted.price_minor * (1 - SIMILAR_PRICE)
        high = wanted.price_minor * (1 + SIMILAR_PRICE)
        found = await session.scalars(
            select(Product).where(
                Product.category == wanted.category, Product.sku != sku,
                Product.stock >= quantity, Product.price_minor.between(low, high),
            )
        )
        closest = sorted(found, key=lambda p: (abs(p.price_minor - wanted.price_minor), p.sku))
        return [_level(product) for product in closest[:limit]]

    async def stores_with(self, session: Any, wanted: Mapping[str, int]) -> list[Place]:
        levels = await self.levels(session, list(wanted))
        return [
            store.place for store in self._stores
            if all(sku in levels and int(levels[sku].available * store.share) >= quantity
                   for sku, quantity in wanted.items())
        ]

    async def pickup_points(self, session: Any, postcode: str) -> list[Place]:
        return list(self._pickup_points)

    async def accessory_for(self, session: Any, skus: Sequence[str]) -> StockLevel | None:
        """The first in-stock one of the products' own accessories (the catalogue's list);
        else the cheapest in-stock product of a category that goes with theirs."""
        ordered = list(await session.scalars(select(Product).where(Product.sku.in_(list(skus)))))
        listed = [sku for p in ordered for sku in p.accessories or () if sku not in skus]
        if listed:
            in_stock = {p.sku: p for p in await session.scalars(
                select(Product).where(Product.sku.in_(listed), Product.stock > 0))}
            first = next((in_stock[sku] for sku in listed if sku in in_stock), None)
            if first is not None:
                return _level(first)
        categories = [c for p in ordered for c in GOES_WITH.get(p.category, ())]
        if not categories:
            return None
        found = await session.scalars(
            select(Product).where(Product.category.in_(categories), Product.stock > 0,
                                  Product.sku.not_in(list(skus)))
            .order_by(Product.price_minor, Product.sku)
        )
        first = found.first()
        return _level(first) if first is not None else None


def _level(product: Product) -> StockLevel:
    return StockLevel(product.sku, product.name, product.category, product.price_minor,
                      product.stock, product.expected_date)
