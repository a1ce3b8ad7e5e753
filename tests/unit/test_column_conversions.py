"""Our conversions of the turn's column types give SQLAlchemy's values exactly, whatever was
converted before (the last instant's text is remembered)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON
from sqlalchemy.dialects import postgresql, sqlite

from storage.base import UtcDateTime
from storage.column_conversions import bind_conversion, result_conversion

SQLITE = sqlite.dialect()


def _instants() -> list[datetime]:
    chance = random.Random(21)
    zones = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
    found = []
    for _ in range(500):
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=chance.uniform(-1e9, 1e9))
        at = at.replace(microsecond=chance.choice([0, 7, 500000, at.microsecond]))
        found.append(at.astimezone(chance.choice(zones)))
    return found


def test_an_instant_is_written_and_read_as_sqlalchemy_does_on_sqlite() -> None:
    ours, theirs = bind_conversion(UtcDateTime(), SQLITE), \
        UtcDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    read_ours = result_conversion(UtcDateTime(), SQLITE)
    read_theirs = UtcDateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)
    assert ours is not None and theirs is not None and read_ours and read_theirs
    instants = _instants()
    for at in instants + instants[::-1] + [instants[0], instants[0], None]:  # repeats too
        text = ours(at)
        assert text == theirs(at)
        assert read_ours(text) == read_theirs(text) == at
        assert text is None or read_ours(text).tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 1, 1))


POSTGRESQL = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_a_json_value_is_the_same_text_as_sqlalchemy_s(dialect: object) -> None:
    ours = bind_conversion(JSON(), dialect)  # type: ignore[arg-type]
    theirs = JSON().dialect_impl(dialect).bind_processor(dialect)  # type: ignore[arg-type]
    assert ours is not None and theirs is not None
    values: list[Any] = [None, [], {}, "żółw", 1.5, {"a": [1, None, True, {"b": "\u2713"}]},
                         JSON.NULL, float("nan")]
    for value in values:
        assert ours(value) == theirs(value)
