"""A database that is down or locked is a clear 503, not a 500 with a stack trace.

The request's transaction was rolled back (or never began), so nothing of it was kept; the
client may send it again after Retry-After seconds.
"""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "the database is unavailable; nothing was changed, try again later"
# PostgreSQL's SQLSTATEs of a server that cannot serve now, whatever the query: class 08
# (connection exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 "the database
# system is shutting down / starting up / in recovery mode", 57P04 database dropped, 53300
# too many connections. asyncpg's errors other than these reach SQLAlchemy as a plain
# DBAPIError (not an OperationalError), so the code is what tells them apart.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P04", "53300"})


def database_unavailable(error: BaseException) -> bool:
    """Whether the error says the database cannot be reached or used now (not a bad query)."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True  # down, unusable, or every pooled connection busy past the pool timeout
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, ConnectionError):
        return True  # refused or reset before the driver wrapped it
    return any(_unavailable_state(cause) for cause in _causes(error))


def _causes(error: BaseException) -> list[BaseException]:
    """The error, the driver's error SQLAlchemy wraps, and what they were raised from."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending and len(seen) < 8:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None,
                    current.__cause__, current.__context__]
    return seen


def _unavailable_state(error: BaseException) -> bool:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(state, str) and (state in UNAVAILABLE_SQLSTATES or state.startswith("08"))


async def _unavailable(_request: Request, error: Exception) -> JSONResponse:
    if not database_unavailable(error):
        raise error
    log.warning("database unavailable: %s", type(error).__name__)  # no SQL, no parameters
    return JSONResponse({"detail": UNAVAILABLE}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def add_unavailable_handler(app: FastAPI) -> None:
    # The driver's own errors too: asyncpg raises "the database system is starting up"
    # (57P03) from a new connection unwrapped by SQLAlchemy.
    for error in (DBAPIError, PoolTimeout, ConnectionError, *_driver_errors()):
        app.add_exception_handler(error, _unavailable)


def _driver_errors() -> tuple[type[Exception], ...]:
    try:
        asyncpg = importlib.import_module("asyncpg")  # ships no types
    except ImportError:  # SQLite only
        return ()
    return (asyncpg.PostgresError, asyncpg.InterfaceError)
