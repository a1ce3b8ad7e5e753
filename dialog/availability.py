"""Whether the team answers now, as the web chat's welcome screen says it: "we usually reply
in a few minutes" within business hours, else when the team is back (dialog/hours.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dialog.hours import BusinessHours
from dialog.texts import Texts
from storage.clock import utcnow


@dataclass(frozen=True, slots=True)
class Availability:
    available: bool
    back_at: datetime | None  # when the team is next at work (the shop's zone), if away
    text: str  # the sentence to show, in the customer's language


class TeamAvailability:
    def __init__(
        self, hours: BusinessHours, texts: Texts, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._hours, self._texts, self._clock = hours, texts, clock

    def now(self, language: str) -> Availability:
        now = self._clock()
        if self._hours.is_open(now):
            return Availability(True, None, self._texts.get(language, "team_available"))
        back = self._hours.next_opening(now)
        when = f"{self._texts.date(language, back)} {back:%H:%M} ({self._hours.zone})"
        return Availability(False, back, self._texts.get(language, "team_away", when=when))
