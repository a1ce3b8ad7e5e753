"""Which database errors are "unavailable" (503, try again) rather than a bug (500)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from http_guards.unavailable import database_unavailable


def test_down_locked_refused_or_pool_exhausted_is_unavailable() -> None:
    assert database_unavailable(OperationalError("SELECT 1", {}, Exception("database is locked")))
    assert database_unavailable(ConnectionRefusedError())
    assert database_unavailable(PoolTimeout("QueuePool limit of size 10 overflow 20 reached"))


def test_a_refused_row_is_not_unavailable() -> None:
    assert not database_unavailable(IntegrityError("INSERT", {}, Exception("UNIQUE")))
