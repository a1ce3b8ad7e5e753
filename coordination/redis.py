"""Redis locks, pub/sub and failed-attempt counts, for several bot processes sharing one
Redis."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import redis.asyncio as aioredis

from coordination.base import Listener
from coordination.batch import RedisBatch, ignore_failure
from coordination.memory import deliver

log = logging.getLogger(__name__)


# Take the lock if free (its value: this hold's random id, expiring after the lease), and
# give the hold a fencing token: Redis's clock in microseconds, above the name's last token.
# The clock keeps tokens growing when the last-token key is gone (Redis restarted empty, key
# expired), so a conversation's stored fence never refuses every later holder.
# KEYS: lock, last token. ARGV: hold id, lease ms, last token's lifetime ms. 0: lock taken.
_ACQUIRE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local now = redis.call('TIME')
local token = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if token <= last then token = last + 1 end
redis.call('SET', KEYS[2], string.format('%d', token), 'PX', ARGV[3])
return token
"""
# Renew (ARGV[2] = lease ms) or release (ARGV[2] = 0) the lock if this hold still has it.
_KEEP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""
LEASE_SECONDS = 5.0
RENEWALS_PER_LEASE = 3  # a renewal may fail or be late twice before the lease runs out
LAST_TOKEN_SECONDS = 86400.0
WAIT_SECONDS = 60.0  # a hold waited for longer than this is an error (a turn is far shorter)
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.05


class RedisLocks:
    """Per-conversation leases: held for `lease` seconds and renewed while the block runs, so
    that the lock of a process that died (kill -9) frees within a lease, not at a long
    timeout. A process frozen past its lease (SIGSTOP, a stalled VM) loses the lock to the
    next holder; its fencing token, older than the new holder's, is refused where the turn
    writes (dialog/store.py), so it cannot write over the newer turn.

    A hold costs one round trip of its own at most: the lock is taken in the pipeline of
    whatever else this process sends at that moment (coordination/batch.py), released without
    waiting (in the next pipeline), and renewed only by a hold that outlasts a third of its
    lease (a timer, not a task per hold). Conversations no longer take it: their lock across
    processes is their database row (dialog/unit_of_work.py ROW_LOCK); the named locks do.
    """

    def __init__(self, client: aioredis.Redis, lease: float = LEASE_SECONDS,
                 batch: RedisBatch | None = None) -> None:
        self._client = client
        self._batch = batch or RedisBatch(client)
        self._lease_ms = max(1, int(lease * 1000))
        self._acquire = client.register_script(_ACQUIRE)
        self._keep = client.register_script(_KEEP)

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[int]:
        key = f"orderbot:lock:{name}"
        holder = uuid.uuid4().hex
        token = await self._take(key, f"orderbot:fence:{name}", holder)
        lease = _Lease(self, key, holder)
        try:
            yield token
        finally:
            lease.stop()
            self._release(key, holder)

    def _release(self, key: str, holder: str) -> None:
        # Not awaited: if it is lost (Redis away), the lock frees when its lease runs out.
        self._batch.script(self._keep, [key], [holder, 0]).add_done_callback(ignore_failure)

    async def _take(self, key: str, last_token: str, holder: str) -> int:
        deadline = time.monotonic() + WAIT_SECONDS
        poll = FIRST_POLL_SECONDS
        while True:
            taking = self._batch.script(
                self._acquire, [key, last_token],
                [holder, self._lease_ms, int(LAST_TOKEN_SECONDS * 1000)])
            try:
                token = int(await asyncio.shield(taking))
            except asyncio.CancelledError:
                # The script may still run: a lock taken for no one is given back.
                taking.add_done_callback(lambda done: self._release_taken(done, key, holder))
                raise
            if token:
                return token
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not lock {key}")
            await asyncio.sleep(poll)
            poll = min(poll * 2, MAX_POLL_SECONDS)

    def _release_taken(self, taking: asyncio.Future[Any], key: str, holder: str) -> None:
        if not taking.cancelled() and taking.exception() is None and taking.result():
            self._release(key, holder)

    def _renew(self, lease: _Lease) -> asyncio.Future[Any]:
        return self._batch.script(self._keep, [lease.key], [lease.holder, self._lease_ms])

    @property
    def renew_every(self) -> float:
        return self._lease_ms / 1000 / RENEWALS_PER_LEASE


