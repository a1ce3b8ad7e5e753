"""When operators answer: business hours like "mon-fri 09:00-18:00" in the shop's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<opens>\d{2}:\d{2})-(?P<closes>\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class Period:
    weekday: int  # Monday = 0
    opens: time
    closes: time


@dataclass(frozen=True)
class BusinessHours:
    periods: tuple[Period, ...]  # empty: always open
    zone: ZoneInfo

    @classmethod
    def parse(cls, specs: list[str], timezone: str) -> BusinessHours:
        """Raises ValueError naming what is wrong."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        periods: list[Period] = []
        for spec in specs:
            match = _SPEC.match(spec.strip().lower())
            if match is None:
                raise ValueError(f"expected e.g. \"mon-fri 09:00-18:00\", got {spec!r}")
            first, last = match["first"], match["last"] or match["first"]
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"days are {', '.join(DAYS)}; got {spec!r}")
            try:
                opens = time.fromisoformat(match["opens"])
                closes = time.fromisoformat(match["closes"])
            except ValueError:
                raise ValueError(f"not a time of day in {spec!r}") from None
            if closes <= opens:
                raise ValueError(f"closes before it opens in {spec!r}")
            start, end = DAYS.index(first), DAYS.index(last)
            days = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
            periods.extend(Period(day, opens, closes) for day in days)
        return cls(tuple(periods), zone)

    def is_open(self, now: datetime) -> bool:
        if not self.periods:
            return True
        local = now.astimezone(self.zone)
        return any(
            p.weekday == local.weekday() and p.opens <= local.time() < p.closes
            for p in self.periods
        )

    def next_opening(self, now: datetime) -> datetime:
        """When operators are next at work (local time of the shop); `now` if they are."""
        if self.is_open(now):
            return now.astimezone(self.zone)
        local = now.astimezone(self.zone)
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            openings = sorted(
                datetime.combine(day, p.opens, self.zone)
                for p in self.periods if p.weekday == day.weekday()
            )
            for opening in openings:
                if opening > local:
                    return opening
        raise AssertionError("a week always has an opening when periods exist")
