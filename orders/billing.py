"""Payment due dates, their reminders, operator tasks and invoices.

An unpaid order with a due date gets durable jobs (storage/jobs.py), keyed so that
scheduling twice is a no-op, all under the prefix "payment:<number>:" that a payment cancels:
- "payment:<number>:reminder:<day>": 7 days before the due date, and daily from 3 days before
  up to the due date itself;
- "payment:<number>:operator_task:<day>": the day after the due date, a task for an operator
  (orders/operator_tasks.py; the operator console shows them);
- "payment:<number>:escalation:<day>": shop.payment_overdue_escalation_days after the due
  date, the customer's conversation goes to an operator (scheduled by the operator task job,
  so that it follows the setting of the day).
Every job runs at REMINDER_HOUR UTC of its day and does nothing once the order is paid or
cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.documents import document_url, save_document
from orders.operator_tasks import add_operator_task
from orders.pdf import render
from orders.service import OrderService, OrderView, UnknownOrder
from orders.states import OrderStatus
from orders.tables import Document, Order
from storage.clock import utcnow
from storage.jobs import JobRunner, cancel, schedule

# The ways a customer can pay; the texts name them (payment_method_<method>).
ACCEPTED_METHODS = ("card", "blik", "bank_transfer", "cash_on_delivery")
REMINDER_HOUR = 9  # UTC
FIRST_REMINDER_DAYS = 7
DAILY_FROM_DAYS = 3

REMINDER = "payment_reminder"
OPERATOR_TASK = "payment_operator_task"
ESCALATION = "payment_escalation"
OVERDUE_TASK = "payment_overdue"  # the operator task's kind
INVOICE = "invoice"  # the document's kind
RENDERS_KEPT = 64  # invoices kept rendered in memory (some 15 kB each)


class PaymentNotifier(Protocol):
    """Writes to the customer about a payment (implemented outside orders/), in the
    caller's transaction."""

    async def payment_reminder(
        self, session: AsyncSession, order: OrderView, days_left: int
    ) -> None:
        ...

    async def payment_overdue(
        self, session: AsyncSession, order: OrderView, days_overdue: int
    ) -> None:
        """Tell the customer a person will contact them, and queue their conversation."""
        ...


def job_key(number: str, step: str, day: date) -> str:
    return f"payment:{number}:{step}:{day.isoformat()}"


def _at(day: date) -> datetime:
    return datetime.combine(day, time(REMINDER_HOUR), tzinfo=UTC)


def reminder_days(due: date) -> list[date]:
    return [due - timedelta(days=FIRST_REMINDER_DAYS),
            *(due - timedelta(days=n) for n in range(DAILY_FROM_DAYS, -1, -1))]


def is_unpaid(order: OrderView) -> bool:
    return order.payment_status != "paid" and order.status is not OrderStatus.CANCELLED


async def set_payment_due_date(
    session: AsyncSession, number: str, due: date | None, now: datetime | None = None
) -> int:
    """Store the order's payment due date and (re)plan its reminders; how many were planned."""
    changed = await session.execute(
        update(Order).where(Order.number == number).values(payment_due_date=due)
    )
    if not getattr(changed, "rowcount", 0):
        raise UnknownOrder(number)
    await cancel_payment_reminders(session, number)
    payment_status = await session.scalar(
        select(Order.payment_status).where(Order.number == number)
    )
    if due is None or payment_status == "paid":
        return 0
    return await schedule_payment_reminders(session, number, due, now or utcnow())


async def schedule_payment_reminders(
    session: AsyncSession, number: str, due: date, now: datetime
) -> int:
    """Plan the reminders still ahead and the overdue task. Reminder days already past are
    skipped; today's, and the task of an order already overdue, run at once."""
    today = now.astimezone(UTC).date()
    payload = {"number": number, "due_date": due.isoformat()}
    planned = 0
    for day in reminder_days(due):
        if day >= today:
            planned += await schedule(session, REMINDER, job_key(number, "reminder", day),
                                      _at(day), {**payload, "day": day.isoformat()})
    task_day = due + timedelta(days=1)
    planned += await schedule(session, OPERATOR_TASK, job_key(number, "operator_task", task_day),
                              max(_at(task_day), now), {**payload, "day": task_day.isoformat()})
    return planned


