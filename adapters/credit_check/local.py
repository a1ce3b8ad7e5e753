"""A credit check without a provider: cash on delivery is approved up to a fixed limit."""

from __future__ import annotations

from typing import Any

from orders.credit_check import CreditDecision

DEFAULT_LIMIT_MINOR = 100_000  # 1,000.00 in the order's currency


class LocalCreditCheck:
    def __init__(self, limit_minor: int = DEFAULT_LIMIT_MINOR) -> None:
        self._limit = limit_minor

    async def check(
        self, session: Any, customer_id: int, amount_minor: int, currency: str
    ) -> CreditDecision:
        approved = amount_minor <= self._limit
        return CreditDecision(approved, "local-approved" if approved else "local-over-limit")
