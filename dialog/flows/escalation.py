"""Handing the conversation to a person: at the customer's request (the handoff flow) or
when a flow cannot go on (proofs failed, a refund refused, nothing in stock)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from dialog.flows.base import Turn
from storage.clock import utcnow

log = logging.getLogger(__name__)
# A conversation goes to the operators at most this often an hour: past it, a customer (or a
# script) asking again and again would fill the queue and the handoff records.
HANDOFFS_PER_HOUR = 3
WINDOW = timedelta(hours=1)
REFUSED = "escalation_limit"  # the reason counted in orderbot_refused_requests_total


def hand_over(turn: Turn, reason: str, key: str = "handoff") -> None:
    state = turn.state
    if state.status == "bot":
        now = utcnow()
        state.handoffs = [at for at in state.handoffs if _recent(at, now)]
        if len(state.handoffs) >= HANDOFFS_PER_HOUR:
            turn.finish()
            turn.refused.append(REFUSED)
            log.warning("handoff refused: conversation %s went to the operators %d times in "
                        "the last hour", state.id, len(state.handoffs))
            turn.say("handoff_limited")
            return
    if turn.escalate(reason):
        state.handoffs.append(utcnow().isoformat())
        turn.say(key)
    else:
        turn.say("handoff_already")


def _recent(at: str, now: datetime) -> bool:
    try:
        return now - datetime.fromisoformat(at) < WINDOW
    except (TypeError, ValueError):  # not a time this code wrote: forgotten
        return False
