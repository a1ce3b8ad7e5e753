"""Voucher and loyalty codes: one per order, validated by an adapter, the total recomputed.

Implementations: adapters/vouchers/local.py (the `vouchers` table below, the default) and
adapters/vouchers/http.py (a loyalty service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from orders.tables import Voucher

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




def normalise_code(text: str) -> str:
    return "".join(text.split()).upper()


def discount(voucher: Voucher, total_minor: int) -> int:
    off = total_minor * voucher.percent_off // 100 + voucher.amount_off_minor
    return min(off, total_minor)
