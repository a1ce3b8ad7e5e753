"""What the console shows of orders and customers (docs/console.md), and the transcript export.

Message texts go out exactly as stored, as JSON strings or plain text: never as HTML.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from dialog.desk_values import TranscriptLine
from orders.money import money
from orders.service import CustomerView, OrderView
from orders.states import OrderStatus

# A carrier's tracking page says something only once the parcel is on its way.
_TRACKABLE = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED,
                        OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNED})


def order_json(order: OrderView, actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """actions: what the operator may do to it (console/actions.py OrderActions.allowed);
    left out where the order is shown outside a conversation."""
    shown: dict[str, Any] = {
        "number": order.number,
        "status": order.status.value,
        "total": money(order.total_minor),
        "currency": order.currency,
        "created_at": order.created_at.isoformat(),
        "lines": [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity,
             "unit_price": money(line.unit_price_minor)}
            for line in order.lines
        ],
        "history": [
            {"status": h.to_status, "at": h.at.isoformat(), "note": h.cause}
            for h in order.history
        ],
        "delivery": {
            "method": order.delivery_method,
            "address": order.delivery_address,
            "date": order.delivery_date.isoformat() if order.delivery_date else None,
            "slot": order.delivery_slot,
            "pickup_location": order.pickup_location,
        },
        "payment": {
            "method": order.payment_method,
            "status": order.payment_status,
            "due_date": order.payment_due_date.isoformat() if order.payment_due_date else None,
            "refunded": money(order.refunded_minor),
        },
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url if order.status in _TRACKABLE else None,
    }
    if actions is not None:
        shown["actions"] = actions
    return shown


def customer_json(customer: CustomerView, phone: str | None) -> dict[str, Any]:
    return {"id": customer.id, "name": customer.name, "email": customer.email,
            "phone": phone, "language": customer.language}


def transcript_text(lines: list[TranscriptLine]) -> str:
    """One line a message: "[2026-11-24 10:00 UTC] webchat customer: text". A message's own
    line breaks continue it on the next lines, indented, so every message starts a line
    with "["."""
    out = []
    for line in lines:
        at = line.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        who = f"{line.sender} ({line.author})" if line.author else line.sender
        text = "\n    ".join(line.text.splitlines()) or line.text
        if line.buttons:
            text += "  [" + " | ".join(button.title for button in line.buttons) + "]"
        out.append(f"[{at}] {line.channel} {who}: {text}\n")
    return "".join(out)
