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


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_postgresql_shutting_down_starting_up_or_cutting_connections_is_unavailable() -> None:
    """asyncpg's errors reach SQLAlchemy as a plain DBAPIError: the SQLSTATE tells."""
    from sqlalchemy.exc import DBAPIError

    for state in ("57P01", "57P02", "57P03", "08006", "53300"):
        wrapped = DBAPIError("SELECT 1", {}, _DriverError("the database system is shutting "
                                                          "down", state))
        assert database_unavailable(wrapped), state
        assert database_unavailable(_DriverError("raw from connect", state)), state
    assert not database_unavailable(
        DBAPIError("SELECT 1", {}, _DriverError("division by zero", "22012")))