async def cancel_payment_reminders(session: AsyncSession, number: str) -> int:
    """The order is paid (or its due date changed): drop every payment job not yet run."""
    return await cancel(session, f"payment:{number}:")


class PaymentReminders:
    """The job handlers of the payment reminders (registered on the bot's JobRunner)."""

    def __init__(
        self, orders: OrderService, notifier: PaymentNotifier, escalation_days: int
    ) -> None:
        self._orders = orders
        self._notifier = notifier
        self._escalation_days = escalation_days

    def register(self, runner: JobRunner) -> None:
        runner.register(REMINDER, self.remind)
        runner.register(OPERATOR_TASK, self.overdue_task)
        runner.register(ESCALATION, self.escalate)

    async def _still_due(self, session: AsyncSession, payload: dict[str, Any]) -> OrderView | None:
        order = await self._orders.get_order(session, payload["number"])
        if order is None or not is_unpaid(order) or order.payment_due_date is None:
            return None
        if order.payment_due_date.isoformat() != payload["due_date"]:
            return None  # planned for an earlier due date
        return order

    async def remind(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        order = await self._still_due(session, payload)
        if order is None or order.payment_due_date is None:
            return
        days_left = (order.payment_due_date - date.fromisoformat(payload["day"])).days
        await self._notifier.payment_reminder(session, order, days_left)

    async def overdue_task(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        order = await self._still_due(session, payload)
        if order is None or order.payment_due_date is None:
            return
        await add_operator_task(
            session, order.number, OVERDUE_TASK,
            f"not paid ({(order.payment_method or 'no method chosen').replace('_', ' ')}): "
            f"{order.total_minor / 100:.2f} {order.currency} was due on "
            f"{order.payment_due_date.isoformat()}")
        day = order.payment_due_date + timedelta(days=self._escalation_days)
        await schedule(session, ESCALATION, job_key(order.number, "escalation", day), _at(day),
                       {**payload, "day": day.isoformat()})

    async def escalate(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        order = await self._still_due(session, payload)
        if order is None or order.payment_due_date is None:
            return
        overdue = (date.fromisoformat(payload["day"]) - order.payment_due_date).days
        await self._notifier.payment_overdue(session, order, overdue)


class Invoices:
    """The invoice of an order as a PDF document behind an unguessable link.

    Asking again for an unchanged invoice gives the link stored the first time: each press of
    "invoice" used to store a new PDF, and a customer (or a script) pressing it could fill the
    database. The PDF is rendered with the order's creation time as its date, so the same
    content gives the same bytes; recent renders are kept in memory, so asking again costs a
    lookup, not a render.
    """

    def __init__(self, base_url: str, shop_name: str) -> None:
        self._base_url = base_url
        self._shop_name = shop_name
        self.renders = 0  # PDFs rendered by this process (for the tests)
        self._render = lru_cache(maxsize=RENDERS_KEPT)(self._render_pdf)

    def _render_pdf(self, title: str, lines: tuple[str, ...], watermark: str,
                    created_at: datetime) -> bytes:
        self.renders += 1
        return render(self._shop_name, title, lines, watermark, created_at)

    async def invoice_url(
        self, session: AsyncSession, order: OrderView, title: str, lines: Sequence[str],
        watermark: str,
    ) -> str:
        order_id = await session.scalar(select(Order.id).where(Order.number == order.number))
        if order_id is None:
            raise UnknownOrder(order.number)
        content = self._render(title, tuple(lines), watermark, order.created_at)
        token = await session.scalar(
            select(Document.token)
            .where(Document.order_id == order_id, Document.kind == INVOICE,
                   Document.content == content)
            .limit(1))
        if token is None:
            token = await save_document(session, order_id, INVOICE,
                                        f"invoice-{order.number}.pdf", content)
        return document_url(self._base_url, token)
