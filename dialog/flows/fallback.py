"""What the bot says when it did not understand; the second miss in a row goes to a person."""

from __future__ import annotations

from dialog.flows.base import Turn, human_button, track_button
from dialog.flows.handoff import hand_over

MISSES_BEFORE_HANDOFF = 2


def not_understood(turn: Turn) -> None:
    turn.misunderstood = True
    turn.state.misunderstandings += 1
    if turn.state.misunderstandings >= MISSES_BEFORE_HANDOFF and turn.state.status == "bot":
        turn.state.misunderstandings = 0
        hand_over(turn, "not_understood", key="not_understood_handoff")
        return
    turn.say("not_understood", track_button(turn), human_button(turn))
