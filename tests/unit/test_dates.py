"""parse_day and parse_slot read a bounded start of a message, in one pass each: a long
message (an email, a pasted text) costs no more than its first MAX_CHARS characters."""

from __future__ import annotations

import asyncio
from datetime import date

from dialog.dates import MAX_CHARS, parse_day, parse_slot

TODAY = date(2026, 11, 24)  # a Tuesday
SLOTS = ["09:00-12:00", "12:00-15:00", "15:00-18:00"]
HANG = 30.0  # seconds: only a hang fails (it took minutes for a megabyte before)


def test_a_day_early_in_a_long_message_is_found() -> None:
    filler = " lorem" * 200_000  # 1.2 MB of words that name no day
    assert parse_day("26 Nov please" + filler, TODAY) == date(2026, 11, 26)
    assert parse_day("on Friday" + filler, TODAY) == date(2026, 11, 27)
    assert parse_slot("in the morning" + filler, SLOTS) == "09:00-12:00"


def test_only_the_first_max_chars_are_read() -> None:
    """The bound itself: a day named past it is not seen (the work stops there)."""
    late = "x " * MAX_CHARS + "26 Nov"
    assert parse_day(late, TODAY) is None
    assert parse_day(late[-(MAX_CHARS - 1):], TODAY) == date(2026, 11, 26)


async def test_one_long_word_is_read_once_not_once_per_letter() -> None:
    """A month's name is looked for from the start of words only: a 4 kB word took half a
    second before (each letter began a new try that read to the word's end)."""
    for text in ("a" * 4096, "a" * MAX_CHARS + " 5", "ж" * 1_000_000):
        async with asyncio.timeout(HANG):
            assert await asyncio.to_thread(parse_day, text, TODAY) is None
    assert parse_day("listopada 5", TODAY) == date(2027, 11, 5)  # past this year: next
    assert parse_day("Nov 26", TODAY) == date(2026, 11, 26)
    assert parse_day("26 listopada", TODAY) == date(2026, 11, 26)
