"""Voucher and loyalty codes: one per order, validated by an adapter, the total recomputed.

Implementations: adapters/vouchers/local.py (the `vouchers` table below, the default) and
adapters/vouchers/http.py (a loyalty service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from orders.models import Base, utcnow

REFUSALS = ("unknown", "expired", "used", "below_minimum", "one_per_order")


class VoucherRefused(Exception):
    """The code cannot be used; reason is one of REFUSALS (the dialog explains it)."""

    def __init__(self, reason: str, minimum_minor: int = 0) -> None:
        super().__init__(f"voucher refused: {reason}")
        self.reason = reason
        self.minimum_minor = minimum_minor


class VouchersUnavailable(Exception):
    """The voucher service failed or could not be reached."""


@dataclass(frozen=True, slots=True)
class VoucherQuote:
    code: str
    discount_minor: int  # what the code takes off this order's total


class Vouchers(Protocol):
    async def quote(
        self, session: Any, code: str, total_minor: int, currency: str, today: date
    ) -> VoucherQuote:
        """What the code is worth on this order; VoucherRefused if it cannot be used."""
        ...

    async def redeem(self, session: Any, code: str, order_number: str, today: date) -> None:
        """Use the code up for this order (single-use codes); VoucherRefused("used") if taken."""
        ...


class Voucher(Base):
    """A code the shop gave out: a percentage or an amount off, above a minimum total."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # stored upper-case
    percent_off: Mapped[int] = mapped_column(Integer, default=0)
    amount_off_minor: Mapped[int] = mapped_column(Integer, default=0)
    min_total_minor: Mapped[int] = mapped_column(Integer, default=0)
    valid_until: Mapped[date | None] = mapped_column(Date)
    single_use: Mapped[bool] = mapped_column(Boolean, default=True)
    used_by_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL")
    )
    used_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def normalise_code(text: str) -> str:
    return "".join(text.split()).upper()


def discount(voucher: Voucher, total_minor: int) -> int:
    off = total_minor * voucher.percent_off // 100 + voucher.amount_off_minor
    return min(off, total_minor)
