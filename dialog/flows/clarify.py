"""Below the confidence threshold: ask instead of guessing.

When the two likeliest intents are both things the bot can do, the customer gets them as
buttons ("Do you want to track an order or return it?"); when only one is plausible, "Do you
want to ...?" with that one; both with the way to a person. Small talk and yes/no are never
offered (a button "Say hello" makes no sense), and out_of_scope is not a thing to do. When the
two likeliest are both courtesies (hello, thanks, goodbye), the likelier is answered: a
courtesy commits to nothing. A message with no plausible meaning keeps "Sorry, I didn't
understand" (dialog/flows/fallback.py), and a clarifying question counts toward the two misses
in a row that hand the conversation to a person.

A message with an order number whose likeliest plausible meaning is the order's status (or
that has none) gets the status as before (dialog/manager.py): telling a status after the proof
changes nothing, so it is no risky guess; "cancel or return A-1001?" is asked.

The rules read only the ranking and the model's threshold, not fixed probabilities: a pair is
offered when each has a quarter of the threshold and together they reach it; a single meaning
needs half of it.
"""

from __future__ import annotations

from dialog.flows.base import Turn, human_button
from dialog.flows.fallback import handed_over_after_miss
from dialog.nlu import Understanding
from dialog.nlu.requests import ACTIONABLE
from dialog.proposals import proposal_button, propose

COURTESIES = frozenset({"greet", "thanks", "goodbye"})


def plausible(understanding: Understanding, threshold: float) -> list[str]:
    """The one or two intents worth offering, likeliest first; [] for none."""
    top = understanding.ranked[:2]
    offerable = [(intent, p) for intent, p in top if intent in ACTIONABLE and p >= threshold / 4]
    if len(offerable) == 2 and offerable[0][1] + offerable[1][1] >= threshold:
        return [intent for intent, _ in offerable]
    if offerable and offerable[0][1] >= threshold / 2:
        return [offerable[0][0]]
    return []


def courtesy(understanding: Understanding, threshold: float) -> str | None:
    """The likelier courtesy when the two likeliest intents are both courtesies."""
    top = understanding.ranked[:2]
    if len(top) == 2 and all(intent in COURTESIES for intent, _ in top):
        if top[0][1] + top[1][1] >= threshold:
            return top[0][0]
    return None


def ask_which(turn: Turn, intents: list[str]) -> None:
    """Offer the intents as buttons (or hand over on the second miss in a row)."""
    if handed_over_after_miss(turn):
        return
    assert turn.understanding is not None  # a clarification answers a message with words
    propose(turn, intents, turn.understanding.entities)
    buttons = [proposal_button(turn, f"clarify_button_{intent}", intent)
               for intent in intents if intent != "human"]
    buttons.append(human_button(turn))
    whats = {f"option_{n}": turn.text(f"clarify_what_{intent}")
             for n, intent in enumerate(intents, 1)}
    turn.say("clarify_two" if len(intents) == 2 else "clarify_one", *buttons, **whats)
