"""The credit check that cash on delivery above shop.cod_credit_check_above needs.

Implementations: adapters/credit_check/local.py (a fixed limit) and adapters/credit_check/http.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class CreditCheckUnavailable(Exception):
    """The credit check service failed; the caller treats it as a refusal it can explain."""


@dataclass(frozen=True, slots=True)
class CreditDecision:
    approved: bool
    reference: str = ""


class CreditCheck(Protocol):
    async def check(
        self, session: Any, customer_id: int, amount_minor: int, currency: str
    ) -> CreditDecision:
        ...


def needs_credit_check(payment_method: str, total_minor: int, threshold_major: int) -> bool:
    """Cash on delivery above the shop's threshold (given in whole currency units)."""
    return payment_method == "cash_on_delivery" and total_minor > threshold_major * 100
