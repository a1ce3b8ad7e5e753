"""Outcomes of conversations that no other table records, for the reports (console/analytics).

Most figures come from the tables the bot keeps anyway: the transcript (each customer message
with the flow that answered it and the intent the classifier guessed), handoffs, order
history, vouchers. An event row is written only for what those do not show: which
conversation (so which channel and language) answered a status question, accepted an
alternative, was sent a payment reminder, rated the service. Events are written in the
transaction of what they record: a turn's with its transcript (Turn.record), a proactive
message's with its outbox row (`uow.events.add`, dialog/unit_of_work.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# subject: the order number, unless said otherwise
CONFIRMATION_SENT = "confirmation_sent"  # the shop's new order asked to be confirmed
ALTERNATIVE_ACCEPTED = "alternative_accepted"  # an out-of-stock line swapped for another
CROSS_SELL_ACCEPTED = "cross_sell_accepted"  # the accessory offered was added
STATUS_ANSWERED = "status_answered"  # the customer was told an order's status
ORDER_CANCELLED = "order_cancelled"
DELIVERY_CHANGED = "delivery_changed"
RETURN_OPENED = "return_opened"
BACK_IN_STOCK_SENT = "back_in_stock_sent"  # subject: the SKU
PAYMENT_REMINDER_SENT = "payment_reminder_sent"
RATING_OFFERED = "rating_offered"  # handoff_id: the handoff that just ended, if any
RATING = "rating"  # value: 1..5; handoff_id as in the offer it answers

KINDS = frozenset({
    CONFIRMATION_SENT, ALTERNATIVE_ACCEPTED, CROSS_SELL_ACCEPTED, STATUS_ANSWERED,
    ORDER_CANCELLED, DELIVERY_CHANGED, RETURN_OPENED, BACK_IN_STOCK_SENT,
    PAYMENT_REMINDER_SENT, RATING_OFFERED, RATING,
})


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event a flow noted during a turn; written with the turn's transcript."""

    kind: str
    subject: str | None = None
    value: int | None = None
    handoff_id: int | None = None


def check_kinds(events: list[PendingEvent]) -> None:
    """Refuse a kind the reports do not know (a typo would otherwise vanish from them)."""
    for event in events:
        if event.kind not in KINDS:
            raise ValueError(f"unknown event kind {event.kind!r}")


@dataclass(frozen=True, slots=True)
class RatingOffer:
    id: int
    handoff_id: int | None
    at: datetime
    rated: bool  # a rating answered it already
