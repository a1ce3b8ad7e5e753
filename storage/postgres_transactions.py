"""PostgreSQL's transactions on long-lived sessions, one per pooled connection.

A SQLAlchemy session per transaction cost each transaction a session, its transaction's state
machine, the pool's checkout with its liveness ping (BEGIN; an empty query; ROLLBACK: three
round trips) and the return: more than the turn's own statements. Here each session stays on
its connection for the life of the Database: SQLAlchemy sees one transaction that never ends,
and each of ours is asyncpg's own, begun by SQLAlchemy's adapter at the first statement
(storage/drivers.py) and committed or rolled back here on the driver. Between two transactions
the session forgets every ORM object and its info, as a new session would.

At most the pool's `pool_size` sessions are kept (its overflow stays for migrations and tools
that connect to the engine themselves); a transaction that finds them all busy is handed the
first one to come back, in the order they asked (none is overtaken by a later one). A session
whose connection was cut (an administrator's pg_terminate_backend, a restart) is noticed when
it is taken, or by the transaction that meets the cut, and replaced by a new one;
`engine.dispose()` lets go of every free session, and of the busy ones when next taken.

Concurrent transactions commit on their own connections, and PostgreSQL flushes the WAL of
concurrent committers together (its own group commit): nothing is grouped here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from storage.drivers import begin_with_driver, forget, run_on_asyncpg


class _Held:
    """A session and the asyncpg connection (SQLAlchemy's adapted one) it stays on."""

    __slots__ = ("session", "adapted", "generation")

    def __init__(self, session: AsyncSession, adapted: Any, generation: int) -> None:
        self.session = session
        self.adapted = adapted
        self.generation = generation

    def cut(self) -> bool:
        return bool(self.adapted._connection.is_closed())


class PostgresTransactions:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._dialect = engine.dialect
        self._limit = max(1, engine.sync_engine.pool.size())  # type: ignore[attr-defined]
        self._free: list[_Held] = []  # the most recently used last: it is taken first
        self._count = 0  # sessions kept, free or busy
        self._waiting: deque[asyncio.Future[_Held | None]] = deque()
        self._generation = 0
        event.listen(engine.sync_engine, "engine_disposed", self._disposed)

    @asynccontextmanager
    async def transaction(
        self, autocommit: bool = False,
    ) -> AsyncIterator[tuple[AsyncSession, dict[Any, Any]]]:
        """The session inside a new transaction; once committed, what the transaction put
        in the session's info (its after-commit callbacks, for the caller to run).

        `autocommit`: no transaction block, each statement commits alone (no BEGIN, no COMMIT:
        two round trips fewer), for work that is one statement, or statements that need not
        stand or fall together."""
        held = await self._take()
        session, adapted = held.session, held.adapted
        sync = session.sync_session
        info: dict[Any, Any] = {}
        kept = False
        adapted.autocommit = autocommit  # SQLAlchemy's adapter then begins nothing
        try:
            yield session, info
            if not sync._is_clean():  # SQLAlchemy's own test before a flush (pinned version)
                await session.flush()
            if sync.get_nested_transaction() is not None:
                raise RuntimeError("a transaction left a savepoint of its own open")
            await run_on_asyncpg(adapted, self._dialect, "COMMIT", _commit)
            kept = True
        finally:
            adapted.autocommit = False
            if kept:
                info.update(forget(sync))
                self._give_back(held)
            else:
                await asyncio.shield(self._roll_back(held))

    async def _roll_back(self, held: _Held) -> None:
        sync = held.session.sync_session
        usable = sync.is_active and sync.get_nested_transaction() is None and not held.cut()
        if usable:
            try:
                await run_on_asyncpg(held.adapted, self._dialect, "ROLLBACK", _rollback)
            except Exception:  # noqa: BLE001 (the connection is in doubt: replaced below)
                usable = False
        if usable:
            forget(sync)
            self._give_back(held)
        else:
            await self._discard(held)

    async def close(self) -> None:
        free, self._free = self._free, []
        for held in free:
            await self._discard(held)

    async def _take(self) -> _Held:
        while True:
            while self._free:
                held = self._free.pop()
                if self._fresh(held):
                    return held
                await self._discard(held)
            if self._count < self._limit:
                self._count += 1
                try:
                    return await self._open()
                except BaseException:
                    self._count -= 1
                    self._make_room()
                    raise
            # All busy: a session is handed over as it comes back, in the order asked (None:
            # one was let go, so there is room to open another).
            waiter: asyncio.Future[_Held | None] = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():  # handed over as it was cancelled
                    passed = waiter.result()
                    if passed is not None:
                        self._give_back(passed)
                    else:
                        self._make_room()
                elif waiter in self._waiting:
                    self._waiting.remove(waiter)
                raise
            if handed is not None:
                if self._fresh(handed):
                    return handed
                await self._discard(handed)

    def _fresh(self, held: _Held) -> bool:
        return held.generation == self._generation and not held.cut()

    async def _open(self) -> _Held:
        session = self._sessions()
        try:
            # The pool's checkout (with its liveness ping) once for the session's whole life.
            await greenlet_spawn(begin_with_driver, session.sync_session)
        except BaseException:
            await asyncio.shield(session.invalidate())
            raise
        adapted = session.sync_session.connection().connection.dbapi_connection
        return _Held(session, adapted, self._generation)

    def _give_back(self, held: _Held) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return
        self._free.append(held)

    def _make_room(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _discard(self, held: _Held) -> None:
        """Let go of a session and its connection (closed, not given back to the pool)."""
        self._count -= 1
        self._make_room()
        try:
            await held.session.invalidate()
        except Exception:  # noqa: BLE001 (it is gone either way)
            pass

    def _disposed(self, _engine: Any) -> None:
        # The pool was emptied: every session made before now is let go when next seen.
        self._generation += 1


async def _commit(adapted: Any) -> None:
    if adapted._transaction is not None:  # None: no statement ran, nothing was begun
        await adapted._call_and_discard(adapted._transaction.commit)


async def _rollback(adapted: Any) -> None:
    if adapted._transaction is not None:
        await adapted._call_and_discard(adapted._transaction.rollback)
