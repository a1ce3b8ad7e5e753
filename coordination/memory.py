"""In-process locks and pub/sub for a single bot process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from coordination.base import Listener

log = logging.getLogger(__name__)


class InProcessLocks:
    """One asyncio.Lock per name, dropped when nobody holds or waits for it.

    Every hold yields `token`: None (no token: the lock cannot be lost) for one process, or
    the database's row lock's sentinel (dialog/unit_of_work.py ROW_LOCK) where several
    processes share the database and the holder's transaction locks the conversation's row:
    this lock orders the holds of one process, the row those of all.
    """

    def __init__(self, token: int | None = None) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._token = token

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[int | None]:
        lock, users = self._locks.get(name, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield self._token
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)


class _LocalSubscription:
    def __init__(self, hub: InProcessPubSub, topic: str, listener: Listener) -> None:
        self._hub, self._topic, self._listener = hub, topic, listener

    async def close(self) -> None:
        self._hub._drop(self._topic, self._listener)


class InProcessPubSub:
    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = {}

    async def publish(self, topic: str, data: str) -> None:
        await deliver(self._listeners.get(topic, ()), data)

    async def subscribe(self, topic: str, listener: Listener) -> _LocalSubscription:
        self._listeners.setdefault(topic, []).append(listener)
        return _LocalSubscription(self, topic, listener)

    def _drop(self, topic: str, listener: Listener) -> None:
        listeners = self._listeners.get(topic, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(topic, None)

    async def close(self) -> None:
        self._listeners.clear()


async def deliver(listeners: object, data: str) -> None:
    """Call each listener; one failing listener does not stop the others."""
    for listener in list(listeners):  # type: ignore[call-overload]
        try:
            await listener(data)
        except Exception:
            log.exception("pub/sub listener failed")
