"""Payments without a provider: the link points to the shop's own payment page for the
order, and a refund is recorded for the shop to pay out by hand (it appears in the order's
history); nothing leaves the machine."""

from __future__ import annotations

import secrets

from orders.service import OrderView


class LocalPayments:
    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    async def payment_link(self, order: OrderView) -> str:
        return f"{self._base_url}/pay/{order.pay_token}"

    async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
        return f"local-refund-{secrets.token_hex(6)}"
