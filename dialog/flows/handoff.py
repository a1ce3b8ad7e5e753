"""Handing the conversation to a person on request."""

from __future__ import annotations

from dialog.flows.base import Turn


class HandoffFlow:
    name = "handoff"
    intents = frozenset({"human"})

    async def start(self, turn: Turn, intent: str) -> None:
        hand_over(turn, "customer_asked")

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        hand_over(turn, argument or "customer_asked")


def hand_over(turn: Turn, reason: str, key: str = "handoff") -> None:
    turn.say(key if turn.escalate(reason) else "handoff_already")
