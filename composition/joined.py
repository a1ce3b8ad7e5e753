"""The order core's news and the dialog's due jobs in the transaction that caused them.

The order core and the job runner hand over their transaction as a session (orders.service.
OrderNotifier, orders.stock.BackInStockNotifier, orders.billing.PaymentNotifier, the handlers
of storage.jobs.JobRunner). Here that session becomes the repositories of the same
transaction (storage/repositories/) before the dialog is called, so that a message commits
with the fact that caused it and the dialog never holds a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialog.flows.availability import BackInStockMessages
from dialog.flows.payment import PaymentMessages
from dialog.proactive import ProactiveMessages
from dialog.unit_of_work import DueJob, Repositories
from orders.service import CustomerView, OrderView
from orders.stock import ProductInfo
from storage.jobs import JobRunner
from storage.repositories.shop import ShopParts
from storage.repositories.unit_of_work import SqlRepositories

Join = Callable[[AsyncSession], Repositories]


def joiner(parts: ShopParts) -> Join:
    """The repositories (and the shop) of a transaction someone else opened."""
    return lambda session: SqlRepositories(session, parts)


class JoinedOrderNews:
    """orders.service.OrderNotifier: the customer told by ProactiveMessages."""

    def __init__(self, proactive: ProactiveMessages, join: Join) -> None:
        self._proactive, self._join = proactive, join

    async def order_changed(self, session: AsyncSession, order: OrderView, event: str,
                            details: dict[str, Any] | None = None) -> None:
        await self._proactive.order_changed(self._join(session), order, event, details)


class JoinedBackInStock:
    """orders.stock.BackInStockNotifier over BackInStockMessages."""

    def __init__(self, messages: BackInStockMessages, join: Join) -> None:
        self._messages, self._join = messages, join

    async def back_in_stock(self, session: AsyncSession, customer: CustomerView,
                            product: ProductInfo) -> None:
        await self._messages.back_in_stock(self._join(session), customer, product)


class JoinedPaymentNews:
    """orders.billing.PaymentNotifier over PaymentMessages."""

    def __init__(self, messages: PaymentMessages, join: Join) -> None:
        self._messages, self._join = messages, join

    async def payment_reminder(self, session: AsyncSession, order: OrderView,
                               days_left: int) -> None:
        await self._messages.payment_reminder(self._join(session), order, days_left)

    async def payment_overdue(self, session: AsyncSession, order: OrderView,
                              days_overdue: int) -> None:
        await self._messages.payment_overdue(self._join(session), order, days_overdue)


class JoinedJobs:
    """dialog.unit_of_work.DueJobs over storage.jobs.JobRunner."""

    def __init__(self, jobs: JobRunner, join: Join) -> None:
        self._jobs, self._join = jobs, join

    def register(self, kind: str, handler: DueJob) -> None:
        join = self._join

        async def run(session: AsyncSession, payload: dict[str, Any]) -> None:
            await handler(join(session), payload)

        self._jobs.register(kind, run)
