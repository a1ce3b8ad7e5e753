"""Handing the conversation to a person: on request, and for intents the bot cannot serve yet."""

from __future__ import annotations

from dialog.flows.base import Turn, human_button

# Intents whose self-service flows are not built yet: offer a person instead of a flat no.
NOT_YET_SERVED = frozenset(
    {"cancel_order", "change_delivery", "return_order", "product_availability", "payment"}
)


class HandoffFlow:
    name = "handoff"
    intents = frozenset({"human"}) | NOT_YET_SERVED

    async def start(self, turn: Turn, intent: str) -> None:
        if intent in NOT_YET_SERVED:
            turn.finish()
            turn.say("not_yet", human_button(turn))
            return
        hand_over(turn, "customer_asked")

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        hand_over(turn, argument or "customer_asked")


def hand_over(turn: Turn, reason: str, key: str = "handoff") -> None:
    turn.say(key if turn.escalate(reason) else "handoff_already")
