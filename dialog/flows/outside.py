"""A request outside the shop's business: a short honest answer and the offer of a person.

Not "I didn't understand" (the bot did understand) and not a flow (none fits). Accounts,
passwords and logins get their own line, since this shop has no customer accounts (customers
order with their e-mail address); newsletters, subscriptions and plans get theirs. The topic
words are in dialog/nlu/topics.py: a strong one ("password", "newsletter") outweighs even a
confident intent, a weak one ("account", "subscribe") counts when nothing else is clear.
"""

from __future__ import annotations

from dialog.flows.base import Turn, human_button
from dialog.nlu.topics import outside_topic


def answer_outside(turn: Turn, topic: str | None) -> None:
    turn.state.misunderstandings = 0  # understood: it is simply not the shop's business
    key = f"out_of_scope_{topic}" if topic else "out_of_scope"
    turn.say(key, human_button(turn), shop=turn.shop_name)


def topic_of(turn: Turn, strong_only: bool = False) -> str | None:
    """The outside topic the customer's message names; None for a message about an order
    (it has an order number: "A-1001, I can't log in" is about that order)."""
    understanding = turn.understanding
    if understanding is None or understanding.entities.order_numbers:
        return None
    return outside_topic(turn.inbound.text, strong_only) if turn.inbound.text else None