class _Lease:
    """The renewals of one hold: a timer every third of the lease; a renewal is sent only
    when it fires, i.e. for a turn that lasts that long."""

    def __init__(self, locks: RedisLocks, key: str, holder: str) -> None:
        self.key, self.holder = key, holder
        self._locks = locks
        self._stopped = False
        self._timer = asyncio.get_running_loop().call_later(locks.renew_every, self._renew)

    def stop(self) -> None:
        self._stopped = True
        self._timer.cancel()

    def _renew(self) -> None:
        if self._stopped:
            return
        self._locks._renew(self).add_done_callback(self._renewed)
        self._timer = asyncio.get_running_loop().call_later(
            self._locks.renew_every, self._renew)

    def _renewed(self, renewal: asyncio.Future[Any]) -> None:
        if renewal.cancelled() or self._stopped:
            return
        error = renewal.exception()
        if error is not None:  # Redis away: the fence still guards the commit
            log.warning("could not renew the lease %s (%s)", self.key, type(error).__name__)
        elif not renewal.result():
            log.warning("lost the lease %s (this process was stalled past it); the turn's"
                        " write will be refused by its fence", self.key)
            self.stop()


def _position(entry_id: str) -> tuple[int, int]:
    """A stream entry's id ("<ms>-<seq>") as numbers, in the stream's order."""
    ms, _, seq = str(entry_id).partition("-")
    return int(ms), int(seq or 0)


class _RedisSubscription:
    def __init__(self, hub: RedisPubSub, topic: str, listener: Listener) -> None:
        self._hub, self._topic, self._listener = hub, topic, listener

    async def close(self) -> None:
        self._hub._drop(self._topic, self._listener)


STREAM = "orderbot:events"
RETENTION_SECONDS = 300.0  # what a process away from Redis this long still catches up on
READ_BLOCK_MS = 1000
READ_COUNT = 500
# After a read that found entries, by the reader or along an append, the reader waits until
# none has for this long before it reads again: what other processes append meanwhile comes
# with this process's next append, or in one read of the reader's, not a wake each. This
# process's own entries do not wait: they come back with their appends (RedisPubSub._append).
READ_GATHER_SECONDS = 0.02
MAX_DEFERRED = 10_000  # published while Redis was down, sent once it answers again


