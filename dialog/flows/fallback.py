"""What the bot says when it did not understand; the second miss in a row goes to a person.

A clarifying question ("Do you want to track an order or return it?", dialog/flows/clarify.py)
counts as a miss too: a customer asked once and still not understood the next time reaches a
person, and one who picks an offered button is understood (the count starts again).
"""

from __future__ import annotations

from dialog.flows.base import Turn, human_button, track_button
from dialog.flows.escalation import hand_over

MISSES_BEFORE_HANDOFF = 2


def not_understood(turn: Turn) -> None:
    turn.misunderstood = True
    if not handed_over_after_miss(turn):
        turn.say("not_understood", track_button(turn), human_button(turn))


def handed_over_after_miss(turn: Turn) -> bool:
    """Count one more message in a row the bot could not act on; True if it went to a person
    (the turn then counts as not understood)."""
    turn.state.misunderstandings += 1
    if turn.state.misunderstandings >= MISSES_BEFORE_HANDOFF and turn.state.status == "bot":
        turn.misunderstood = True
        turn.state.misunderstandings = 0
        hand_over(turn, "not_understood", key="not_understood_handoff")
        return True
    return False
