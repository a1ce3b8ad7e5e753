"""Console logins are limited per username and per IP address over a moving minute: past
`attempts_per_minute` failures, logins are refused until the oldest one leaves the window.

The counts live in memory (one process) or in Redis when one is configured, so that every bot
process behind a load balancer sees the same failures (the `limits` library does the counting).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool

KEY_PREFIX = "orderbot:login"


class LoginThrottle:
    def __init__(self, attempts_per_minute: int, redis_url: str = "") -> None:
        self._limit = RateLimitItemPerMinute(attempts_per_minute)
        self._pool: ConnectionPool | None = None
        if redis_url:
            self._pool = ConnectionPool.from_url(redis_url)
            storage = storage_from_string(f"async+{redis_url}", implementation="redispy",
                                          connection_pool=self._pool, key_prefix=KEY_PREFIX)
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(storage)

    async def admit(self, username: str, address: str) -> int | None:
        """Count a login attempt of the username; the seconds to wait if it is refused (None:
        go ahead). Counting before the password is checked means that parallel guesses at
        one username cannot slip past the limit."""
        if not await self._limiter.test(self._limit, "ip", address):
            return await self._wait(("ip", address))
        if not await self._limiter.hit(self._limit, "user", username):
            return await self._wait(("user", username))
        return None

    async def failed(self, address: str) -> None:
        """The password was wrong: the address's failures grow too (its right passwords do
        not count, so that a team behind one address can log in at the start of a shift)."""
        await self._limiter.hit(self._limit, "ip", address)

    async def succeeded(self, username: str) -> None:
        """The right password: the username's attempts are forgiven."""
        await self._limiter.clear(self._limit, "user", username)

    async def _wait(self, key: tuple[str, str]) -> int:
        stats = await self._limiter.get_window_stats(self._limit, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
