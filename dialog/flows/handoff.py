"""Handing the conversation to a person on request."""

from __future__ import annotations

from dialog.flows.base import Turn
from dialog.flows.escalation import hand_over


class HandoffFlow:
    name = "handoff"
    intents = frozenset({"human"})

    async def start(self, turn: Turn, intent: str) -> None:
        hand_over(turn, "customer_asked")

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        hand_over(turn, argument or "customer_asked")
