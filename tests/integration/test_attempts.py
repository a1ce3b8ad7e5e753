"""Failed-attempt counts (coordination.base.Attempts): the same tests over the in-process and
the Redis implementations; over Redis two clients (as two bot processes) share the counts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from coordination.base import Attempts
from coordination.fallback import FallbackAttempts, RedisHealth
from coordination.memory import InProcessAttempts
from coordination.redis import RedisAttempts

HOUR = 3600.0


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Attempts, Attempts]]:
    """Two counters as two processes have them: one shared memory, or one Redis each."""
    if request.param == "memory":
        shared = InProcessAttempts()
        yield shared, shared
        return
    url = request.getfixturevalue("redis_url")
    first, second = aioredis.from_url(url), aioredis.from_url(url)
    yield RedisAttempts(first), RedisAttempts(second)
    await first.aclose()
    await second.aclose()


def fresh_key() -> str:
    return "test:" + secrets.token_hex(6)


async def test_failures_up_to_the_limit_lock_the_key_for_the_lockout(
    counters: tuple[Attempts, Attempts],
) -> None:
    one, other = counters
    key = fresh_key()
    assert [await one.failed(key, 3, HOUR, 600) for _ in range(2)] == [None, None]
    assert await one.locked(key) is None
    locked_for = await other.failed(key, 3, HOUR, 600)  # the third, counted elsewhere
    assert locked_for == 600
    left = await one.locked(key)
    assert left is not None and 590 < left <= 600
    assert await one.locked(fresh_key()) is None  # other keys are not touched
    free = fresh_key()  # asked together (a proof asks the order's and the client's keys)
    found = await one.locked_many([free, key, fresh_key()])
    assert found[0] is None and found[2] is None and found[1] is not None and found[1] > 590


async def test_each_further_lockout_doubles(counters: tuple[Attempts, Attempts]) -> None:
    one, other = counters
    key = fresh_key()
    lockouts = []
    for counter in (one, other, one):
        await counter.failed(key, 2, HOUR, 60)
        lockouts.append(await counter.failed(key, 2, HOUR, 60))
    assert lockouts == [60, 120, 240]


async def test_cleared_forgets_the_failures(counters: tuple[Attempts, Attempts]) -> None:
    one, other = counters
    key = fresh_key()
    await one.failed(key, 2, HOUR, 60)
    await other.cleared(key)  # with Redis queued, and sent before the process's next command
    assert await other.failed(key, 2, HOUR, 60) is None


async def test_failures_outside_the_window_are_forgotten() -> None:
    now = [1000.0]
    counter = InProcessAttempts(clock=lambda: now[0])
    await counter.failed("k", 2, 60, 600)
    now[0] += 61
    assert await counter.failed("k", 2, 60, 600) is None
    assert await counter.failed("k", 2, 60, 600) == 600
    now[0] += 601
    assert await counter.locked("k") is None


async def test_without_redis_the_process_counts_alone() -> None:
    """Redis unreachable: failures still lock, in this process."""
    down = aioredis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    counter = FallbackAttempts(RedisAttempts(down), RedisHealth())
    key = fresh_key()
    assert await counter.failed(key, 2, HOUR, 60) is None
    assert await counter.failed(key, 2, HOUR, 60) == 60
    assert await counter.locked(key) is not None
    await down.aclose()
