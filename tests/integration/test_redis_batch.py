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


async def test_a_processs_own_reply_is_delivered_by_the_time_its_publish_returns(
    client: aioredis.Redis, redis_url: str,
) -> None:
    """The read along with the append: this process's listener has its reply when publish
    returns (no wait for the reader), after what another process appended before it, once."""
    other_client = aioredis.from_url(redis_url, decode_responses=True)
    here, there = RedisPubSub(client), RedisPubSub(other_client)
    seen: list[str] = []

    async def listener(data: str) -> None:
        seen.append(data)

    subscription = await here.subscribe("webchat:along", listener)
    try:
        await there.publish("webchat:along", "from the other process")
        await here.publish("webchat:along", "this process's reply")
        assert seen == ["from the other process", "this process's reply"]
        for n in range(20):  # and each of many once, in order, whichever read comes first
            await asyncio.gather(here.publish("webchat:along", f"here {n}"),
                                 there.publish("webchat:along", f"there {n}"))
        await here.publish("webchat:along", "last")
        assert seen[-1] == "last" and len(seen) == len(set(seen)) == 43
        assert [s for s in seen if s.startswith("here")] == [f"here {n}" for n in range(20)]
        assert [s for s in seen if s.startswith("there")] == [f"there {n}" for n in range(20)]
    finally:
        await subscription.close()
        await here.close()
        await there.close()
        await other_client.aclose()


async def test_a_listener_that_publishes_gets_its_own_entry_after_the_one_it_answers(
    client: aioredis.Redis,
) -> None:
    pubsub = RedisPubSub(client)
    seen: list[str] = []

    async def answering(data: str) -> None:
        seen.append(data)
        if data == "ping":
            await pubsub.publish("desk:along", "pong")

    first = await pubsub.subscribe("webchat:along-ping", answering)
    second = await pubsub.subscribe("desk:along", answering)
    try:
        await asyncio.wait_for(pubsub.publish("webchat:along-ping", "ping"), 10)
        await pubsub.publish("desk:along", "after")
        assert seen == ["ping", "pong", "after"]
    finally:
        await first.close()
        await second.close()
        await pubsub.close()
