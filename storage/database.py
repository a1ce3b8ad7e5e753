"""Engine and transactions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import FromClause, TableClause, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import await_, greenlet_spawn

from storage.drivers import begin_with_driver, hide_detail
from storage.postgres_transactions import PostgresTransactions
from storage.sqlite import BACKSTOP_CHECKPOINT_PAGES, Checkpointer, inline_connector
from storage.sqlite_transactions import SqliteTransactions

AfterCommit = Callable[[], Awaitable[None] | None]
# Sees the info of every committed session (e.g. what it added that others announce).
CommitWatcher = Callable[[dict[Any, Any]], Awaitable[None]]


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    """An engine; on SQLite with WAL and BEGIN IMMEDIATE so that writers never oversell.

    aiosqlite's driver issues no BEGIN before a SELECT, so a read-modify-write would race;
    taking the write lock at BEGIN makes every transaction serialisable on SQLite.
    The pool sizes are a server database's (connections per process: up to the sum).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                                     pool_pre_ping=True, hide_parameters=True)
        event.listen(engine.sync_engine, "handle_error", _hide_detail)
        return engine
    database = parsed.database or ":memory:"
    in_memory = database == ":memory:"
    if not in_memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Connections with their calls inline on the event loop (storage/sqlite.py): SQLite has
    # one writer at a time anyway (BEGIN IMMEDIATE), so the transactions take turns on one
    # connection (storage/sqlite_transactions.py); a second serves migrations and tools that
    # connect to the engine directly. (In memory, SQLAlchemy shares one connection by itself.)
    # hide_parameters: a database error's text must not carry customers' messages into logs.
    pool = {} if in_memory else {"pool_size": 2, "max_overflow": 0}
    # No rollback when a connection returns to the pool: a session always ends its
    # transaction (commit, or rollback as it closes), and the pool's extra ROLLBACK cost a
    # tenth of a turn.
    engine = create_async_engine(
        url, async_creator=inline_connector(database),
        hide_parameters=True, pool_reset_on_return=None, **pool,
    )

    # The log is checkpointed off the event loop (storage/sqlite.py), for as long as the
    # engine lives.
    checkpointer = None if in_memory else Checkpointer(database)
    if checkpointer is not None:
        checkpointer.start()
        event.listen(engine.sync_engine, "engine_disposed", lambda _: checkpointer.stop())

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if checkpointer is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the inline driver (storage/sqlite.py), which waits for another
        # process's write lock; through exec_driver_sql this statement cost as much as three.
        await_(connection.connection.driver_connection.begin_immediate())

    return engine


def _hide_detail(context: Any) -> None:
    hide_detail(context.original_exception)


class Database:
    """Sessions, one transaction each, with callbacks that run only after a commit."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._watchers: list[CommitWatcher] = []
        # A database file: its transactions on one session (storage/sqlite_transactions.py).
        # In memory, the pool's one shared connection stays the pool's.
        self._sqlite = (SqliteTransactions(self._sessions)
                        if engine.dialect.name == "sqlite"
                        and engine.url.database not in (None, "", ":memory:") else None)
        # PostgreSQL: a long-lived session per pooled connection
        # (storage/postgres_transactions.py).
        self._postgres = (PostgresTransactions(engine, self._sessions)
                          if engine.dialect.driver == "asyncpg" else None)

    def watch_commits(self, watcher: CommitWatcher) -> Callable[[], None]:
        """Call watcher with each committed session's info (never on rollback), for a part
        that cannot be called by the code that wrote (orders/ knows no console); the function
        returned stops it."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    @asynccontextmanager
    async def transaction(self, autocommit: bool = False) -> AsyncIterator[AsyncSession]:
        """`autocommit`: on PostgreSQL, each statement commits alone (no BEGIN and COMMIT
        round trips), for work of one statement; elsewhere a transaction as any."""
        if self._postgres is not None:
            async with self._postgres.transaction(autocommit) as (session, info):
                yield session
            await self._committed(info)
            return
        if self._sqlite is not None:
            async with self._sqlite.transaction() as (session, info):
                yield session
            await self._committed(info)
            return
        # What `async with session, session.begin()` does, in two hops into SQLAlchemy's
        # greenlet instead of five and no task per close: begin with the connection (every
        # transaction here uses it), then commit and close together.
        session = self._sessions()
        sync = session.sync_session
        closed = False
        try:
            await greenlet_spawn(begin_with_driver, sync)
            yield session
            await greenlet_spawn(_commit_and_close, sync)
            closed = True
        finally:
            if not closed:  # rolled back; shielded, so that a cancelled turn still frees it
                await asyncio.shield(greenlet_spawn(sync.close))
        await self._committed(session.info)

    async def _committed(self, info: dict[Any, Any]) -> None:
        for callback in info.pop("after_commit", ()):
            result = callback()
            if result is not None:
                await result
        for watcher in self._watchers:
            await watcher(info)

    async def dispose(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._postgres is not None:
            await self._postgres.close()
        await self.engine.dispose()


def _commit_and_close(sync: Session) -> None:
    try:
        sync.commit()
    finally:
        sync.close()


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run callback once the session's transaction has committed (never on rollback)."""
    session.info.setdefault("after_commit", []).append(callback)


async def insert_unless_exists(
    session: AsyncSession, table: FromClause, values: dict[str, Any], unique: str
) -> int | None:
    """INSERT ... ON CONFLICT (unique) DO NOTHING; the new row's id, or None if one existed.

    Unlike catching IntegrityError, this keeps the transaction usable when another
    transaction inserted the same key at the same moment (PostgreSQL waits for it).
    """
    # A model's __table__ is typed as any FromClause; only a table can be inserted into.
    if not isinstance(table, TableClause):
        raise TypeError(f"insert_unless_exists needs a table, not {table!r}")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table).values(**values).on_conflict_do_nothing(index_elements=[unique])
        .returning(table.c.id)
    )
    new_id: int | None = await session.scalar(statement)
    return new_id
