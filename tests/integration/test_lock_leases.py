"""Redis locks as leases with fencing tokens (coordination/redis.py), on a real Redis:

- the lock of a process killed with SIGKILL while holding it frees within its lease;
- a holder that runs longer than the lease keeps the lock (it is renewed);
- a holder stalled past its lease loses the lock, and the next holder's token is greater;
- tokens keep growing when Redis has forgotten the last one (restarted empty).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from coordination.redis import RedisLocks

ROOT = Path(__file__).resolve().parent.parent.parent
LEASE = 1.0
WITHIN = LEASE + 3.0  # a bound on how long the dead holder's lock may still block, not a wait

# A process that takes the lock, says so, and waits to be killed.
HOLDER = """
import asyncio, sys
import redis.asyncio as aioredis
from coordination.redis import RedisLocks

async def main():
    client = aioredis.from_url(sys.argv[1], decode_responses=True)
    async with RedisLocks(client, lease=float(sys.argv[2])).hold("conversation-1") as token:
        print(token, flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_the_lock_of_a_killed_process_frees_within_its_lease(
    client: aioredis.Redis, redis_url: str,
) -> None:
    await client.delete("orderbot:lock:conversation-1")
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, redis_url, str(LEASE), cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE)
    try:
        assert holder.stdout is not None
        dead_token = int(await asyncio.wait_for(holder.stdout.readline(), 30))
    finally:
        holder.kill()  # kill -9: nothing released
        await holder.wait()
    killed = time.monotonic()
    async with RedisLocks(client, lease=LEASE).hold("conversation-1") as token:
        assert time.monotonic() - killed < WITHIN
        assert token > dead_token


async def test_a_holder_longer_than_its_lease_keeps_the_lock(client: aioredis.Redis) -> None:
    locks = RedisLocks(client, lease=LEASE)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def long_turn() -> None:
        async with locks.hold("conversation-1"):
            holding.set()
            await release.wait()

    turn = asyncio.create_task(long_turn())
    await holding.wait()
    contender = asyncio.create_task(_hold_once(RedisLocks(client, lease=LEASE)))
    done, _ = await asyncio.wait([contender], timeout=3 * LEASE)  # three leases: renewed
    assert not done
    release.set()
    await turn
    await asyncio.wait_for(contender, 5)  # and the next holder gets it once released


async def test_a_holder_stalled_past_its_lease_loses_the_lock_to_a_greater_token(
    client: aioredis.Redis,
) -> None:
    stalled = RedisLocks(client, lease=LEASE)
    # Stalled: its renewals never reach Redis, as in a process stopped with SIGSTOP.
    stalled._renew = lambda lease: asyncio.get_running_loop().create_future()  # type: ignore[method-assign]
    hold = stalled.hold("conversation-1")
    old_token = await hold.__aenter__()
    started = time.monotonic()
    async with RedisLocks(client, lease=LEASE).hold("conversation-1") as new_token:
        assert time.monotonic() - started < WITHIN
        assert new_token > old_token
    await hold.__aexit__(None, None, None)  # its release takes nothing from anybody
    async with RedisLocks(client, lease=LEASE).hold("conversation-1") as later:
        assert later > new_token


async def test_tokens_keep_growing_when_redis_forgot_the_last_one(
    client: aioredis.Redis,
) -> None:
    locks = RedisLocks(client, lease=LEASE)
    tokens = []
    for _ in range(3):
        async with locks.hold("conversation-1") as token:
            tokens.append(token)
        # as a Redis restarted without its data (the lock is free already)
        await client.delete("orderbot:fence:conversation-1")
    assert tokens == sorted(set(tokens))


async def _hold_once(locks: RedisLocks) -> int:
    async with locks.hold("conversation-1") as token:
        return token
