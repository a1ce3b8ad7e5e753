"""SQLite on the event loop's own thread, for SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call (each statement, cursor, fetch and commit) on a worker thread and
wakes the event loop for each result: a turn's dozen statements cost some forty thread round
trips, each tens to hundreds of microseconds on a busy machine - most of a turn's time. SQLite
answers from its page cache in microseconds, so here the calls run inline, on the loop.

Only waiting for the write lock could block the loop for long: the connection has no busy
timeout of its own, and a "database is locked" is retried here with asyncio.sleep, so that
the holder (another process, or another connection of this one) can finish meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite

BUSY_TIMEOUT = 15.0  # seconds to wait for another connection's write lock
_FIRST_RETRY = 0.0005
_LONGEST_RETRY = 0.02
# The connection's own checkpoints only as a backstop (pages of WAL), should the
# Checkpointer's thread fall behind: ~80 MB.
BACKSTOP_CHECKPOINT_PAGES = 20_000

log = logging.getLogger(__name__)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run at once on the calling (event loop) thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]  # SQLAlchemy queues here directly

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, for calls made directly (storage/drivers.py)."""
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return self._connection

    async def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE: the write lock taken at once, waited for as any call waits."""
        await self._execute(self.sqlite.execute, "BEGIN IMMEDIATE")

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no worker thread to start

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = time.monotonic() + BUSY_TIMEOUT
        pause = _FIRST_RETRY
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)  # the lock holder may be a coroutine of this loop
            pause = min(pause * 2, _LONGEST_RETRY)


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its worker thread: runs each call immediately."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # noqa: BLE001 (handed to the waiting coroutine)
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


def inline_connector(path: str) -> Callable[[], Any]:
    """An async_creator for create_async_engine: opens `path` as an InlineConnection."""

    async def connect() -> aiosqlite.Connection:
        connection = InlineConnection(lambda: sqlite3.connect(path, timeout=0))
        return await connection

    return connect


class Checkpointer:
    """Copies the write-ahead log into the database file on a thread of its own.

    SQLite checkpoints inside the COMMIT that crosses 1,000 pages of log, on the committing
    connection: here the event loop's, so one turn in a few hundred paid for copying and
    syncing the file (half of an average COMMIT; tens of milliseconds when the disk is busy)
    while every other conversation waited. A PASSIVE checkpoint here takes no lock that
    writers need; sqlite3 releases the GIL while it does the I/O.
    """

    def __init__(self, path: str, *, interval: float = 0.25,
                 wal_bytes: int = 4 * 1024 * 1024) -> None:
        self._path = path
        self._wal = f"{path}-wal"
        self._interval = interval
        self._wal_bytes = wal_bytes
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT,
                                     check_same_thread=False)
        try:
            while not self._stopping.wait(self._interval):
                try:
                    if os.stat(self._wal).st_size < self._wal_bytes:
                        continue
                except FileNotFoundError:
                    continue
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the next round tries again; the backstop remains
                    log.warning("SQLite checkpoint failed", exc_info=True)
        finally:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
