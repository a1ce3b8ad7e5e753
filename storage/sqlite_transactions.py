"""SQLite's transactions on one long-lived session, committed in groups.

SQLite has one writer at a time, so the bot's transactions take turns on one connection
anyway (storage/database.py). A SQLAlchemy session per transaction cost a turn ~150–270 µs of
bookkeeping (the session, its transaction's state machine, the pool's checkout and return)
around a COMMIT that SQLite does in ~40 µs. Here one session stays open on the connection for
the life of the Database, and the transactions take turns under an asyncio lock (first come,
first served, as the pool's queue was).

**Group commit.** A transaction does not commit when it ends: it releases its own
savepoint, and the COMMIT comes once the event loop has run what was ready to run (a
callback queued behind it), or at GROUP_LIMIT transactions. The transactions of the
conversations whose turns ran in the meantime are in the same SQLite transaction, each under
its own savepoint, and share that COMMIT. Each `transaction()` returns only after the COMMIT,
so nothing a turn wrote is acknowledged, and no reply leaves, before it is durable. A
transaction that fails is undone alone (ROLLBACK TO its savepoint); one that leaves the
connection in doubt loses the group: every transaction of it fails, none is committed. Under
load one COMMIT (and, with synchronous=FULL, its fsync) serves many conversations.

SQLAlchemy sees one transaction that never ends: it neither begins nor commits anything
itself. Between two transactions the session forgets every ORM object (nothing loaded in one
transaction is trusted in the next, as with a new session) and its info (the after-commit
callbacks are per transaction).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from storage.drivers import begin_with_driver, forget
from storage.sqlite import InlineConnection

GROUP_LIMIT = 64  # transactions sharing one COMMIT at most: the wait of the group's first


class GroupLost(Exception):
    """Another transaction of the same group left the connection in doubt: this one was
    rolled back with it."""


class NestedTransaction(RuntimeError):
    """A task opened a transaction while its own was open: on one connection, a deadlock."""


class _Group:
    __slots__ = ("committed", "size", "scheduled", "due")

    def __init__(self) -> None:
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.size = 0  # transactions kept in it, waiting for its COMMIT
        self.scheduled = False  # its COMMIT is queued on the event loop
        self.due = False  # ...and came while a transaction ran: that one commits at its end


class SqliteTransactions:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._connection: InlineConnection | None = None
        self._turn = asyncio.Lock()
        self._group: _Group | None = None  # begun, not committed yet
        self._dialect: Dialect | None = None
        self._holder: asyncio.Task[Any] | None = None  # the task in a transaction

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[AsyncSession, dict[Any, Any]]]:
        """The session inside a new transaction; once committed, what the transaction put
        in the session's info (its after-commit callbacks, for the caller to run)."""
        info: dict[Any, Any] = {}
        task = asyncio.current_task()
        if self._turn.locked() and self._holder is task:
            # It would wait for itself. (A pool of one connection used to let it pass when
            # the outer transaction had not run a statement yet; a transaction here holds
            # the connection from its start.)
            raise NestedTransaction("a transaction opened inside another of the same task")
        await self._turn.acquire()
        self._holder = task
        try:
            session, connection = await self._open()
            group = self._group
            if group is None:
                try:
                    await connection.begin_immediate()
                except sqlite3.Error as error:  # another program holds the lock too long
                    raise self._translated(error, "BEGIN IMMEDIATE") from error
                group = self._group = _Group()
            raw = connection.sqlite
            kept = False
            try:
                self._execute(raw, "SAVEPOINT turn")
                yield session, info
                sync = session.sync_session
                if not sync._is_clean():
                    await session.flush()
                if sync.get_nested_transaction() is not None:
                    raise RuntimeError("a transaction left a savepoint of its own open")
                self._execute(raw, "RELEASE turn")
                kept = True
            finally:
                sync = session.sync_session
                if kept:
                    info.update(forget(sync))
                    group.size += 1
                elif (sync.is_active and sync.get_nested_transaction() is None
                      and _undone(raw)):
                    forget(sync)  # the usual rollback: a duplicate, a read, a refused turn
                else:
                    await asyncio.shield(self._lose(connection, group))
                if self._group is group:
                    if group.due or group.size >= GROUP_LIMIT:
                        self._commit(connection, group)
                    elif not group.scheduled:
                        group.scheduled = True
                        asyncio.get_running_loop().call_soon(self._when_due, group)
        finally:
            self._holder = None
            self._turn.release()
        await asyncio.shield(group.committed)  # kept: durable before the caller goes on

    async def close(self) -> None:
        async with self._turn:
            if self._group is not None and self._connection is not None:
                self._commit(self._connection, self._group)
            if self._session is not None and self._connection is not None:
                await self._discard(self._connection)

    async def _open(self) -> tuple[AsyncSession, InlineConnection]:
        if self._session is not None and self._connection is not None:
            return self._session, self._connection
        session = self._sessions()
        sync = session.sync_session
        await greenlet_spawn(begin_with_driver, sync)  # SQLAlchemy's BEGIN IMMEDIATE...
        connection = sync.connection().connection.driver_connection
        assert isinstance(connection, InlineConnection)
        connection.sqlite.commit()  # ...ended at once: each group begins its own
        self._session, self._connection = session, connection
        self._dialect = sync.get_bind().dialect
        return session, connection

    def _commit(self, connection: InlineConnection, group: _Group) -> None:
        self._group = None
        try:
            connection.sqlite.commit()
        except sqlite3.Error as error:
            _undone_all(connection)
            if group.size:
                group.committed.set_exception(self._translated(error, "COMMIT"))
            return
        group.committed.set_result(None)

    def _execute(self, raw: sqlite3.Connection, sql: str) -> None:
        try:
            raw.execute(sql)
        except sqlite3.Error as error:
            raise self._translated(error, sql) from error

    def _translated(self, error: sqlite3.Error, sql: str) -> exc.StatementError:
        """The driver's error as SQLAlchemy raises it (what callers and the 503 handler
        know)."""
        return exc.DBAPIError.instance(sql, (), error, sqlite3.Error, hide_parameters=True,
                                       dialect=self._dialect)

    def _when_due(self, group: _Group) -> None:
        if self._group is not group or self._connection is None:
            return  # committed (full), or lost
        if self._turn.locked():
            group.due = True  # a transaction of the group runs: it commits as it ends
        else:
            self._commit(self._connection, group)

    async def _lose(self, connection: InlineConnection, group: _Group) -> None:
        self._group = None
        if group.size:
            group.committed.set_exception(GroupLost(f"{group.size} transactions rolled back"))
        await self._discard(connection)

    async def _discard(self, connection: InlineConnection) -> None:
        session, self._session, self._connection = self._session, None, None
        _undone_all(connection)  # or not: the session's close gives the connection back
        if session is not None:
            await session.close()


def _undone(raw: sqlite3.Connection) -> bool:
    """This transaction's own writes undone, the group's kept."""
    try:
        raw.execute("ROLLBACK TO turn")
        raw.execute("RELEASE turn")
    except sqlite3.Error:
        return False
    return True


def _undone_all(connection: InlineConnection) -> None:
    try:
        if connection.sqlite.in_transaction:
            connection.sqlite.rollback()
    except (sqlite3.Error, ValueError):
        pass
