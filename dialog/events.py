"""Outcomes of conversations that no other table records, for the reports (console/analytics).

Most figures come from the tables the bot keeps anyway: the transcript (each customer message
with the flow that answered it and the intent the classifier guessed), handoffs, order
history, vouchers. An event row is written only for what those do not show: which
conversation (so which channel and language) answered a status question, accepted an
alternative, was sent a payment reminder, rated the service. Events are written in the
transaction of what they record: a turn's with its transcript (Turn.record), a proactive
message's with its outbox row (record_event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.tables import Event
from storage.clock import utcnow

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




Index("ix_events_kind_at", Event.kind, Event.at)
Index("ix_events_conversation", Event.conversation_id)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event a flow noted during a turn; written with the turn's transcript."""

    kind: str
    subject: str | None = None
    value: int | None = None
    handoff_id: int | None = None


async def record_event(
    session: AsyncSession, kind: str, conversation_id: int | None, *,
    subject: str | None = None, value: int | None = None, handoff_id: int | None = None,
    at: datetime | None = None,
) -> None:
    await record_events(session, conversation_id,
                        [PendingEvent(kind, subject, value, handoff_id)], at)


async def record_events(
    session: AsyncSession, conversation_id: int | None, events: list[PendingEvent],
    at: datetime | None = None,
) -> None:
    """Write the events in the caller's transaction (one statement for all of them)."""
    if not events:
        return
    at = at or utcnow()
    for event in events:
        if event.kind not in KINDS:
            raise ValueError(f"unknown event kind {event.kind!r}")
    await session.execute(insert(Event), [
        {"kind": e.kind, "conversation_id": conversation_id, "handoff_id": e.handoff_id,
         "subject": e.subject[:64] if e.subject else None, "value": e.value, "at": at}
        for e in events
    ])


@dataclass(frozen=True, slots=True)
class RatingOffer:
    id: int
    handoff_id: int | None
    at: datetime
    rated: bool  # a rating answered it already


async def latest_rating_offer(session: AsyncSession, conversation_id: int) -> RatingOffer | None:
    """The conversation's newest rating offer, and whether it has been answered."""
    offer = (await session.execute(
        select(Event.id, Event.handoff_id, Event.at)
        .where(Event.conversation_id == conversation_id, Event.kind == RATING_OFFERED)
        .order_by(Event.id.desc()).limit(1)
    )).first()
    if offer is None:
        return None
    rated = await session.scalar(
        select(Event.id).where(Event.conversation_id == conversation_id, Event.kind == RATING,
                               Event.id > offer.id).limit(1)
    )
    return RatingOffer(offer.id, offer.handoff_id, offer.at, rated is not None)
