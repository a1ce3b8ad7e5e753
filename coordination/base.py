"""What several bot processes must agree on: per-conversation locks and pub/sub.

One process uses the in-process implementations (memory.py); several share Redis (redis.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

Listener = Callable[[str], Awaitable[None]]


class Locks(Protocol):
    def hold(self, name: str) -> AbstractAsyncContextManager[int | None]:
        """Hold the named lock for the duration of the block, waiting for it if needed.

        Yields the hold's fencing token: greater than that of every earlier hold of the name,
        so that a holder whose lease ran out (a frozen process) can be refused where it writes
        (dialog/store.py); None where the lock cannot be lost (one process, in memory); the
        database row lock's sentinel where the holder's transaction locks the row itself
        (dialog/unit_of_work.py ROW_LOCK).
        """
        ...


class Subscription(Protocol):
    async def close(self) -> None: ...


class PubSub(Protocol):
    async def publish(self, topic: str, data: str) -> None: ...

    async def subscribe(self, topic: str, listener: Listener) -> Subscription: ...

    async def close(self) -> None: ...
