"""Redis locks, pub/sub and failed-attempt counts, for several bot processes sharing one
Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import redis.asyncio as aioredis

from coordination.base import Listener
from coordination.memory import STRIKES_SECONDS, deliver

log = logging.getLogger(__name__)


class RedisLocks:
    """redis-py's Lock (SET NX PX + token-checked release), one per conversation.

    `timeout` bounds how long a crashed holder blocks others; a turn is far shorter.
    """

    def __init__(self, client: aioredis.Redis, timeout: float = 30.0) -> None:
        self._client = client
        self._timeout = timeout

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        lock = self._client.lock(
            f"orderbot:lock:{name}", timeout=self._timeout, sleep=0.005, blocking_timeout=60
        )
        if not await lock.acquire():
            raise TimeoutError(f"could not lock {name}")
        try:
            yield
        finally:
            with suppress(Exception):
                await lock.release()


class _RedisSubscription:
    def __init__(self, hub: RedisPubSub, topic: str, listener: Listener) -> None:
        self._hub, self._topic, self._listener = hub, topic, listener

    async def close(self) -> None:
        await self._hub._drop(self._topic, self._listener)


class RedisPubSub:
    """One subscriber connection per process; listeners are dispatched locally."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._listeners: dict[str, list[Listener]] = {}
        self._unsubscribed: set[str] = set()  # listened to, but Redis was down to SUBSCRIBE
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, topic: str, data: str) -> int:
        """How many subscribers (processes) Redis handed the message to."""
        return int(await self._client.publish(f"orderbot:{topic}", data))

    async def subscribe(self, topic: str, listener: Listener) -> _RedisSubscription:
        listeners = self._listeners.setdefault(topic, [])
        listeners.append(listener)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        if len(listeners) == 1:
            try:
                await self._pubsub.subscribe(f"orderbot:{topic}")
            except Exception as error:  # Redis down: the reader subscribes once it answers
                log.warning("redis SUBSCRIBE %s failed (%s); made when Redis is back", topic,
                            type(error).__name__)
                self._unsubscribed.add(topic)
        return _RedisSubscription(self, topic, listener)

    async def _drop(self, topic: str, listener: Listener) -> None:
        listeners = self._listeners.get(topic, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners and self._listeners.pop(topic, None) is not None:
            self._unsubscribed.discard(topic)
            with suppress(Exception):
                await self._pubsub.unsubscribe(f"orderbot:{topic}")

    async def _read(self) -> None:
        failing = False
        while True:
            try:
                if self._unsubscribed:
                    topics = sorted(self._unsubscribed)
                    await self._pubsub.subscribe(*(f"orderbot:{t}" for t in topics))
                    self._unsubscribed.difference_update(topics)
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not failing:  # once per outage, not twice a second
                    log.warning("redis pub/sub read failed (%s); retrying until Redis answers",
                                type(error).__name__)
                failing = True
                await asyncio.sleep(0.5)
                continue
            if failing:
                log.warning("redis pub/sub reading again")
                failing = False
            if message is None or message.get("type") != "message":
                continue
            topic = str(message["channel"]).removeprefix("orderbot:")
            await deliver(self._listeners.get(topic, ()), message["data"])

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
        with suppress(Exception):
            await self._pubsub.aclose()


# One failure, atomically: count it in its window; at the limit, lock the key for the lockout
# doubled per earlier lockout of the day. KEYS: count, strikes, lock. ARGV: failures, window
# ms, lockout ms, strikes ms. Returns the lockout in ms, 0 when not locked.
_FAILED = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if count < tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
local strikes = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local ms = math.floor(math.min(tonumber(ARGV[3]) * 2 ^ (strikes - 1), tonumber(ARGV[4])))
redis.call('SET', KEYS[3], '1', 'PX', ms)
return ms
"""


class RedisAttempts:
    """coordination.base.Attempts in Redis: every process counts the same failures."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._failed = client.register_script(_FAILED)

    async def failed(self, key: str, failures: int, window: float, lockout: float) -> float | None:
        ms = int(await self._failed(
            keys=[_attempts(key, "count"), _attempts(key, "strikes"), _attempts(key, "lock")],
            args=[failures, int(window * 1000), int(lockout * 1000), int(STRIKES_SECONDS * 1000)],
        ))
        return ms / 1000 if ms > 0 else None

    async def locked(self, key: str) -> float | None:
        ms = int(await self._client.pttl(_attempts(key, "lock")))
        return ms / 1000 if ms > 0 else None

    async def cleared(self, key: str) -> None:
        await self._client.delete(_attempts(key, "count"))


def _attempts(key: str, part: str) -> str:
    return f"orderbot:attempts:{key}:{part}"
