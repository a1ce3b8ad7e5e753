"""The range, filters and periods (days or weeks) the figures are computed for.

Days are UTC days; a week starts on Monday. A range is whole days, both ends included:
[start 00:00 UTC, the day after end 00:00 UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, func

Group = Literal["day", "week"]
MAX_DAYS = 366


class BadRange(ValueError):
    """The range or a filter cannot be used; the text says why."""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # included
    channel: str | None = None
    language: str | None = None
    group: Group = "day"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise BadRange("end is before start")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise BadRange(f"a range is at most {MAX_DAYS} days")

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the range."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    def periods(self) -> list[str]:
        """The labels of every period in the range: its first day, "YYYY-MM-DD"."""
        first = period_start(self.start, self.group)
        step = timedelta(days=7 if self.group == "week" else 1)
        labels, day = [], first
        while day <= self.end:
            labels.append(day.isoformat())
            day += step
        return labels

    def previous(self) -> Filters:
        """The same filters over the range just before this one, as many days long."""
        days = timedelta(days=(self.end - self.start).days + 1)
        return replace(self, start=self.start - days, end=self.end - days)

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "channel": self.channel, "language": self.language, "group": self.group,
                "periods": self.periods()}


def period_start(day: date, group: Group) -> date:
    return day - timedelta(days=day.weekday()) if group == "week" else day


def default_range(today: date, days: int = 28) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today


def period_of(column: Any, dialect: str, group: Group) -> ColumnElement[str]:
    """SQL for the period label ("YYYY-MM-DD" of its first day) of a UTC timestamp column."""
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)
        return func.to_char(func.date_trunc(group, utc), "YYYY-MM-DD")
    if group == "week":  # SQLite: the Sunday on or after the day, then back to its Monday
        return func.date(column, "weekday 0", "-6 days")
    return func.date(column)
