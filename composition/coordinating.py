"""The coordination layer a process uses: Redis's locks, pub/sub and rate limits
when [redis] url is set (each falling back to this process's own while Redis is down), else
the in-process equivalents (DESIGN.md, Storage and scale-out)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from config import Settings
from coordination.base import Locks, PubSub
from coordination.batch import RedisBatch
from coordination.fallback import (
    FallbackLocks,
    FallbackPubSub,
    FallbackRateLimiter,
    RedisHealth,
)
from coordination.limits import RateLimiter
from coordination.memory import InProcessLocks, InProcessPubSub
from coordination.redis import RedisLocks, RedisPubSub
from dialog.unit_of_work import ROW_LOCK

REDIS_CONNECTIONS = 100  # per process
REDIS_WAIT_SECONDS = 30.0  # for a free connection, before a turn fails


@dataclass(frozen=True, eq=False)
class Coordination:
    redis: aioredis.Redis | None  # None: one process, no Redis
    redis_health: RedisHealth
    locks: Locks  # named locks shared by every process (Redis's leases)
    # A conversation's: ordered in the process, and across processes by the conversation's
    # row, which its turns and the desk's changes lock in their transaction (ROW_LOCK).
    conversation_locks: Locks
    pubsub: PubSub
    rate_limiter: RateLimiter

    async def close(self) -> None:
        await self.pubsub.close()
        await self.rate_limiter.close()
        if self.redis is not None:
            await self.redis.aclose()


def coordination(settings: Settings) -> Coordination:
    url = settings.redis.url
    health = RedisHealth()
    if not url:
        locks = InProcessLocks()
        return Coordination(None, health, locks, locks, InProcessPubSub(), RateLimiter())
    redis = redis_client(url)
    # One pipeline for the stream and the named locks: a turn's reply and the read that
    # brings it back to this process's listeners go together.
    batch = RedisBatch(redis)
    return Coordination(
        redis, health,
        locks=FallbackLocks(
            RedisLocks(redis, settings.coordination.lock_lease_seconds, batch), health),
        # Not a Redis lease: the row lock costs a turn no round trip of its own (its load
        # takes it), frees at once when a process dies, and holds while Redis is down.
        conversation_locks=InProcessLocks(token=ROW_LOCK),
        pubsub=FallbackPubSub(RedisPubSub(redis, batch=batch), health),
        rate_limiter=FallbackRateLimiter(url, health),
    )


def redis_client(url: str) -> aioredis.Redis:
    """A client whose pool makes a burst of turns wait for a free connection: redis-py's
    default pool raises "Too many connections" past 100 at once, which failed turns."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url, decode_responses=True, max_connections=REDIS_CONNECTIONS,
        timeout=REDIS_WAIT_SECONDS,
    )
    return aioredis.Redis.from_pool(pool)
