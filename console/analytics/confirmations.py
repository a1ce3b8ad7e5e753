"""Order confirmation: the orders the bot asked customers to confirm in the range, and what
became of them (at any time since): confirmed, declined, or no decision (unanswered); the
median time from the request to the confirmation; alternatives and accessories accepted and
vouchers used in the range.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from console.analytics.scope import (
    Scope,
    count_events,
    event_rows,
    median_seconds,
    per_period,
    series,
)
from dialog import events
from dialog.tables import Event
from orders.tables import Order, OrderHistory

CONFIRMED_CAUSE = "customer confirmed"  # orders/confirmation.py
DECLINED_CAUSE = "customer declined"  # dialog/flows/confirm.py


async def confirmation_figures(scope: Scope) -> dict[str, Any]:
    session = scope.session
    sent_events = event_rows(scope, events.CONFIRMATION_SENT)
    first_sent = (
        sent_events.with_only_columns(Event.subject, func.min(Event.at).label("sent_at"))
        .group_by(Event.subject).subquery()
    )
    sent = int(await session.scalar(select(func.count()).select_from(first_sent)) or 0)
    decisions = (await session.execute(
        select(first_sent.c.sent_at, OrderHistory.cause, OrderHistory.at, Order.voucher_code)
        .join(Order, Order.number == first_sent.c.subject)
        .join(OrderHistory, OrderHistory.order_id == Order.id)
        .where(OrderHistory.cause.in_((CONFIRMED_CAUSE, DECLINED_CAUSE)))
    )).all()
    confirmed = [(sent_at, at) for sent_at, cause, at, _ in decisions if cause == CONFIRMED_CAUSE]
    declined = sum(1 for _, cause, _, _ in decisions if cause == DECLINED_CAUSE)
    vouchers = sum(1 for _, cause, _, code in decisions if cause == CONFIRMED_CAUSE and code)
    return {
        "sent": sent,
        "confirmed": len(confirmed),
        "declined": declined,
        "unanswered": sent - len(confirmed) - declined,
        "median_seconds_to_confirm": median_seconds(confirmed),
        "alternatives_accepted": await count_events(scope, events.ALTERNATIVE_ACCEPTED),
        "cross_sell_accepted": await count_events(scope, events.CROSS_SELL_ACCEPTED),
        "vouchers_used": vouchers,
        "series": series(scope.filters.periods(),
                         sent=await per_period(scope, events.CONFIRMATION_SENT)),
    }
