"""Greetings, thanks, goodbyes, and a yes or no that answers no open question."""

from __future__ import annotations

from dialog.flows.base import Turn, human_button, track_button
from dialog.flows.rating import offer_on_goodbye


class SmalltalkFlow:
    name = "smalltalk"
    intents = frozenset({"greet", "goodbye", "thanks", "affirm", "deny"})

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        if intent == "greet":
            turn.say("greet", track_button(turn), human_button(turn), shop=turn.shop_name)
        elif intent == "goodbye":
            await offer_on_goodbye(turn, turn.text("goodbye", shop=turn.shop_name))
        elif intent == "thanks":
            turn.say("thanks")
        else:
            turn.say("anything_else", track_button(turn), human_button(turn))

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        await self.start(turn, argument)
