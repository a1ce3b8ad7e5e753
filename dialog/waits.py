"""How long a customer who asked for a person will wait, said honestly.

Within business hours: the customer's place in the queue times the measured handling time
(the mean of the last finished handoffs; the configured minutes until there are some), shared
among the operators at work (those who took or finished a conversation in the last hour).
Outside business hours: when the team is next at work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialog.hours import BusinessHours
from dialog.texts import Texts
from dialog.unit_of_work import Repositories

MEASURED_HANDOFFS = 20
ACTIVE_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class Wait:
    ahead: int  # customers escalated before this one, still waiting
    minutes: int  # the estimate within business hours
    opens_at: datetime | None  # when operators are back, if they are not at work now


class QueueWaits:
    def __init__(self, hours: BusinessHours, minutes_per_conversation: int, texts: Texts) -> None:
        self._hours = hours
        self._default_minutes = minutes_per_conversation
        self._texts = texts

    @property
    def hours(self) -> BusinessHours:
        return self._hours

    async def estimate(self, uow: Repositories, conversation_id: int, now: datetime) -> Wait:
        queue = uow.queue
        ahead = await queue.waiting_ahead(conversation_id, now)
        durations = await queue.recent_handling(MEASURED_HANDOFFS)
        if durations:
            handling = sum((end - start).total_seconds() for start, end in durations) / (
                60 * len(durations))
        else:
            handling = float(self._default_minutes)
        working = await queue.operators_at_work(now - ACTIVE_WITHIN)
        minutes = max(1, math.ceil((ahead + 1) * handling / max(working, 1)))
        opens_at = None if self._hours.is_open(now) else self._hours.next_opening(now)
        return Wait(ahead, minutes, opens_at)

    def text(self, language: str, wait: Wait) -> str:
        if wait.opens_at is not None:
            when = f"{self._texts.date(language, wait.opens_at)} {wait.opens_at:%H:%M}"
            return self._texts.get(language, "handoff_closed", when=when,
                                   zone=str(self._hours.zone))
        return self._texts.get(language, "handoff_wait", ahead=wait.ahead, minutes=wait.minutes)
