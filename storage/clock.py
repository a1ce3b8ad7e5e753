"""The one clock of stored times: aware UTC, so that every database keeps the same instant."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
