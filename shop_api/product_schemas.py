"""The body of PUT /api/products/{sku} and of each row of `bot.py products import`, and the
product as the shop API answers it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orders.catalogue import CatalogueProduct
from orders.money import money

# Letters, digits and . _ - : a sku must fit in a URL path segment as it is.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
MAX_SKU_CHARS = 64
Sku = Annotated[str, Field(min_length=1, max_length=MAX_SKU_CHARS, pattern=SKU_PATTERN)]
ProductName = Annotated[str, Field(min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NamesIn(_Body):
    en: ProductName | None = None
    pl: ProductName | None = None
    ru: ProductName | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> NamesIn:
        if self.en is None and self.pl is None and self.ru is None:
            raise ValueError("a name in one language at least (en, pl or ru)")
        return self


class ProductIn(_Body):
    # A plain string is the name in every language.
    name: ProductName | NamesIn
    category: Annotated[str, Field(min_length=1, max_length=64)]
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]  # ISO 4217
    available: Annotated[int, Field(ge=0, le=1_000_000_000)]
    expected_date: date | None = None
    returnable: bool = True
    accessories: Annotated[list[Sku], Field(max_length=50)] = Field(default_factory=list)

    def to_product(self, sku: str) -> CatalogueProduct:
        names = ({"en": self.name} if isinstance(self.name, str)
                 else self.name.model_dump(exclude_none=True))
        return CatalogueProduct(
            sku=sku, names=names, category=self.category, price_minor=int(self.price * 100),
            currency=self.currency, available=self.available, expected_date=self.expected_date,
            returnable=self.returnable,
            accessories=tuple(dict.fromkeys(a for a in self.accessories if a != sku)),
        )


class ProductRow(ProductIn):
    """One row of an import file: the PUT body and its sku."""

    sku: Sku


def product_out(product: CatalogueProduct) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": dict(product.names),
        "category": product.category,
        "price": money(product.price_minor),
        "currency": product.currency,
        "available": product.available,
        "expected_date": product.expected_date.isoformat() if product.expected_date else None,
        "returnable": product.returnable,
        "accessories": list(product.accessories),
    }
