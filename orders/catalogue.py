"""The shop's catalogue: products with a name per language, a price, stock and the
accessories offered with them. The shop API, the import command and the demo seed all write
it through put_products; the flows read names from it in the customer's language.

A product is deleted for good (a row removed, not a flag): order lines keep their own copy of
the sku, name and price, so past orders are untouched, and every reader of the table
(search, alternatives, accessories, reservations) needs no "deleted" filter to forget it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.catalogue_version import catalogue_changed
from orders.service import OrderView
from orders.tables import Product

LANGUAGES = ("en", "pl", "ru")


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class CatalogueProduct:
    sku: str
    names: Mapping[str, str]  # language -> name; at least one
    category: str
    price_minor: int
    currency: str
    available: int
    expected_date: date | None = None
    returnable: bool = True
    accessories: tuple[str, ...] = field(default_factory=tuple)

    def name(self, language: str) -> str:
        return name_in(self.names, language, self.sku)


@dataclass(frozen=True, slots=True)
class Stored:
    """What put_products did with one product."""

    product: CatalogueProduct
    outcome: Outcome
    came_back: bool  # its stock rose from nothing: waiting customers are to be told


def fold(text: str) -> str:
    """Lower case without diacritics ("Łódź" -> "lodz", "ёж" -> "еж"), for matching."""
    text = text.lower().replace("ł", "l").replace("ё", "е")
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def name_in(names: Mapping[str, str], language: str, default: str) -> str:
    """The name in `language`, else English, else any, else `default`."""
    for candidate in (language, "en", *names):
        if names.get(candidate):
            return names[candidate]
    return default


def _search_text(sku: str, names: Mapping[str, str]) -> str:
    return fold("\n".join([sku, *names.values()]))


def _view(row: Product) -> CatalogueProduct:
    return CatalogueProduct(
        sku=row.sku, names=dict(row.names or {"en": row.name}), category=row.category,
        price_minor=row.price_minor, currency=row.currency, available=row.stock,
        expected_date=row.expected_date, returnable=row.returnable,
        accessories=tuple(row.accessories or ()),
    )


def _write(row: Product, product: CatalogueProduct) -> None:
    row.names = dict(product.names)
    row.name = name_in(product.names, "en", product.sku)[:200]
    row.category = product.category
    row.price_minor = product.price_minor
    row.currency = product.currency
    row.stock = product.available
    row.expected_date = product.expected_date
    row.returnable = product.returnable
    row.accessories = list(product.accessories)
    row.search_text = _search_text(product.sku, product.names)


async def put_products(
    session: AsyncSession, products: Sequence[CatalogueProduct]
) -> list[Stored]:
    """Create or replace each product (one query to read them all, one flush to write)."""
    rows = {row.sku: row for row in await session.scalars(
        select(Product).where(Product.sku.in_([p.sku for p in products]))
    )}
    if any(_renames(rows.get(product.sku), product) for product in products):
        await catalogue_changed(session)  # before the products: catalogue_version.py says why
    done: list[Stored] = []
    for product in products:
        row = rows.get(product.sku)
        if row is None:
            row = rows[product.sku] = Product(sku=product.sku)
            _write(row, product)
            session.add(row)
            done.append(Stored(product, Outcome.CREATED, product.available > 0))
            continue
        before, previous_stock = _view(row), row.stock
        _write(row, product)
        outcome = Outcome.UNCHANGED if _view(row) == before else Outcome.UPDATED
        done.append(Stored(product, outcome, previous_stock <= 0 < product.available))
    await session.flush()
    return done


def _renames(row: Product | None, product: CatalogueProduct) -> bool:
    """Whether writing product changes the words that name products (the search's index)."""
    return row is None or dict(row.names or {}) != dict(product.names)


async def get_product(session: AsyncSession, sku: str) -> CatalogueProduct | None:
    row = await session.scalar(select(Product).where(Product.sku == sku))
    return _view(row) if row is not None else None


async def delete_product(session: AsyncSession, sku: str) -> bool:
    """False when there was no such product."""
    await catalogue_changed(session)
    deleted = await session.execute(delete(Product).where(Product.sku == sku))
    return bool(getattr(deleted, "rowcount", 0))


async def search_products(
    session: AsyncSession, query: str, limit: int, after: str | None = None
) -> list[CatalogueProduct]:
    """Products whose sku or a name contains `query` (any case, diacritics or not), by sku,
    those after the sku `after` only (the page cursor)."""
    statement = select(Product).order_by(Product.sku).limit(limit)
    if query.strip():
        pattern = fold(query.strip()).replace("\\", "\\\\").replace("%", "\\%")
        pattern = pattern.replace("_", "\\_")
        statement = statement.where(Product.search_text.like(f"%{pattern}%", escape="\\"))
    if after is not None:
        statement = statement.where(Product.sku > after)
    return [_view(row) for row in await session.scalars(statement)]


async def names_in(
    session: AsyncSession, skus: Iterable[str], language: str
) -> dict[str, str]:
    """The catalogue's name in `language` of each of these skus it knows."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    found = await session.execute(
        select(Product.sku, Product.names, Product.name).where(Product.sku.in_(wanted))
    )
    return {sku: name_in(names or {}, language, name) for sku, names, name in found}


async def with_names_in(session: AsyncSession, order: OrderView, language: str) -> OrderView:
    """The order with each line named in `language` where the catalogue knows its sku (else
    the name the line was created with)."""
    names = await names_in(session, (line.sku for line in order.lines), language)
    if not names:
        return order
    return replace(order, lines=tuple(
        replace(line, name=names.get(line.sku, line.name)) for line in order.lines
    ))
