"""Stock questions: find a product by what a customer calls it, say whether it is in stock,
and keep the customers who asked to be told when it is back.

A product is found by its sku, by its name in any language (orders/catalogue.py) and by each
longer word of a name ("keyboard" finds every keyboard; "mechanical keyboard" the one), with
inflected forms and without diacritics. A customer
waits for a product at most once (unique per customer and SKU); a stock change that brings it
back tells each waiting customer once, in the transaction of the change (the notifier writes
to the outbox), and marks the subscription notified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orders.catalogue import fold, name_in
from orders.service import CustomerView, OrderService
from orders.tables import Product, StockSubscription
from storage.clock import utcnow

MAX_CHOICES = 6
_FUZZY_FROM = 6  # aliases this long also match inflected forms ("klawiatury", "кружку")
_SHORT_FUZZY_FROM = 4  # these, by a changed last letter or two only
_WORD_ALONE_FROM = 3
# Words of product names too common to name a product alone (folded, as _words gives them).
_COMMON = frozenset({"the", "and", "for", "with", "set", "dla", "bez", "lub", "oraz",
                     "для", "без", "или"})
_WORD = re.compile(r"[^\W_]+")




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


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _word_score(said: str, alias: str) -> int:
    """2 for the same word, 1 for an inflected or plural form, 0 otherwise."""
    if said == alias:
        return 2
    if said in (alias + "s", alias + "es"):
        return 1
    common = len(_common_prefix(said, alias))
    if len(alias) >= _FUZZY_FROM:
        if common >= len(alias) - 2 and len(said) - common <= 3:
            return 1
    elif len(alias) >= _SHORT_FUZZY_FROM and common >= len(alias) - 1 and len(said) - common <= 2:
        return 1  # "мышку" for "мышь", "myszki" for "mysz"
    return 0


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _alias_score(said: dict[str, list[str]], alias: tuple[str, ...]) -> int:
    """How well the customer's words contain every word of the alias; 0 if one is missing.
    `said` holds the customer's words by their first letter (a match shares it)."""
    total = 0
    for word in alias:
        best = max((_word_score(w, word) for w in said.get(word[0], ())), default=0)
        if best == 0:
            return 0
        total += best
    return total


@lru_cache(maxsize=65536)  # a product's words only change with its names: asked every turn
def _aliases(sku: str, names: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], int], ...]:
    """(words, bonus) of each way to name the product: its sku, each whole name (a bonus
    over a word of it: "monitor" is the monitor, not the monitor arm) and each word alone."""
    whole = [tuple(w for w in _words(name) if _names_alone(w)) for name in names]
    aliases = [(tuple(_words(sku)), 1), *((words, 1) for words in whole)]
    aliases += [((word,), 0) for words in whole for word in words]
    return tuple(dict.fromkeys(alias for alias in aliases if alias[0]))


def _names_alone(word: str) -> bool:
    # Not "do", "для", "2" or "m": such words name nothing by themselves.
    return len(word) >= _WORD_ALONE_FROM and not word.isdigit() and word not in _COMMON


def _info(product: Product, language: str) -> ProductInfo:
    return ProductInfo(
        sku=product.sku, name=name_in(product.names or {}, language, product.name),
        available=max(product.stock, 0), expected_date=product.expected_date,
    )


async def find_products(session: AsyncSession, text: str, language: str) -> list[ProductInfo]:
    """The products the text names best (several when it is ambiguous, none if unknown)."""
    words = _words(text)
    if not words:
        return []
    said: dict[str, list[str]] = {}
    for word in words:
        said.setdefault(word[0], []).append(word)
    scored: list[tuple[int, Product]] = []
    for product in await session.scalars(select(Product).order_by(Product.sku)):
        names = tuple((product.names or {}).values()) or (product.name,)
        score = max(((matched + bonus) if (matched := _alias_score(said, alias)) else 0
                     for alias, bonus in _aliases(product.sku, names)), default=0)
        if score:
            scored.append((score, product))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [_info(product, language) for score, product in scored if score == best][:MAX_CHOICES]


async def product_info(session: AsyncSession, sku: str, language: str) -> ProductInfo | None:
    product = await session.scalar(select(Product).where(Product.sku == sku))
    return _info(product, language) if product is not None else None


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
