"""Stock questions: find a product by what a customer calls it, say whether it is in stock,
and keep the customers who asked to be told when it is back.

A product is found by its sku, by its name in any language (orders/catalogue.py) and by each
longer word of a name ("keyboard" finds every keyboard; "mechanical keyboard" the one), with
inflected forms and without diacritics, through the process's index of the catalogue's words
(orders/product_index.py), kept while the catalogue's version token stays the same
(orders/catalogue_version.py); the stock of the products found is read live. A customer
waits for a product at most once (unique per customer and SKU); a stock change that brings it
back tells each waiting customer once, in the transaction of the change (the notifier writes
to the outbox), and marks the subscription notified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orders.catalogue import name_in
from orders.catalogue_version import catalogue_version
from orders.product_index import MAX_CHOICES, IndexedProduct, ProductIndex
from orders.service import CustomerView, OrderService
from orders.tables import CatalogueVersion, Product, StockSubscription
from storage.clock import utcnow
from storage.prepared import Prepared

_KEPT_INDEXES = 4  # one per database a process uses at once (tests use several)
# Built per process from these rows, kept under the catalogue's version token.
_INDEXED = Prepared(select(Product.sku, Product.name, Product.names).order_by(Product.sku))
_SKU_SLOTS = tuple(f"sku{n}" for n in range(MAX_CHOICES))
# The live stock of the products a question names (at most MAX_CHOICES, the rest padded).
_STOCK_OF = Prepared(
    select(Product.sku, Product.stock, Product.expected_date)
    .where(Product.sku.in_([bindparam(slot) for slot in _SKU_SLOTS]))
)
# The same, with the catalogue's version token: one row with NULLs when none is found.
_STOCK_AND_VERSION = Prepared(
    select(CatalogueVersion.token, Product.sku, Product.stock, Product.expected_date)
    .outerjoin(Product, Product.sku.in_([bindparam(slot) for slot in _SKU_SLOTS]))
    .where(CatalogueVersion.id == bindparam("row"))
)
_PRODUCT = Prepared(
    select(Product.sku, Product.name, Product.names, Product.stock, Product.expected_date)
    .where(Product.sku == bindparam("sku"))
)
_indexes: dict[int, ProductIndex] = {}
_last: tuple[int, ProductIndex] | None = None  # the version token and index used last


@dataclass(frozen=True, slots=True)
class ProductInfo:
    sku: str
    name: str  # in the language asked for (orders/catalogue.py, name_in)
    available: int
    expected_date: date | None

    @property
    def in_stock(self) -> bool:
        return self.available > 0


class BackInStockNotifier(Protocol):
    """Tells a customer a product is back (implemented outside orders/), in the caller's
    transaction, so that the message is durable with the stock change."""

    async def back_in_stock(
        self, session: AsyncSession, customer: CustomerView, product: ProductInfo
    ) -> None:
        ...


def _info(product: Product, language: str) -> ProductInfo:
    return ProductInfo(
        sku=product.sku, name=name_in(product.names or {}, language, product.name),
        available=max(product.stock, 0), expected_date=product.expected_date,
    )


async def product_index(session: AsyncSession) -> ProductIndex:
    """The index of the catalogue as this transaction sees it: the one kept under the
    current version token, or a new one (orders/catalogue_version.py says why this is fresh)."""
    global _last
    version = await catalogue_version(session)
    index = None if version is None else _indexes.get(version)
    if index is None:
        index = ProductIndex(await _INDEXED.all(session))
        if version is not None:
            if len(_indexes) >= _KEPT_INDEXES:
                del _indexes[next(iter(_indexes))]  # the oldest
            _indexes[version] = index
    if version is not None:
        _last = (version, index)
    return index


async def find_products(session: AsyncSession, text: str, language: str) -> list[ProductInfo]:
    """The products the text names best (several when it is ambiguous, none if unknown),
    with their stock read live."""
    last = _last
    if last is not None:
        # The index last used, checked in the statement that reads the stock: the catalogue
        # rarely changes, so a question costs one statement, and two only after a change (or
        # when this process uses another database).
        version, index = last
        found = index.find(text)
        rows = await _STOCK_AND_VERSION.all(session, row=1, **_slots(found))  # its one row
        if rows and rows[0][0] == version:
            live = {sku: (stock, expected) for _, sku, stock, expected in rows if sku is not None}
            return _found(found, live, language)
    found = (await product_index(session)).find(text)
    if not found:
        return []
    live = {sku: (stock, expected) for sku, stock, expected in
            await _STOCK_OF.all(session, **_slots(found))}
    return _found(found, live, language)


def _slots(found: list[IndexedProduct]) -> dict[str, str | None]:
    skus: list[str | None] = [product.sku for product in found]
    return dict(zip(_SKU_SLOTS, skus + [None] * (MAX_CHOICES - len(skus)), strict=True))


def _found(found: list[IndexedProduct], live: dict[str, tuple[int, date | None]],
           language: str) -> list[ProductInfo]:
    return [_live_info(product, language, *live[product.sku])
            for product in found if product.sku in live]  # not deleted meanwhile


def _live_info(product: IndexedProduct, language: str, stock: int,
               expected_date: date | None) -> ProductInfo:
    return ProductInfo(sku=product.sku, name=product.name_in(language),
                       available=max(stock, 0), expected_date=expected_date)


async def product_info(session: AsyncSession, sku: str, language: str) -> ProductInfo | None:
    row = await _PRODUCT.first(session, sku=sku)
    if row is None:
        return None
    sku, name, names, stock, expected_date = row
    return ProductInfo(sku=sku, name=name_in(names or {}, language, name),
                       available=max(stock, 0), expected_date=expected_date)


async def subscribe(session: AsyncSession, customer_id: int, sku: str) -> bool:
    """Wait for sku to come back; False if this customer is waiting for it already."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created = await session.scalar(
        insert(StockSubscription)
        .values(customer_id=customer_id, sku=sku, created_at=utcnow(), notified_at=None)
        .on_conflict_do_nothing(index_elements=["customer_id", "sku"])
        .returning(StockSubscription.id)
    )
    if created is not None:
        return True
    # Told about an earlier restock: waiting again is a new subscription.
    renewed = await session.execute(
        update(StockSubscription)
        .where(StockSubscription.customer_id == customer_id, StockSubscription.sku == sku,
               StockSubscription.notified_at.is_not(None))
        .values(notified_at=None, created_at=utcnow())
    )
    return bool(getattr(renewed, "rowcount", 0))


