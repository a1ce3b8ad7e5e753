"""Greetings, thanks, goodbyes, and a yes or no that answers no open question."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialog.flows.base import Turn, human_button, track_button


class SmalltalkFlow:
    name = "smalltalk"
    intents = frozenset({"greet", "goodbye", "thanks", "affirm", "deny"})

    def __init__(self, say_goodbye: Callable[[Turn, str], Awaitable[None]]) -> None:
        self._say_goodbye = say_goodbye  # the goodbye text, with the rating question or not

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        if intent == "greet":
            turn.say("greet", track_button(turn), human_button(turn), shop=turn.shop_name)
        elif intent == "goodbye":
            await self._say_goodbye(turn, turn.text("goodbye", shop=turn.shop_name))
        elif intent == "thanks":
            turn.say("thanks")
        else:
            turn.say("anything_else", track_button(turn), human_button(turn))

    async def resume(self, turn: Turn) -> bool:
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        await self.start(turn, argument)
