"""SQLite's transactions on one long-lived session: BEGIN IMMEDIATE and COMMIT on the driver.

SQLite has one writer at a time, so the bot's transactions take turns on one connection
anyway (storage/database.py). A SQLAlchemy session per transaction cost a turn ~150–270 µs of
bookkeeping (the session, its transaction's state machine, the pool's checkout and return)
around a COMMIT that SQLite does in ~40 µs. Here one session stays open on the connection for
the life of the Database; each transaction is the driver's BEGIN IMMEDIATE (waiting for
another process's write lock as storage/sqlite.py waits) and COMMIT or ROLLBACK, taken in
turn under an asyncio lock (first come, first served, as the pool's queue was).

SQLAlchemy sees one transaction that never ends: it neither begins nor commits anything
itself. Between two transactions the session forgets every ORM object (nothing loaded in one
transaction is trusted in the next, as with a new session) and its info (the after-commit
callbacks are per transaction). A transaction that fails, or leaves the session in a state
this cannot vouch for, ends the session: rolled back and closed, a new one opened next time.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from storage.drivers import DRIVER_KEY, begin_with_driver
from storage.sqlite import InlineConnection


class SqliteTransactions:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._connection: InlineConnection | None = None
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[AsyncSession, dict[Any, Any]]]:
        """The session inside a new transaction; after it committed, what the transaction
        put in the session's info (its after-commit callbacks, for the caller to run once the
        next transaction may start)."""
        info: dict[Any, Any] = {}
        async with self._turn:
            session, connection = await self._open()
            await connection.begin_immediate()
            committed = False
            try:
                yield session, info
                sync = session.sync_session
                if sync.new or sync.dirty or sync.deleted:
                    await session.flush()
                if not _clean(sync):
                    raise RuntimeError("a transaction left its session in a nested state")
                connection.sqlite.commit()
                committed = True
            finally:
                sync = session.sync_session
                if committed:
                    info.update(_forget(sync))
                elif sync.is_active and _clean(sync) and _rolled_back(connection):
                    _forget(sync)  # the usual rollback: a duplicate, a read, a refused turn
                else:
                    await asyncio.shield(self._discard(connection))

    async def close(self) -> None:
        async with self._turn:
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
        connection.sqlite.commit()  # ...ended at once: each transaction begins its own
        self._session, self._connection = session, connection
        return session, connection

    async def _discard(self, connection: InlineConnection) -> None:
        session, self._session, self._connection = self._session, None, None
        _rolled_back(connection)  # or not: the session's close gives the connection back
        if session is not None:
            await session.close()


def _clean(sync: Session) -> bool:
    """No nested transaction left open (a savepoint begun and never ended)."""
    return sync.get_nested_transaction() is None


def _rolled_back(connection: InlineConnection) -> bool:
    try:
        if connection.sqlite.in_transaction:
            connection.sqlite.rollback()
    except sqlite3.Error:
        return False
    return True


def _forget(sync: Session) -> dict[Any, Any]:
    """The transaction's info, taken out of the session; its ORM objects let go."""
    sync.expunge_all()
    taken = {key: value for key, value in sync.info.items() if key != DRIVER_KEY}
    for key in taken:
        del sync.info[key]
    return taken