async def waiting_customers(session: AsyncSession, sku: str) -> list[int]:
    return list(await session.scalars(
        select(StockSubscription.customer_id)
        .where(StockSubscription.sku == sku, StockSubscription.notified_at.is_(None))
        .order_by(StockSubscription.id)
    ))


async def awaited(session: AsyncSession, skus: list[str]) -> set[str]:
    """Those of skus that some customer waits for (one query for a batch of products)."""
    return set(await session.scalars(
        select(StockSubscription.sku).distinct()
        .where(StockSubscription.sku.in_(skus), StockSubscription.notified_at.is_(None))
    ))


async def notify_back_in_stock(
    session: AsyncSession, sku: str, orders: OrderService, notifier: BackInStockNotifier
) -> int:
    """Tell every customer waiting for sku that it is back; how many were told.

    Each subscription is taken by a conditional update, so two stock changes at the same
    moment (or two processes) tell a customer once.
    """
    product = await session.scalar(select(Product).where(Product.sku == sku))
    if product is None or product.stock <= 0:
        return 0
    told = 0
    for subscription_id in list(await session.scalars(
        select(StockSubscription.id)
        .where(StockSubscription.sku == sku, StockSubscription.notified_at.is_(None))
        .order_by(StockSubscription.id)
    )):
        customer_id = await session.scalar(
            update(StockSubscription)
            .where(StockSubscription.id == subscription_id,
                   StockSubscription.notified_at.is_(None))
            .values(notified_at=utcnow())
            .returning(StockSubscription.customer_id)
        )
        if customer_id is None:
            continue  # another stock change told this customer
        customer = await orders.get_customer(session, customer_id)
        if customer is None:
            continue
        await notifier.back_in_stock(session, customer, _info(product, customer.language))
        told += 1
    return told
