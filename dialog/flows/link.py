"""A chat link from an order (Telegram "/start <token>", a web chat link) ties the
conversation to the order's customer: their orders are theirs to see from then on."""

from __future__ import annotations

from dialog.flows.base import Turn, human_button, track_button
from dialog.flows.status import StatusFlow


class LinkFlow:
    name = "link"
    intents: frozenset[str] = frozenset()

    async def start(self, turn: Turn, intent: str) -> None:
        return None

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        order = await turn.orders.order_by_link_token(turn.session, argument) if argument else None
        if order is None or await _linked_elsewhere(turn, order.customer_id):
            turn.say("link_invalid", track_button(turn), human_button(turn))
            return
        state = turn.state
        state.customer_id = order.customer_id
        if order.number not in state.verified_orders:
            state.verified_orders.append(order.number)
        if turn.inbound.sender:
            await turn.orders.link_identity(
                turn.session, order.customer_id, state.key.channel, turn.inbound.sender
            )
        state.language = order.customer_language
        turn.say("linked", name=order.customer_name.split()[0], number=order.number)
        await StatusFlow().on_action(turn, order.number)


async def _linked_elsewhere(turn: Turn, customer_id: int) -> bool:
    """The link already tied another chat of this channel to the customer. A forwarded or
    overheard link must not open their orders (and their news) to a second chat: that chat
    proves the order like anyone else."""
    sender = turn.inbound.sender
    if not sender:
        return False
    linked = await turn.orders.identities_of(turn.session, customer_id)
    holder = linked.get(turn.state.key.channel)
    return holder is not None and holder != sender
