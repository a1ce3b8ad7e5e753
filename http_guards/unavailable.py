"""A database that is down or locked is a clear 503, not a 500 with a stack trace.

The request's transaction was rolled back (or never began), so nothing of it was kept; the
client may send it again after Retry-After seconds.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "the database is unavailable; nothing was changed, try again later"


def database_unavailable(error: BaseException) -> bool:
    """Whether the error says the database cannot be reached or used now (not a bad query)."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True  # down, unusable, or every pooled connection busy past the pool timeout
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, ConnectionError)  # refused or reset before the driver wrapped it


async def _unavailable(_request: Request, error: Exception) -> JSONResponse:
    if not database_unavailable(error):
        raise error
    log.warning("database unavailable: %s", type(error).__name__)  # no SQL, no parameters
    return JSONResponse({"detail": UNAVAILABLE}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def add_unavailable_handler(app: FastAPI) -> None:
    for error in (DBAPIError, PoolTimeout, ConnectionError):
        app.add_exception_handler(error, _unavailable)
