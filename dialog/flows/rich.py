"""The optional structure of a reply (Outbound.rich) that a rich client draws: an order card
and document buttons. The reply's text keeps saying all of it, for the channels that draw
nothing (email, Telegram, Slack) and for the transcript."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dialog.flows.base import Turn
from orders.service import OrderView
from orders.states import OrderStatus


def order_card(turn: Turn, order: OrderView) -> dict[str, Any]:
    """{"number", "status", "status_label", "items": [{"name", "quantity"}], "tracking"?}."""
    now = f"card_status_{order.status.value}"  # what it waits for, where the history's word
    label = now if turn.texts.has(turn.language, now) else f"tracking_history_{order.status.value}"
    card: dict[str, Any] = {
        "number": order.number,
        "status": order.status.value,
        "status_label": turn.text(label),
        "items": [{"name": line.name, "quantity": line.quantity} for line in order.lines],
    }
    if order.status is OrderStatus.SHIPPED and order.tracking_url:
        card["tracking"] = {"carrier": order.carrier or "", "number": order.tracking_number or "",
                            "url": order.tracking_url}
    return card


# A document's kind and the text of its button's title.
DOCUMENT_TITLES = {
    "return_label": "document_return_label",
    "order_confirmation": "document_order_confirmation",
}


def document(turn: Turn, kind: str, url: str) -> dict[str, str]:
    """A download button's {"kind", "title", "url"}; the title in the customer's language."""
    return {"kind": kind, "title": turn.text(DOCUMENT_TITLES[kind]), "url": url}


def enrich_last_reply(turn: Turn, **rich: Any) -> None:
    """Give the turn's newest reply its structure (the reply was said with its text)."""
    last = turn.replies[-1]
    turn.replies[-1] = replace(last, rich={**(last.rich or {}), **rich})
