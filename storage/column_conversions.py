"""Conversions of our own for the column types of a turn's statements (storage/prepared.py).

SQLAlchemy converts a UtcDateTime through two layers of generic processors (the decorator's,
then SQLite's DATETIME, which formats through a dict and `%`), and a JSON value through
`json.dumps`, which builds a new C encoder on every call. These give the same text and values
byte for byte, in one call each: a row written by either path reads the same by the other
(tests/integration/test_column_conversions.py). Any type or value they do not know is left to
SQLAlchemy's own processors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from storage.base import UtcDateTime

Convert = Callable[[Any], Any] | None

_from_iso = datetime.fromisoformat


def bind_conversion(type_: TypeEngine[Any], dialect: Dialect) -> Convert:
    """How a value bound to a column of this type goes to the driver."""
    if isinstance(type_, UtcDateTime):
        return _utc_text if dialect.name == "sqlite" else _utc
    if isinstance(type_, JSON) and _plain_json(type_, dialect):
        return _json_text_or(type_.dialect_impl(dialect).bind_processor(dialect))
    return type_.dialect_impl(dialect).bind_processor(dialect)


def result_conversion(type_: TypeEngine[Any], dialect: Dialect) -> Convert:
    """How a value of a column of this type comes back from the driver."""
    if isinstance(type_, UtcDateTime):
        return _utc_from_text if dialect.name == "sqlite" else _aware
    return type_.dialect_impl(dialect).result_processor(dialect, None)


def _utc(value: datetime | None) -> datetime | None:
    # UtcDateTime.process_bind_param's rule and error, kept in step with it.
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return value.astimezone(UTC)


# The last instant formatted and its text: a turn stamps one `now` on each of its rows, so
# most instants are formatted once (a datetime is immutable; one tuple, replaced whole, so a
# reader on another thread sees a matching pair).
_last_text: tuple[datetime | None, str | None] = (None, None)


def _utc_text(value: datetime | None) -> str | None:
    # SQLite's DATETIME storage format: "YYYY-MM-DD HH:MM:SS.ffffff", the microseconds always
    # written, the zone (always UTC here) left off.
    global _last_text
    last = _last_text
    if value is last[0]:
        return last[1]
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    utc = value.astimezone(UTC)
    text = (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}")
    _last_text = (value, text)
    return text


def _utc_from_text(value: str | None) -> datetime | None:
    return None if value is None else _from_iso(value).replace(tzinfo=UTC)


def utc_from_json(value: str) -> datetime:
    """A UtcDateTime as a JSON aggregate renders it: SQLite's stored text (no zone), or
    PostgreSQL's ISO 8601 in the session's zone."""
    at = _from_iso(value)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _plain_json(type_: JSON, dialect: Dialect) -> bool:
    """True where SQLAlchemy would store `json.dumps(value)` as it is (no serializer of the
    engine's own, no string conversion, None stored as the JSON text null)."""
    impl = type_.dialect_impl(dialect)
    return (
        c_make_encoder is not None
        and getattr(dialect, "_json_serializer", None) is None
        and not type_.none_as_null
        and isinstance(impl, JSON)
        and impl._str_impl.bind_processor(dialect) is None
    )


# json.dumps' own C encoder with json.dumps' defaults, built once: no check for circular
# values (none of ours can be), which changes nothing in the text written.
_encode = c_make_encoder(
    None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ",
    False, False, True,
) if c_make_encoder is not None else None


def _json_text_or(fallback: Convert) -> Convert:
    assert fallback is not None and _encode is not None
    encode = _encode
    null_symbol = JSON.NULL

    def json_text(value: Any) -> Any:
        if value is None or value is null_symbol:  # JSON.NULL is an int to the encoder
            return "null"
        try:
            return "".join(encode(value, 0))
        except TypeError:  # null() or a value json.dumps refuses: SQLAlchemy's way
            return fallback(value)

    return json_text
