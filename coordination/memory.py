"""In-process locks, pub/sub and failed-attempt counts for a single bot process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
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


STRIKES_SECONDS = 86400.0  # lockouts this close together double; none is longer than this
MAX_KEYS = 10_000  # past this many keys counted, expired ones are dropped


class InProcessAttempts:
    """coordination.base.Attempts in this process's memory (expired entries dropped as met)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (count, window ends)
        self._strikes: dict[str, tuple[int, float]] = {}  # key -> (lockouts, forgotten at)
        self._locked_until: dict[str, float] = {}

    async def failed(self, key: str, failures: int, window: float, lockout: float) -> float | None:
        now = self._clock()
        if len(self._failures) + len(self._strikes) > MAX_KEYS:  # many keys: forget the old
            self._forget_expired(now)
        count, ends = self._failures.get(key, (0, now + window))
        if ends <= now:
            count, ends = 0, now + window
        count += 1
        if count < failures:
            self._failures[key] = (count, ends)
            return None
        self._failures.pop(key, None)
        strikes, forgotten = self._strikes.get(key, (0, now))
        strikes = strikes + 1 if forgotten > now else 1
        self._strikes[key] = (strikes, now + STRIKES_SECONDS)
        seconds = min(lockout * 2 ** (strikes - 1), STRIKES_SECONDS)
        self._locked_until[key] = now + seconds
        return seconds

    async def locked(self, key: str) -> float | None:
        until = self._locked_until.get(key)
        if until is None:
            return None
        left = until - self._clock()
        if left <= 0:
            del self._locked_until[key]
            return None
        return left

    async def locked_many(self, keys: Sequence[str]) -> list[float | None]:
        return [await self.locked(key) for key in keys]

    async def cleared(self, key: str) -> None:
        self._failures.pop(key, None)

    def _forget_expired(self, now: float) -> None:
        for table in (self._failures, self._strikes):
            for key in [key for key, (_, ends) in table.items() if ends <= now]:
                del table[key]
        for key in [key for key, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
