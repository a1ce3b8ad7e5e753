"""A turn's Redis commands share round trips (coordination/batch.py), on a real Redis:

- a hundred conversations' turns at once (lock, reply appended, lock released) cost Redis
  fewer reads of requests than turns, and every reply reaches a listener;
- a process that releases a conversation's lock and takes it again at once is not refused
  (the release reaches Redis first), and the tokens keep growing;
- Redis that forgot its scripts (restarted empty) still takes and releases locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from coordination.batch import RedisBatch
from coordination.redis import LEASE_SECONDS, RedisLocks, RedisPubSub

TURNS = 100


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def _reads(client: aioredis.Redis) -> int:
    return int((await client.info("stats"))["total_reads_processed"])


async def test_many_turns_at_once_share_round_trips_and_every_reply_arrives(
    client: aioredis.Redis,
) -> None:
    batch = RedisBatch(client)
    locks = RedisLocks(client, batch=batch)
    pubsub = RedisPubSub(client, batch=batch)
    replies: list[str] = []
    every_reply = asyncio.Event()

    async def listener(data: str) -> None:
        replies.append(data)
        if len(replies) == TURNS:
            every_reply.set()

    subscription = await pubsub.subscribe("webchat:batch-test", listener)
    await client.ping()  # the connections are open before counting

    async def turn(n: int) -> int:
        async with locks.hold(f"batch-{n}") as token:
            await pubsub.publish("webchat:batch-test", f"reply {n}")
            return token

    before = await _reads(client)
    tokens = await asyncio.gather(*(turn(n) for n in range(TURNS)))
    await asyncio.wait_for(every_reply.wait(), 10)
    reads = await _reads(client) - before
    await subscription.close()
    await pubsub.close()
    assert all(tokens)
    assert sorted(replies) == sorted(f"reply {n}" for n in range(TURNS))
    # Unbatched, each turn was three requests (take, append, release): 300 reads.
    assert reads < TURNS


async def test_a_lock_released_and_taken_again_at_once_is_not_refused(
    client: aioredis.Redis,
) -> None:
    locks = RedisLocks(client)
    tokens = []
    for _ in range(20):
        async with locks.hold("conversation-again") as token:
            tokens.append(token)
    assert tokens == sorted(set(tokens))
    async with RedisLocks(client).hold("conversation-again") as other:
        assert other > tokens[-1]


async def test_locks_work_after_redis_forgot_its_scripts(client: aioredis.Redis) -> None:
    locks = RedisLocks(client)
    async with locks.hold("conversation-flushed") as first:
        pass
    await client.script_flush()
    async with locks.hold("conversation-flushed") as second:
        assert second > first
    # released (after the scripts were loaded again): the key goes, not at its lease's end
    deadline = asyncio.get_running_loop().time() + 0.5 * LEASE_SECONDS
    while await client.exists("orderbot:lock:conversation-flushed"):
        assert asyncio.get_running_loop().time() < deadline, "the lock was not released"
        await asyncio.sleep(0.01)
