"""The payment provider as the order core sees it: a link to pay an order, and refunds.

Implementations: adapters/payments/local.py (the default: the shop records payments itself,
via the shop API's payment_received event) and an HTTP one for a real provider.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from orders.changes import ORDER_PAYMENT_LINK_CREATED
from orders.service import OrderService, OrderView


class PaymentFailed(Exception):
    """The provider refused or could not be reached; str() says why (no secrets)."""


class Payments(Protocol):
    async def payment_link(self, order: OrderView) -> str:
        """Where the customer pays what is still due on the order."""
        ...

    async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
        """Start a refund of amount_minor to the customer; the provider's refund id."""
        ...


async def create_payment_link(
    session: AsyncSession, orders: OrderService, payments: Payments, order: OrderView
) -> str:
    """A payment link for the order, recorded for the shop (order.payment_link_created) in
    the caller's transaction; PaymentFailed as the provider's."""
    url = await payments.payment_link(order)
    await orders.changes.record(session, ORDER_PAYMENT_LINK_CREATED, order=order, data={
        "payment_link": {"url": url, "amount": order.total_minor / 100}})
    return url
