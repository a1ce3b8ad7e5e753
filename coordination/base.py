"""What several bot processes must agree on: per-conversation locks and pub/sub.

One process uses the in-process implementations (memory.py); several share Redis (redis.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

Listener = Callable[[str], Awaitable[None]]


class Locks(Protocol):
    def hold(self, name: str) -> AbstractAsyncContextManager[None]:
        """Hold the named lock for the duration of the block, waiting for it if needed."""
        ...


class Subscription(Protocol):
    async def close(self) -> None: ...


class PubSub(Protocol):
    async def publish(self, topic: str, data: str) -> None: ...

    async def subscribe(self, topic: str, listener: Listener) -> Subscription: ...

    async def close(self) -> None: ...
