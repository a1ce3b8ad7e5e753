"""Rate limits: how many times a key may do something in a moving window.

The counts live in memory (one process) or in Redis when one is configured, so that every bot
process behind a load balancer sees the same count (the `limits` library does the counting,
as for the console's login throttle).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool

KEY_PREFIX = "orderbot:limits"


class RateLimiter:
    def __init__(self, redis_url: str = "") -> None:
        self._pool: ConnectionPool | None = None
        if redis_url:
            self._pool = ConnectionPool.from_url(redis_url)
            storage = storage_from_string(f"async+{redis_url}", implementation="redispy",
                                          connection_pool=self._pool, key_prefix=KEY_PREFIX)
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, limit: RateLimitItem | None, *key: str) -> int | None:
        """Count one use of `key`; None when admitted, else the seconds to wait (at least 1).
        A limit of None admits everything."""
        if limit is None or await self._limiter.hit(limit, *key):
            return None
        return await self._wait(limit, *key)

    async def check(self, limit: RateLimitItem, *key: str) -> int | None:
        """Like hit, without counting: None if one more use would be admitted."""
        if await self._limiter.test(limit, *key):
            return None
        return await self._wait(limit, *key)

    async def clear(self, limit: RateLimitItem, *key: str) -> None:
        """Forget the uses of `key`."""
        await self._limiter.clear(limit, *key)

    async def _wait(self, limit: RateLimitItem, *key: str) -> int:
        stats = await self._limiter.get_window_stats(limit, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
