"""News of a change made at the strong level of proof (docs/security.md) for the order's
customer, in a conversation of their own: whoever made the change in a chat, the customer
learns of it where the shop's news reaches them, and can say "not me" there.

Nothing is sent when that conversation is the chat that made the change: it saw the change.
"""

from __future__ import annotations

from dialog.flows.base import Turn
from orders.service import OrderView, customer_of


def tell_owner_of_change(turn: Turn, order: OrderView, text_key: str,
                         **params: str | None) -> None:
    """`text_key` (a "notice_*" text) to the customer's own conversation, with a button to a
    person; in the turn's transaction, after its replies."""
    turn.afterwards.append(lambda: turn.shop.tell_owner(
        customer_of(order), text_key, ("button_human", "intent:human"),
        avoid=turn.state.id, number=order.number, **params,
    ))