class RedisPubSub:
    """Every process appends to one Redis stream and reads it from its own last id.

    Unlike PUBLISH/SUBSCRIBE, nothing published while a process's reader is away (Redis
    restarting, its connection re-made) is lost to it: the reader goes on from the last entry
    it delivered and catches up on every entry of the last RETENTION_SECONDS. Listeners are
    dispatched locally by topic. What this process published while Redis was down (and gave
    its own listeners directly) is appended once Redis answers, so that the other processes
    get it too; marked as this process's, its own reader skips it.

    An append is followed, in the same pipeline, by a read from this process's last id: its
    own entry, and whatever the others appended before it, are delivered as the append
    returns, in the stream's order, without a round trip or a wake of their own. The reader,
    for what other processes append while this one appends nothing, reads once no read has
    found entries for READ_GATHER_SECONDS: a busy process's appends read for it. Every entry
    is delivered once, in order, whichever of the two reads it first.
    """

    def __init__(self, client: aioredis.Redis, clock: Callable[[], float] = time.time,
                 batch: RedisBatch | None = None) -> None:
        self._client = client
        self._batch = batch or RedisBatch(client)
        self._clock = clock
        self._origin = secrets.token_hex(8)
        self._listeners: dict[str, list[Listener]] = {}
        self._last_id: str | None = None  # of the last entry delivered (or skipped)
        self._position = (0, 0)  # the same, as numbers, to compare
        self._undelivered: deque[tuple[str, str]] = deque()  # read, in order, not delivered
        self._delivering = False
        self._reader: asyncio.Task[None] | None = None
        self._deferred: deque[tuple[str, str]] = deque(maxlen=MAX_DEFERRED)
        self._appending = asyncio.Lock()  # the deferred entries go first: order is kept
        # Reading from the stream's end at start leaves nothing to catch up on; only a failed
        # read (Redis away) makes the reader behind until it has read everything again.
        self._caught_up = True
        self._found_at = 0.0  # loop time of the last read, either, that found entries
        self._closed = False

    @property
    def caught_up(self) -> bool:
        """Whether the reader reads Redis and has delivered everything appended so far, and
        nothing this process published while Redis was down still waits (GET /health)."""
        if self._deferred:
            return False
        return self._reader is None or self._caught_up

    async def publish(self, topic: str, data: str) -> None:
        """Appended to the stream (raises while Redis is down: see defer)."""
        if not self._deferred and not self._appending.locked():
            # Nothing waits to go first: queued at once, so that the replies of many turns
            # share a pipeline instead of taking turns.
            await self._append(topic, data)
            return
        async with self._appending:
            await self._flush_deferred()
            await self._append(topic, data)

    def defer(self, topic: str, data: str) -> None:
        """Published while Redis was down (and given to this process's listeners): appended
        for the other processes once Redis answers."""
        self._deferred.append((topic, data))
        self._start_reader()

    async def subscribe(self, topic: str, listener: Listener) -> _RedisSubscription:
        if self._last_id is None:
            self._move_to(await self._stream_end())
        self._listeners.setdefault(topic, []).append(listener)
        self._start_reader()
        return _RedisSubscription(self, topic, listener)

    def _drop(self, topic: str, listener: Listener) -> None:
        listeners = self._listeners.get(topic, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(topic, None)

    def _start_reader(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())

    async def _append(self, topic: str, data: str, origin: str = "") -> None:
        # Trimmed by age (approximately, which is cheap): entries older than the retention.
        oldest = int((self._clock() - RETENTION_SECONDS) * 1000)
        # In the pipeline of whatever else this process sends at the moment (a lockout read).
        added = self._batch.command("XADD", STREAM, "MINID", "~", oldest, "*",
                                    "topic", topic, "data", data, "origin", origin)
        if self._last_id is None:  # nothing subscribed: nothing to read back
            await added
            return
        along = self._batch.last("read along", self._read_along)
        try:
            await added
        except BaseException:
            along.add_done_callback(ignore_failure)  # failed with it
            raise
        try:
            read: Any = await along
        except Exception:  # noqa: BLE001 (the reader reads it, and notices an outage)
            return
        entries = read[0][1] if read else []
        self._found_at = asyncio.get_running_loop().time()  # its own entry at least
        await self._deliver(entries)
        # Redis read, and everything up to this entry delivered: caught up as the reader's
        # own read would say (GET /health), without waiting for the reader's next read.
        self._caught_up = len(entries) < READ_COUNT

    def _read_along(self) -> tuple[Any, ...]:
        return ("XREAD", "COUNT", READ_COUNT, "STREAMS", STREAM, self._last_id)

    async def _deliver(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        """The entries not delivered yet given to the listeners, in the stream's order: queued
        at once, and delivered by whoever is not already delivering (a listener that publishes
        has its entry delivered after its own, by the delivery it runs in)."""
        for entry_id, fields in entries:
            position = _position(entry_id)
            if position <= self._position:
                continue  # read by the other read first
            self._last_id, self._position = str(entry_id), position
            if fields.get("origin") == self._origin:
                continue  # given to this process's listeners when it was published
            self._undelivered.append((str(fields.get("topic", "")), str(fields.get("data", ""))))
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._undelivered:
                topic, data = self._undelivered.popleft()
                await deliver(self._listeners.get(topic, ()), data)
        finally:
            self._delivering = False

    def _move_to(self, last_id: str) -> None:
        self._last_id, self._position = last_id, _position(last_id)

    async def _flush_deferred(self) -> None:
        while self._deferred:
            topic, data = self._deferred[0]
            await self._append(topic, data, origin=self._origin)
            self._deferred.popleft()

    async def _stream_end(self) -> str:
        """Where this process starts reading: after the stream's last entry, or (Redis down)
        after entries added from now on."""
        try:
            last: Any = await self._client.xrevrange(STREAM, count=1)
        except Exception as error:  # Redis down: its clock, as ours, numbers new entries
            log.warning("redis stream position unknown (%s); reading from now on",
                        type(error).__name__)
            return f"{int(self._clock() * 1000)}-0"
        return str(last[0][0]) if last else "0-0"

    async def _read(self) -> None:
        failing = False
        # Also a flag: a cancellation met inside redis-py may come out as a connection error.
        while not self._closed:
            try:
                if self._last_id is None:
                    self._move_to(await self._stream_end())
                if self._deferred:
                    async with self._appending:
                        await self._flush_deferred()
                read: Any = await self._client.xread(
                    {STREAM: self._last_id or "0-0"}, count=READ_COUNT, block=READ_BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._caught_up = False
                if not failing:  # once per outage, not twice a second
                    log.warning("redis stream read failed (%s); retrying until Redis answers",
                                type(error).__name__)
                failing = True
                await asyncio.sleep(0.5)
                continue
            if failing:
                log.warning("redis stream reading again, from %s", self._last_id)
                failing = False
            entries: list[tuple[str, dict[str, str]]] = read[0][1] if read else []
            if entries:
                self._found_at = asyncio.get_running_loop().time()
            await self._deliver(entries)
            self._caught_up = len(entries) < READ_COUNT
            await self._gather()

    async def _gather(self) -> None:
        """Wait while reads find entries (this process's appends read along), until none has
        for READ_GATHER_SECONDS, or the reads fell behind."""
        loop = asyncio.get_running_loop()
        while self._caught_up and not self._closed:
            wait = self._found_at + READ_GATHER_SECONDS - loop.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
        self._listeners.clear()
