"""Self-service in the range: status questions answered, cancellations, delivery changes,
returns opened; back-in-stock notices sent, and those followed within CONVERSION_DAYS by an
order of the product from the same customer; payment reminders sent, and the reminded orders
paid after their first reminder. Overdue receivables are counted at the start and the end
of the range (shop-wide: the channel and language filters do not apply to them).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from console.analytics.scope import Scope, count_events, event_rows, per_period, series
from dialog import events
from dialog.tables import Conversation, Event
from orders.tables import Order, OrderHistory, OrderLine

CONVERSION_DAYS = 14
PAID_CAUSE = "%payment_received%"  # the history note of a payment (shop API, payment page)


async def self_service_figures(scope: Scope) -> dict[str, Any]:
    periods = scope.filters.periods()
    sent, converted = await _back_in_stock(scope)
    reminded, paid = await _reminders(scope)
    return {
        "status_answered": await count_events(scope, events.STATUS_ANSWERED),
        "cancellations": await count_events(scope, events.ORDER_CANCELLED),
        "delivery_changes": await count_events(scope, events.DELIVERY_CHANGED),
        "returns_opened": await count_events(scope, events.RETURN_OPENED),
        "back_in_stock_sent": sent,
        "back_in_stock_converted": converted,
        "payment_reminders_sent": await count_events(scope, events.PAYMENT_REMINDER_SENT),
        "orders_reminded": reminded,
        "paid_after_reminder": paid,
        "overdue_at_start": await overdue_at(scope, scope.filters.since),
        "overdue_at_end": await overdue_at(scope, scope.filters.until),
        "series": series(
            periods,
            status_answered=await per_period(scope, events.STATUS_ANSWERED),
            cancellations=await per_period(scope, events.ORDER_CANCELLED),
            delivery_changes=await per_period(scope, events.DELIVERY_CHANGED),
            returns_opened=await per_period(scope, events.RETURN_OPENED),
        ),
    }


async def _back_in_stock(scope: Scope) -> tuple[int, int]:
    notices = event_rows(scope, events.BACK_IN_STOCK_SENT)
    sent = int(await scope.session.scalar(notices.with_only_columns(func.count())) or 0)
    notice = notices.with_only_columns(Event.id, Event.at, Event.subject,
                                       Event.conversation_id).subquery()
    rows = await scope.session.execute(
        select(notice.c.id, notice.c.at, func.min(Order.created_at))
        .join(Conversation, Conversation.id == notice.c.conversation_id)
        .join(Order, Order.customer_id == Conversation.customer_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(OrderLine.sku == notice.c.subject, Order.created_at >= notice.c.at)
        .group_by(notice.c.id, notice.c.at)
    )
    window = timedelta(days=CONVERSION_DAYS)
    return sent, sum(1 for _, at, ordered in rows if ordered - at <= window)


async def _reminders(scope: Scope) -> tuple[int, int]:
    first = (event_rows(scope, events.PAYMENT_REMINDER_SENT)
             .with_only_columns(Event.subject, func.min(Event.at).label("at"))
             .group_by(Event.subject).subquery())
    reminded = int(await scope.session.scalar(select(func.count()).select_from(first)) or 0)
    paid = int(await scope.session.scalar(
        select(func.count(func.distinct(first.c.subject)))
        .join(Order, Order.number == first.c.subject)
        .join(OrderHistory, OrderHistory.order_id == Order.id)
        .where(OrderHistory.cause.like(PAID_CAUSE), OrderHistory.at > first.c.at)) or 0)
    return reminded, paid


async def overdue_at(scope: Scope, moment: datetime) -> dict[str, Any]:
    """Orders unpaid past their due date at `moment`: how many, and how much per currency
    (minor units). Paid means a payment in the order's history before the moment, or paid
    already when the shop created it."""
    paid_at = (select(OrderHistory.order_id, func.min(OrderHistory.at).label("at"))
               .where(OrderHistory.cause.like(PAID_CAUSE)).group_by(OrderHistory.order_id)
               .subquery())
    rows = await scope.session.execute(
        select(Order.currency, Order.total_minor, Order.payment_status, paid_at.c.at)
        .outerjoin(paid_at, paid_at.c.order_id == Order.id)
        .where(Order.payment_due_date < moment.date(), Order.created_at < moment,
               Order.status != "cancelled"))
    amounts: dict[str, int] = defaultdict(int)
    count = 0
    for currency, total, status, paid in rows:
        if paid is not None and paid < moment or paid is None and status == "paid":
            continue
        count += 1
        amounts[currency] += total
    return {"orders": count, "amount_minor": dict(sorted(amounts.items()))}
