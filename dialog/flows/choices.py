"""Questions with options that work as buttons and as free text: the option's number ("2"),
its words ("courier", "kurier"), or yes/no for the first/second option. Used by the
confirmation and the change-delivery flows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dialog.flows.base import Turn

MAX_BUTTONS = 8


class AnswerFirst(frozenset[str]):
    """The intents that start a flow, for a flow that must see every answer first.

    The manager switches away from the active flow when a confident intent is not `in`
    its intents. Answers like "tomorrow" (out_of_scope), "morning" (greet) or "cash on
    delivery" (change_delivery) are classified confidently, so this set says every intent is
    its own: the flow's resume() is tried, and returns False for what is not an answer, which
    the manager then routes as usual. Iterating yields only the starting intents.
    """

    def __contains__(self, intent: object) -> bool:
        return True


def ask(
    turn: Turn, flow: str, step: str, key: str, options: Iterable[tuple[str, str]],
    slots: dict[str, Any], **params: object,
) -> None:
    """Say `key` with one button per (argument, title); the answer comes back to `step`."""
    chosen = [list(option) for option in options][:MAX_BUTTONS]
    turn.enter(flow, step, **{**slots, "options": chosen, "asked": [key, params]})
    _say_question(turn)


def ask_again(turn: Turn, key: str = "choice_not_understood") -> None:
    """A polite re-ask of the question the conversation waits at, after `key` (why)."""
    turn.say(key)
    _say_question(turn)


def _say_question(turn: Turn) -> None:
    slots, flow, step = turn.state.slots, turn.state.flow, turn.state.step
    key, params = slots["asked"]
    buttons = [turn.button_plain(title, f"{flow}:{step}:{argument}")
               for argument, title in slots["options"]]
    turn.say(key, *buttons, **params)


def another_request(turn: Turn) -> bool:
    """The message is clearly something else than an answer (another order, a person...)."""
    understanding = turn.understanding
    if understanding is None:
        return False
    entities = understanding.entities
    if entities.order_numbers or entities.emails:
        return True
    return understanding.confidence >= 0.6 and understanding.intent not in (
        "out_of_scope", "affirm", "deny", "greet", "thanks"
    )


def picked(turn: Turn, yes: str | None = None, no: str | None = None) -> str | None:
    """The argument of the option the customer's text names, or None."""
    options: list[list[str]] = turn.state.slots.get("options") or []
    text = " ".join(turn.inbound.text.lower().strip().rstrip(".!").split())
    if not text:
        return None
    if text.isdigit():
        index = int(text)
        return options[index - 1][0] if 1 <= index <= len(options) else None
    for argument, title in options:
        if text == title.lower():
            return argument
    if len(text) >= 3:
        matches = [argument for argument, title in options if text in title.lower()]
        if len(matches) == 1:
            return matches[0]
    understanding = turn.understanding
    if understanding is not None and understanding.confidence >= 0.5:
        if understanding.intent == "affirm" and yes is not None:
            return yes
        if understanding.intent in ("deny",) and no is not None:
            return no
    return None


def step_argument(turn: Turn, flow_step: str, argument: str) -> str | None:
    """A button's argument if it answers the step the conversation waits at, else None."""
    step, _, value = argument.partition(":")
    if step != flow_step or turn.state.step != flow_step:
        return None
    return value
