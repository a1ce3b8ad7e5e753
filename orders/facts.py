"""Events from the shop are facts, not requests (DESIGN.md, "The shop is the system of record").

A fact is never refused: the order takes the status the shop says, the change is written into
its history and the customer is told. A fact that contradicts what happened in the chat is kept
all the same, and an operator task (kind CONFLICT_TASK) asks a person to sort it out with the
customer; the history entry shows both sides: `from` is what the chat knew, `to` and the cause
what the shop says; the task's detail says both in words (both_sides).

A second `shipped` with another tracking number (re-shipped, another carrier) is news: recorded
and told with the new tracking; the same tracking number again is a resend (`repeat`).

Contradictions:
- any fact but `cancelled` and `refunded` on a cancelled order (the customer, or the shop
  earlier, cancelled it): `confirmed`, `updated`, `shipped`, `out_for_delivery`,
  `delivery_failed`, `delivered`, `payment_received`, `return_received`;
- `return_received` for an order that was never delivered;
- `cancelled` of an order the customer asked to return (return_requested): the return is
  still open in the chat;
- a fact that moves an order back in its life (`confirmed` or `shipped` of a delivered one,
  `delivered` of a returned one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orders.operator_tasks import add_operator_task
from orders.service import OrderService, OrderView, UnknownOrder
from orders.states import OrderStatus

CONFLICT_TASK = "shop_fact_conflict"  # the operator task's kind

# The status each fact puts the order in; None: the status stays (payment, refund).
FACT_TARGETS: dict[str, OrderStatus | None] = {
    "confirmed": OrderStatus.CONFIRMED,
    "cancelled": OrderStatus.CANCELLED,
    "shipped": OrderStatus.SHIPPED,
    # Still on its way: the carrier's news is in the history and told to the customer.
    "out_for_delivery": OrderStatus.SHIPPED,
    "delivery_failed": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
    "return_received": OrderStatus.RETURNED,
    "payment_received": None,
    "refunded": None,
    "updated": None,
}

# How far along its life an order is, to see a fact that moves it back.
_PROGRESS = {
    OrderStatus.PENDING_CONFIRMATION: 0,
    OrderStatus.CONFIRMED: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.DELIVERED: 3,
    OrderStatus.RETURN_REQUESTED: 4,
    OrderStatus.RETURNED: 5,
}
_NEWS_IN_TRANSIT = frozenset({"out_for_delivery", "delivery_failed"})  # news on a shipped order
_AFTER_DELIVERY = {OrderStatus.DELIVERED, OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNED}


@dataclass(frozen=True, slots=True)
class Recorded:
    order: OrderView
    conflict: str | None  # what contradicts the chat, None when nothing does
    # The order had the fact's status already (a resent event): recorded, the customer not
    # told again, a return not refunded twice.
    repeat: bool = False
    # What the customer is told of, when not the fact itself: "reshipped" (a new tracking).
    told_as: str | None = None


def contradiction(order: OrderView, event: str) -> str | None:
    """How the fact contradicts what the bot knows of the order, or None."""
    current = order.status
    target = FACT_TARGETS[event]
    if current is OrderStatus.CANCELLED and event not in ("cancelled", "refunded"):
        return f"the shop says {event} but the order was cancelled"
    if event == "return_received" and current not in _AFTER_DELIVERY and (
        order.delivered_at is None
    ):
        return f"the shop received a return but the order was never delivered (it is {current})"
    if event == "cancelled" and current is OrderStatus.RETURN_REQUESTED:
        return "the shop cancelled the order but the customer asked to return it"
    if target is None or target is OrderStatus.CANCELLED or current is OrderStatus.CANCELLED:
        return None
    if _PROGRESS[target] < _PROGRESS[current]:
        return f"the shop says {event} but the order is already {current}"
    return None


async def record_fact(
    service: OrderService, session: AsyncSession, number: str, event: str, cause: str,
    **details: Any,
) -> Recorded:
    """Apply the shop's fact to the order, whatever its status; UnknownOrder if none."""
    order = await service.get_order(session, number)
    if order is None:
        raise UnknownOrder(number)
    conflict = contradiction(order, event)
    if conflict is not None:
        cause = f"{cause} (conflict: {conflict})"[:200]
        await add_operator_task(session, number, CONFLICT_TASK,
                                both_sides(order, event, details))
    target = FACT_TARGETS[event]
    repeat = target is order.status and event not in _NEWS_IN_TRANSIT
    told_as = None
    if event == "shipped" and _new_tracking(order, details):
        # Another parcel: the old one's tracking page would mislead, so it goes unless the
        # shop sends a new one.
        details = {"tracking_url": None, **details}
        if repeat:  # sent again (re-shipped, another carrier): news, not a resend
            repeat, told_as = False, "reshipped"
            cause = f"{cause}: new tracking {details['tracking_number']}"[:200]
    if event == "payment_received":
        updated = await service.apply_event(session, number, event, cause)
    elif event == "refunded":
        updated = await service.record_refund(session, number, details["amount_minor"], cause)
    elif event == "updated":
        updated = await service.update_order(session, number, cause, details["change"])
    elif event == "return_received" and service.return_receiver is not None and (
        order.status is not OrderStatus.RETURNED
    ):
        updated = await service.return_receiver.receive(session, number, cause, check=False)
    else:
        assert target is not None
        changes = {name: value for name, value in details.items() if name in _ORDER_FIELDS}
        updated = await service.move(session, number, target, cause, check=False, **changes)
    return Recorded(updated, conflict, repeat, told_as)


_ORDER_FIELDS = frozenset({"carrier", "tracking_number", "tracking_url"})


def _new_tracking(order: OrderView, details: dict[str, Any]) -> bool:
    given = details.get("tracking_number")
    return bool(given) and given != order.tracking_number


def both_sides(order: OrderView, event: str, details: dict[str, Any]) -> str:
    """The operator task's detail: what the chat knew of the order, and what the shop says
    ("the chat: cancelled (customer cancelled in chat) at 2026-12-06 10:00 UTC; the shop:
    shipped with DHL 123")."""
    chat = f"the chat: {order.status}"
    if order.history:
        last = order.history[-1]
        chat += f" ({last.cause}) at {last.at:%Y-%m-%d %H:%M} UTC"
    shop = f"the shop: {event}"
    carrier = " ".join(str(details[name]) for name in ("carrier", "tracking_number")
                       if details.get(name))
    if carrier:
        shop += f" with {carrier}"
    if details.get("reason"):
        shop += f": {details['reason']}"
    if "amount_minor" in details:
        shop += f" {details['amount_minor'] / 100:.2f} {order.currency}"
    return f"{chat}; {shop}"
