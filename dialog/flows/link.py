"""A chat link from an order (Telegram "/start <token>", a web chat link) proves that one
order at the strong level (docs/security.md): the chat may see and change it, and gets a copy
of its news. The link is sent to the order's customer, but it may be forwarded or overheard:
it never makes the chat the customer's (no customer id, no linked identity), so their other
orders and their conversations stay out of its reach.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialog.flows.base import Turn, human_button, track_button


class LinkFlow:
    name = "link"
    intents: frozenset[str] = frozenset()

    def __init__(self, tell_status: Callable[[Turn, str], Awaitable[None]]) -> None:
        self._tell_status = tell_status  # of the linked order, as the status flow tells it

    async def start(self, turn: Turn, intent: str) -> None:
        return None

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        order = await turn.shop.order_by_link_token(argument) if argument else None
        if order is None:
            turn.say("link_invalid", track_button(turn), human_button(turn))
            return
        state = turn.state
        for proven in (state.verified_orders, state.strong_orders):
            if order.number not in proven:
                proven.append(order.number)
        state.language = order.customer_language
        # Said every time, so that a chat never follows another order without being told.
        turn.say("linked", name=order.customer_name.split()[0], number=order.number)
        await self._tell_status(turn, order.number)
