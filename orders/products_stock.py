"""Reservations in the shop's own products table: what the bot always did with stock.

A reservation takes each sku's quantity with a conditional update (never below zero); skus the
table does not know are not stock-managed here and pass. Releasing gives the quantities back;
committing changes nothing (the stock left the table when it was reserved). Everything runs in
the caller's session, so a rolled-back turn takes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from orders.inventory import Reservation
from orders.tables import Product


class ProductsStock:
    transactional = True

    async def reserve(
        self, session: Any, key: str, order: str, items: Mapping[str, int]
    ) -> Reservation:
        granted: dict[str, int] = {}
        short: dict[str, int] = {}
        for sku, quantity in items.items():
            available = await session.scalar(select(Product.stock).where(Product.sku == sku))
            if available is None:
                continue  # an item the shop does not stock-manage here
            taken = await session.scalar(
                update(Product).where(Product.sku == sku, Product.stock >= quantity)
                .values(stock=Product.stock - quantity).returning(Product.stock)
            )
            if taken is None:
                short[sku] = int(available)
            else:
                granted[sku] = quantity
        return Reservation(key, granted, short)

    async def release(
        self, session: Any, key: str, order: str, items: Mapping[str, int]
    ) -> None:
        for sku, quantity in items.items():
            await session.execute(
                update(Product).where(Product.sku == sku).values(stock=Product.stock + quantity)
            )

    async def commit(self, session: Any, key: str, order: str) -> None:
        return None
