"""Redis coordination (locks, pub/sub, rate-limit and failed-attempt counts), degraded to
one process while Redis is unreachable.

When Redis stops, the bot keeps serving: a conversation's turns are not coordinated here
(its row in the database orders them across processes, composition/coordinating.py), a named
lock falls back to this process's, and pub/sub reaches the listeners of this process only.
Redis is tried again `retry_seconds` after a failure, and used again as soon as it answers: no
restart is needed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

from limits import RateLimitItem
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from coordination.base import Listener, Subscription
from coordination.limits import RateLimiter
from coordination.memory import InProcessLocks, InProcessPubSub
from coordination.redis import RedisLocks, RedisPubSub

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_SECONDS = 5.0
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisHealth:
    """Whether Redis is worth trying now; shared by the locks and the pub/sub of a process."""

    def __init__(
        self, retry_seconds: float = RETRY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._down_until: float | None = None

    @property
    def degraded(self) -> bool:
        return self._down_until is not None

    def usable(self) -> bool:
        return self._down_until is None or self._clock() >= self._down_until

    def failed(self, what: str, error: BaseException) -> None:
        if self._down_until is None:
            log.warning("redis unreachable (%s: %s); coordinating in this process only",
                        what, type(error).__name__)
        self._down_until = self._clock() + self.retry_seconds

    def answered(self) -> None:
        if self._down_until is not None:
            log.warning("redis reachable again; coordinating across processes")
        self._down_until = None


class FallbackLocks:
    """The conversation's in-process lock, then (while Redis answers) its Redis lock."""

    def __init__(self, redis: RedisLocks, health: RedisHealth) -> None:
        self._redis = redis
        self._local = InProcessLocks()
        self._health = health

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[int | None]:
        async with self._local.hold(name), AsyncExitStack() as stack:
            token = None  # Redis down: no fence (the in-process lock alone serialises)
            if self._health.usable():
                try:
                    token = await stack.enter_async_context(self._redis.hold(name))
                except REDIS_DOWN as error:
                    self._health.failed("lock", error)
                else:
                    self._health.answered()
            yield token


class FallbackPubSub:
    """Publishes through Redis's stream, or, while Redis is down, to this process's listeners
    at once and to the other processes once Redis answers again (coordination/redis.py)."""

    def __init__(self, redis: RedisPubSub, health: RedisHealth) -> None:
        self._redis = redis
        self._local = InProcessPubSub()
        self._health = health

    @property
    def caught_up(self) -> bool:
        """Whether every process's replies reach this one's listeners through Redis again."""
        return self._redis.caught_up

    async def publish(self, topic: str, data: str) -> None:
        if self._health.usable():
            try:
                await self._redis.publish(topic, data)
            except REDIS_DOWN as error:
                self._health.failed("publish", error)
            else:
                self._health.answered()
                return  # delivered to this process's listeners too, as the append returned
        await self._local.publish(topic, data)
        self._redis.defer(topic, data)

    async def subscribe(self, topic: str, listener: Listener) -> _BothSubscriptions:
        # Both: the Redis reader delivers what any process published, the local hub what
        # this process published while Redis was down.
        local = await self._local.subscribe(topic, listener)
        return _BothSubscriptions(local, await self._redis.subscribe(topic, listener))

    async def close(self) -> None:
        await self._local.close()
        await self._redis.close()


class _BothSubscriptions:
    def __init__(self, local: Subscription, remote: Subscription) -> None:
        self._local, self._remote = local, remote

    async def close(self) -> None:
        await self._local.close()
        await self._remote.close()


class FallbackRateLimiter(RateLimiter):
    """Counts in Redis, or in this process while Redis is down (each process its own count)."""

    def __init__(self, redis_url: str, health: RedisHealth) -> None:
        super().__init__(redis_url)
        self._local = RateLimiter()
        self._health = health

    async def hit(self, limit: RateLimitItem | None, *key: str) -> int | None:
        if limit is None:
            return None
        return await self._either(super().hit, self._local.hit, limit, *key)

    async def check(self, limit: RateLimitItem, *key: str) -> int | None:
        return await self._either(super().check, self._local.check, limit, *key)

    async def clear(self, limit: RateLimitItem, *key: str) -> None:
        await self._either(super().clear, self._local.clear, limit, *key)

    async def _either(self, remote: Callable[..., Awaitable[T]], local: Callable[..., Awaitable[T]],
                      limit: RateLimitItem, *key: str) -> T:
        if self._health.usable():
            try:
                result = await remote(limit, *key)
            except REDIS_DOWN as error:
                self._health.failed("rate limit", error)
            else:
                self._health.answered()
                return result
        return await local(limit, *key)

    async def close(self) -> None:
        await self._local.close()
        await super().close()
