"""A transaction's own driver connection, for statements SQLAlchemy need not build or wrap
(storage/prepared.py).

`driver_of(session)` finds the driver connection under the session's current transaction
once per transaction (one greenlet hop); each statement after that is one call into the
driver: sqlite3 inline on the event loop (storage/sqlite.py), or asyncpg through the same
prepared-statement cache and transaction SQLAlchemy's asyncpg adapter keeps for the
connection, so both paths see one transaction. A driver's error is raised as SQLAlchemy
raises it (sqlalchemy.exc.IntegrityError, OperationalError, ...), with parameters hidden.
"""

from __future__ import annotations

import re
import sqlite3
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import greenlet_spawn

from storage.sqlite import InlineConnection

DRIVER_KEY = "storage.drivers"  # the session.info entry: (transaction, driver)
_STATUS_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


class Rows:
    """What a statement returned: its rows (as the driver gives them) and the count of rows
    it changed."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class Driver(Protocol):
    key: str  # names the SQL dialect and parameter style the driver takes
    dialect: Dialect

    async def run(self, sql: str, arguments: tuple[Any, ...]) -> Rows: ...


def hide_detail(error: BaseException | None) -> None:
    """PostgreSQL's DETAIL quotes the refused row's values ("Key (email)=(...) already
    exists"), and a logged traceback shows the driver's exception with it: drop it, as
    hide_parameters drops the statement's parameters."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "detail", None):
            error.detail = None  # type: ignore[attr-defined]
        error = error.__cause__ or error.__context__


_POSTGRESQL: weakref.WeakKeyDictionary[AsyncSession, bool] = weakref.WeakKeyDictionary()


def on_postgresql(session: AsyncSession) -> bool:
    """Whether the session's database is PostgreSQL, found once per session (AsyncSession's
    bind goes through three proxies each time, and the long-lived sessions serve every turn)."""
    found = _POSTGRESQL.get(session)
    if found is None:
        bind = session.bind
        found = _POSTGRESQL[session] = bind is not None and bind.dialect.name == "postgresql"
    return found


def begin_with_driver(sync: Session) -> None:
    """Begin the session's transaction with its connection, and note its driver: called in
    SQLAlchemy's greenlet (storage/database.py), so that the transaction's first statement
    need not enter it again."""
    sync.begin()
    _remember(sync, sync.connection().connection)


def known_driver(session: AsyncSession) -> Driver | None:
    """The driver connection of the session's transaction when nothing is left to do before
    a statement (no ORM change to flush, the driver already found): without a coroutine, as
    for most of a turn's statements; None, and driver_of does the rest."""
    sync = session.sync_session
    if not sync._is_clean():  # SQLAlchemy's own test before a flush (pinned version)
        return None
    cached: tuple[weakref.ref[SessionTransaction], Driver] | None = sync.info.get(DRIVER_KEY)
    if cached is None:
        return None
    # The innermost transaction: SQLAlchemy emits a savepoint when a nested transaction
    # first asks for the connection, so each new one must ask.
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    return cached[1] if transaction is not None and cached[0]() is transaction else None


async def driver_of(session: AsyncSession) -> Driver:
    """The driver connection of the session's transaction (begun if it was not), after the
    session's pending ORM changes are flushed, as any query of the session would."""
    sync = session.sync_session
    if not sync._is_clean():
        await session.flush()
    driver = known_driver(session)
    if driver is not None:
        return driver
    fairy = await greenlet_spawn(lambda: sync.connection().connection)
    return _remember(sync, fairy)


def _remember(sync: Session, fairy: Any) -> Driver:
    dialect = sync.get_bind().dialect
    driver: Driver
    if isinstance(fairy.driver_connection, InlineConnection):
        driver = _Sqlite(fairy.driver_connection, dialect)
    elif dialect.driver == "asyncpg":
        driver = _Asyncpg(fairy.dbapi_connection, dialect)
    else:
        raise TypeError(f"no driver path for {dialect.name}+{dialect.driver}")
    current = sync.get_nested_transaction() or sync.get_transaction()
    if current is not None:  # weakly: the transaction holds the session, whose info this is
        sync.info[DRIVER_KEY] = (weakref.ref(current), driver)
    return driver


class _Sqlite:
    """sqlite3 under the inline connection: the transaction is SQLite's own (BEGIN
    IMMEDIATE at the session's begin, storage/database.py), so no statement waits for a lock."""

    def __init__(self, connection: InlineConnection, dialect: Dialect) -> None:
        self.key = f"{dialect.name}+{dialect.driver}"
        self.dialect = dialect
        self._connection = connection.sqlite

    async def run(self, sql: str, arguments: tuple[Any, ...]) -> Rows:
        try:
            cursor = self._connection.execute(sql, arguments)
            rows = cursor.fetchall()
            return Rows(rows, cursor.rowcount)
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(sql, arguments, error, sqlite3.Error,
                                          hide_parameters=True, dialect=self.dialect) from error


class _Asyncpg:
    """asyncpg through SQLAlchemy's adapted connection: its transaction (started here if no
    statement has started it yet), its statement cache, its error translation."""

    def __init__(self, adapted: Any, dialect: Dialect) -> None:
        self.key = f"{dialect.name}+{dialect.driver}"
        self.dialect = dialect
        self._adapted = adapted

    async def run(self, sql: str, arguments: tuple[Any, ...]) -> Rows:
        adapted = self._adapted
        async with adapted._execute_mutex:
            try:
                if adapted._transaction is None:
                    await adapted._start_transaction()
                prepared, _ = await adapted._prepare(sql, adapted._invalidate_schema_cache_asof)
                rows = await prepared.fetch(*arguments)
                counted = _STATUS_COUNT.match(prepared.get_statusmsg() or "")
            except Exception as error:  # noqa: BLE001 (translated as SQLAlchemy would)
                raise _translated(adapted, self.dialect, sql, arguments, error) from error
        return Rows(rows, int(counted.group(1)) if counted else -1)


async def run_on_asyncpg(adapted: Any, dialect: Dialect, sql: str,
                         call: Callable[[Any], Awaitable[None]]) -> None:
    """call(adapted) (a COMMIT, a ROLLBACK of asyncpg's transaction), its error raised as
    SQLAlchemy raises a statement's (named sql)."""
    try:
        await call(adapted)
    except Exception as error:  # noqa: BLE001 (translated as SQLAlchemy would)
        raise _translated(adapted, dialect, sql, (), error) from error


def _translated(adapted: Any, dialect: Dialect, sql: str, arguments: tuple[Any, ...],
                error: Exception) -> Exception:
    hide_detail(error)
    try:
        adapted._handle_exception(error)
    except Exception as translated:  # noqa: BLE001
        # Our statements on a connection take turns (its mutex), so asyncpg's "another
        # operation is in progress" (InternalClientError) means the server cut it mid-message
        # (pg_terminate_backend: its FATAL read, its end not yet): closed here, so that the
        # session is let go, and raised as a lost connection (a 503 to the client), not a bug.
        out_of_step = isinstance(translated, adapted.dbapi.InternalClientError)
        if out_of_step:
            adapted._connection.terminate()
        return exc.DBAPIError.instance(sql, arguments, translated, adapted.dbapi.Error,
                                       hide_parameters=True, dialect=dialect,
                                       connection_invalidated=out_of_step)
    return error  # pragma: no cover (_handle_exception always raises)


def forget(sync: Session) -> dict[Any, Any]:
    """The transaction's info, taken out of a long-lived session; its ORM objects let go (a
    new transaction trusts nothing loaded in an earlier one, as with a new session)."""
    if len(sync.identity_map) or sync._new or sync._deleted:  # a turn loads no ORM object
        sync.expunge_all()
    info = sync.info
    if len(info) == 1 and DRIVER_KEY in info:
        return {}
    taken = {key: value for key, value in info.items() if key != DRIVER_KEY}
    for key in taken:
        del info[key]
    return taken
