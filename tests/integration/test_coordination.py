"""Locks and pub/sub: the same tests over the in-process and the Redis implementations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from coordination.base import Locks, PubSub
from coordination.memory import InProcessLocks, InProcessPubSub
from coordination.redis import RedisLocks, RedisPubSub


@pytest.fixture(params=["memory", "redis"])
async def backend(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Locks, PubSub, PubSub]]:
    """Locks and two pub/sub endpoints (as two processes would have)."""
    if request.param == "memory":
        hub = InProcessPubSub()
        yield InProcessLocks(), hub, hub
        return
    url = request.getfixturevalue("redis_url")
    first = aioredis.from_url(url, decode_responses=True)
    second = aioredis.from_url(url, decode_responses=True)
    publisher, subscriber = RedisPubSub(first), RedisPubSub(second)
    yield RedisLocks(first), publisher, subscriber
    await publisher.close()
    await subscriber.close()
    await first.aclose()
    await second.aclose()


async def test_a_lock_admits_one_holder_at_a_time(backend: tuple[Locks, PubSub, PubSub]) -> None:
    locks = backend[0]
    inside, most_inside, order = 0, 0, []

    async def turn(number: int) -> None:
        nonlocal inside, most_inside
        async with locks.hold("conversation-1"):
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0)  # give the others every chance to barge in
            order.append(number)
            inside -= 1

    await asyncio.gather(*(turn(n) for n in range(20)))
    assert most_inside == 1
    assert sorted(order) == list(range(20))


async def test_different_conversations_do_not_wait_for_each_other(
    backend: tuple[Locks, PubSub, PubSub],
) -> None:
    locks = backend[0]
    async with locks.hold("a"):
        async with locks.hold("b"):  # would deadlock if the names shared a lock
            pass


async def test_a_published_message_reaches_the_subscriber(
    backend: tuple[Locks, PubSub, PubSub],
) -> None:
    _, publisher, subscriber = backend
    received: asyncio.Queue[str] = asyncio.Queue()

    async def listener(data: str) -> None:
        await received.put(data)

    subscription = await subscriber.subscribe("webchat:abc", listener)
    await publisher.publish("webchat:other", "not for us")
    await publisher.publish("webchat:abc", "hello")
    assert await asyncio.wait_for(received.get(), 5) == "hello"
    await subscription.close()
    await publisher.publish("webchat:abc", "after close")
    await publisher.publish("webchat:sentinel", "x")
    assert received.empty()


async def test_a_failing_listener_does_not_stop_the_others(
    backend: tuple[Locks, PubSub, PubSub],
) -> None:
    _, publisher, subscriber = backend
    received: asyncio.Queue[str] = asyncio.Queue()

    async def broken(data: str) -> None:
        raise RuntimeError("socket gone")

    async def working(data: str) -> None:
        await received.put(data)

    await subscriber.subscribe("t", broken)
    await subscriber.subscribe("t", working)
    await publisher.publish("t", "still delivered")
    assert await asyncio.wait_for(received.get(), 5) == "still delivered"
