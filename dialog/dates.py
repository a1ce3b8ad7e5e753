"""Delivery days and slots written as free text, in English, Polish and Russian.

"tomorrow", "jutro", "завтра", "pojutrze", weekday names in any of their cases ("w środę",
"в пятницу"), "26.11", "26/11/2026", "2026-11-26", "26 Nov", "26 listopada", "26 ноября";
slots as "9-12", "09:00-12:00", "12 do 15", or "morning" / "rano" / "утром".

A small hand-written parser rather than dateparser: it knows only what a delivery question
needs, answers in microseconds, and never reads "2" (an option number) as a date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

_RELATIVE = (  # longest first: "послезавтра" contains "завтра"
    (("day after tomorrow", "pojutrze", "послезавтра"), 2),
    (("tomorrow", "jutro", "jutra", "завтра"), 1),
    (("today", "dzisiaj", "dziś", "dzis", "сегодня"), 0),
)
# Stems that begin each weekday's name in every case (Monday = 0).
_WEEKDAYS = (
    ("mon", "pon", "понед", "пн"),
    ("tue", "wto", "wt", "вторн", "вт"),
    ("wed", "śro", "sro", "śr", "сред", "ср"),
    ("thu", "czw", "четв", "чт"),
    ("fri", "pią", "pia", "пятн", "пт"),
    ("sat", "sob", "субб", "сб"),
    ("sun", "niedz", "воскр", "вс"),
)
_MONTHS = (
    ("jan", "sty", "янв"), ("feb", "lut", "фев"), ("mar", "mar", "мар"),
    ("apr", "kwi", "апр"), ("may", "maj", "мая", "май"), ("jun", "cze", "июн"),
    ("jul", "lip", "июл"), ("aug", "sie", "авг"), ("sep", "wrz", "сен"),
    ("oct", "paź", "paz", "окт"), ("nov", "lis", "ноя"), ("dec", "gru", "дек"),
)
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
# A month's name starts a word (the look-behind): without it, a long run of letters was tried
# from each of its letters, each try reading to its end (quadratic: 4 kB took half a second).
_DAY_MONTH = re.compile(r"(?<!\d)(\d{1,2})\s+([^\W\d_]{3,})", re.UNICODE)
_MONTH_DAY = re.compile(r"(?<![^\W\d_])([^\W\d_]{3,})\s+(\d{1,2})(?!\d)", re.UNICODE)
# Only the start of a message is read for a day or a slot: an answer to "which day?" says it
# early, and a bound keeps the work per message small whatever the message's length.
MAX_CHARS = 500
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_HOURS = re.compile(
    r"(?<![\d.:/])(\d{1,2})(?::(\d{2}))?\s*(?:-|–|to|do|до)\s*(\d{1,2})(?::\d{2})?(?![\d./])"
)
_PARTS_OF_DAY = (
    (("morning", "rano", "rana", "przedpołudni", "утр"), (0, 12)),
    (("afternoon", "midday", "noon", "południ", "днём", "днем", "обед"), (12, 15)),
    (("evening", "wiecz", "вечер"), (15, 24)),
)


def parse_day(text: str, today: date) -> date | None:
    """The day the text names (in its first MAX_CHARS characters), on or after today; None
    if it names none."""
    lowered = text[:MAX_CHARS].lower()
    for words, days in _RELATIVE:
        if any(word in lowered for word in words):
            return today + timedelta(days=days)
    if match := _ISO.search(lowered):
        return _date(int(match[1]), int(match[2]), int(match[3]))
    if match := _NUMERIC.search(lowered):
        year = int(match[3]) if match[3] else None
        if year is not None and year < 100:
            year += 2000
        return _next(today, int(match[1]), int(match[2]), year)
    for pattern, day_first in ((_DAY_MONTH, True), (_MONTH_DAY, False)):
        for match in pattern.finditer(lowered):
            day, word = (match[1], match[2]) if day_first else (match[2], match[1])
            month = _month(word)
            if month is not None:
                return _next(today, int(day), month, None)
    for word in _WORD.findall(lowered):
        for weekday, stems in enumerate(_WEEKDAYS):
            if any(word.startswith(stem) for stem in stems if len(stem) > 2 or word == stem):
                ahead = (weekday - today.weekday()) % 7 or 7
                return today + timedelta(days=ahead)
    return None


def parse_slot(text: str, slots: Sequence[str]) -> str | None:
    """The shop's slot ("09:00-12:00") that the text names (in its first MAX_CHARS
    characters), or None."""
    lowered = text[:MAX_CHARS].lower()
    bounds = [_bounds(slot) for slot in slots]
    if match := _HOURS.search(lowered):
        start, end = int(match[1]), int(match[3])
        for slot, (first, last) in zip(slots, bounds, strict=True):
            if first == start and last == end:
                return slot
        for slot, (first, _last) in zip(slots, bounds, strict=True):
            if first == start:
                return slot
        return None
    for words, (low, high) in _PARTS_OF_DAY:
        if any(word in lowered for word in words):
            for slot, (first, _last) in zip(slots, bounds, strict=True):
                if low <= first < high:
                    return slot
    return None


def _bounds(slot: str) -> tuple[int, int]:
    start, _, end = slot.partition("-")
    return int(start.split(":")[0]), int(end.split(":")[0])


def _month(word: str) -> int | None:
    for number, stems in enumerate(_MONTHS, start=1):
        if any(word.startswith(stem) for stem in stems):
            return number
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next(today: date, day: int, month: int, year: int | None) -> date | None:
    """day.month of the given year, or the next one that is not in the past."""
    if year is not None:
        return _date(year, month, day)
    found = _date(today.year, month, day)
    if found is not None and found < today:
        found = _date(today.year + 1, month, day)
    return found
