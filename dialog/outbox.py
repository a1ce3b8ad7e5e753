"""Delivers committed outbox rows through their channels, in order per conversation (also
across processes), with retries."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from dialog import crashpoints
from dialog.messages import ConversationKey, Delivery, DeliveryFailed
from dialog.metrics import Metrics, NoMetrics
from dialog.send_checks import SendChecks
from dialog.store import ConversationStore
from dialog.unit_of_work import SendCheck, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
STOP_RETRY_SECONDS = 1.0
MARK_BATCH = 500  # rows marked sent in one statement
# The rows delivered while the first of them waits this long are marked sent together: at a
# few hundred replies a second one statement marks several instead of one each. A reply
# delivered meanwhile goes out at once; only the next one of the same conversation waits.
MARK_GATHER_SECONDS = 0.02
# A reply held back by an earlier one of its conversation that another process is to send
# looks again after this pause, doubling up to the last (one indexed read each time).
FIRST_HOLD_SECONDS = 0.05
MAX_HOLD_SECONDS = 1.0
# An earlier reply this old holds no later one back any more (bootstrap passes twice
# takeover_seconds: its takeover and send fit well within that).
HOLD_AT_MOST_SECONDS = 12.0


class _Outcome(Enum):
    SENT = "sent"
    DROPPED = "dropped"  # given up, or another process's now
    HELD = "held"  # an earlier reply of the conversation must leave first


class Deliverer(Protocol):
    async def send(self, delivery: Delivery) -> None: ...


class OutboxSender:
    """One queue and worker per conversation while it has replies to send: replies to one
    customer leave in order, one at a time, and a platform that makes one chat wait (429,
    pacing) holds back only that chat. Rows are marked sent in batches, those of many
    conversations in one transaction (_SentMarks)."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        store: ConversationStore,
        channels: Mapping[str, Deliverer],
        *,
        max_attempts: int = MAX_ATTEMPTS,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        metrics: Metrics | None = None,
        check_owner: bool = False,
        hold_at_most: float = HOLD_AT_MOST_SECONDS,
        statement_units: UnitOfWorkFactory | None = None,
        rows_surely_own: Callable[[datetime], bool] | None = None,
    ) -> None:
        # The retry policy is public so that tests can shorten it without settings; a
        # platform's own wait (retry_after, Retry-After) is always honoured as given.
        self.max_attempts = max_attempts
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._units = units
        self._metrics = metrics or NoMetrics()
        self._store = store
        self._channels = dict(channels)
        self._queues: dict[ConversationKey, _Replies] = {}
        self._workers: set[asyncio.Task[None]] = set()
        # The sent marks and the send checks are one statement each (a batch's marks, a
        # batch's checks): `statement_units`, where each statement commits alone, spare them
        # a transaction block (on PostgreSQL its BEGIN and COMMIT, two round trips).
        alone = statement_units or units
        self._sent = _SentMarks(alone, store)
        # Several processes: a row is sent only while this process still owns it (a process
        # stalled past takeover_seconds finds its rows taken over, dialog/takeover.py), and
        # only once every earlier reply of its conversation has left, whoever sends it.
        self._checks = (SendChecks(alone, store.owner, timedelta(seconds=hold_at_most))
                        if check_owner and store.owner is not None else None)
        # A reply recorded with no earlier one of its conversation still to go needs no read
        # while this process's rows cannot have been taken over (dialog/takeover.py).
        self._rows_surely_own = rows_surely_own or _never
        self._running = False  # stopped: rows stay in the database for the next start

    def add_channel(self, name: str, channel: Deliverer) -> None:
        self._channels[name] = channel

    async def start(self) -> None:
        """Send what this process committed but had not sent before its last stop."""
        self._running = True
        await self.resume(None, "sent again after a restart")

    async def resume(self, ids: list[int] | None, why: str = "taken over") -> None:
        """Send the unsent rows `ids` (None: all of this process's), e.g. taken over from a
        process that stopped (dialog/takeover.py)."""
        async with self._units() as uow:
            pending = await self._store.unsent(uow, ids)
        # It may have left just before a crash: Telegram and Slack keep no idempotency key (a
        # mail keeps its Message-ID per row, which mail clients thread as one message).
        for delivery in pending:
            log.warning("outbox row %s (%s) %s: a possible duplicate",
                        delivery.outbox_id, delivery.outbound.key.channel, why)
        self.enqueue(pending)

    async def stop(self) -> None:
        self._running = False
        # Cancel until every worker has ended: a cancellation that lands just as a network
        # read completes can be swallowed by the library doing the read (seen with aiosmtplib).
        while self._workers:
            for worker in self._workers:
                worker.cancel()
            await asyncio.wait(self._workers, timeout=STOP_RETRY_SECONDS)
        self._queues.clear()
        if self._checks is not None:
            await self._checks.finish()
        await self._sent.finish()

    async def drain(self) -> None:
        """Wait until everything queued so far is delivered (or given up) and recorded."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    def enqueue(self, deliveries: list[Delivery]) -> None:
        if not self._running:
            return
        for delivery in deliveries:
            key = delivery.outbound.key
            if key.channel not in self._channels:
                log.warning("no channel %s for outbox row %s", key.channel, delivery.outbox_id)
                continue
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = _Replies()
                worker = asyncio.create_task(self._work(key, queue), name=f"outbox-{key}")
                self._workers.add(worker)
                worker.add_done_callback(self._workers.discard)
            queue.put(delivery)

    async def _work(self, key: ConversationKey, queue: _Replies) -> None:
        """Lowest id first (a reply taken over goes before this process's later ones); the
        rows delivered meanwhile are marked sent together."""
        channel = self._channels[key.channel]
        pause = FIRST_HOLD_SECONDS
        try:
            while queue:
                sent: list[int] = []
                held = False
                while (delivery := queue.pop()) is not None:
                    delivered_from = min(sent, default=delivery.outbox_id)
                    outcome = await self._deliver(channel, delivery, delivered_from)
                    if outcome is _Outcome.HELD:
                        queue.put(delivery, wake=False)
                        held = True
                        break
                    if outcome is _Outcome.SENT:
                        sent.append(delivery.outbox_id)
                await self._sent.mark(sent)
                if held:  # released by the other process's send, a takeover, or its age
                    await queue.arrival(pause)
                    pause = min(pause * 2, MAX_HOLD_SECONDS)
                else:
                    pause = FIRST_HOLD_SECONDS
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]

    async def _deliver(self, channel: Deliverer, delivery: Delivery,
                       delivered_from: int) -> _Outcome:
        backoff = self.first_backoff
        for attempt in range(1, self.max_attempts + 1):
            check = await self._may_send(delivery, delivered_from)
            if check is not SendCheck.SEND:
                return _Outcome.HELD if check is SendCheck.WAIT else _Outcome.DROPPED
            try:
                await channel.send(delivery)
                crashpoints.reached("reply_sent")  # a test hook, off in production
                self._metrics.delivered(delivery.outbound.key.channel)
                return _Outcome.SENT
            except DeliveryFailed as failure:
                if failure.permanent or attempt == self.max_attempts:
                    await self._give_up(delivery, str(failure))
                    return _Outcome.DROPPED
                wait = failure.retry_after if failure.retry_after is not None else backoff
                backoff = min(backoff * 2, self.max_backoff)
                log.info("delivery of outbox row %s failed, retry in %.1fs",
                         delivery.outbox_id, wait)
                await asyncio.sleep(wait)
            except Exception as error:
                log.exception("channel failed on outbox row %s", delivery.outbox_id)
                await self._give_up(delivery, repr(error))
                return _Outcome.DROPPED
        return _Outcome.DROPPED

    async def _may_send(self, delivery: Delivery, delivered_from: int) -> SendCheck:
        """Read right before the send: a row another process took over is left to it, and one
        whose conversation has an earlier reply still to go (from another process, or taken
        over and not yet queued here) waits. One indexed read per attempt, shared with the
        checks of the other conversations asked for meanwhile (dialog/send_checks.py); what
        remains is the moment between this read and the platform taking the reply
        (docs/guarantees.md §2). No read for a reply whose turn found nothing of its
        conversation still to go (Delivery.first_in_line) while the heartbeat in force when it
        was recorded is recent enough that no other process can have taken it over since
        (Takeover.rows_surely_own): the read would answer SEND."""
        if self._checks is None or (delivery.first_in_line and self._rows_surely_own(
                datetime.fromisoformat(delivery.at))):
            return SendCheck.SEND
        check = await self._checks.check(delivery.outbox_id, delivered_from)
        if check is SendCheck.NOT_MINE:
            log.warning("outbox row %s was taken over by another process; not sent here",
                        delivery.outbox_id)
        elif check is SendCheck.WAIT:
            log.debug("outbox row %s waits for an earlier reply of its conversation",
                      delivery.outbox_id)
        return check

    async def _give_up(self, delivery: Delivery, reason: str) -> None:
        log.error("outbox row %s not delivered: %s", delivery.outbox_id, reason)
        self._metrics.undeliverable(delivery.outbound.key.channel)
        async with self._units() as uow:
            await self._store.mark_failed(uow, delivery.outbox_id, reason)
            # A person must see that the customer did not get our answer.
            await self._store.escalate(uow, delivery.outbound.key, "delivery_failed")
            await uow.commit()


def _never(since: datetime) -> bool:
    return False


class _SentMarks:
    """Marks delivered rows sent, the rows of every conversation delivered meanwhile in one
    transaction: the first waits MARK_GATHER_SECONDS for others, and while one batch is
    committed the next gathers (a group commit)."""

    def __init__(self, units: UnitOfWorkFactory, store: ConversationStore) -> None:
        self._units = units
        self._store = store
        self._ids: list[int] = []
        self._waiting: list[asyncio.Future[None]] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, outbox_ids: list[int]) -> None:
        """Return once these rows are marked (or the marking failed and was logged)."""
        if not outbox_ids:
            return
        marked = asyncio.get_running_loop().create_future()
        self._ids.extend(outbox_ids)
        self._waiting.append(marked)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="outbox-sent-marks")
        await asyncio.shield(marked)  # a cancelled worker leaves its rows to be marked

    async def finish(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write(self) -> None:
        if len(self._ids) < MARK_BATCH:
            await asyncio.sleep(MARK_GATHER_SECONDS)
        while self._ids:
            ids, self._ids = self._ids, []
            waiting, self._waiting = self._waiting, []
            try:
                async with self._units() as uow:
                    for start in range(0, len(ids), MARK_BATCH):
                        await self._store.mark_sent(uow, ids[start:start + MARK_BATCH])
                    await uow.commit()
            except Exception:
                # Delivered but not marked: re-sent after a restart at worst (at least once).
                log.exception("could not mark %d outbox rows sent", len(ids))
            for future in waiting:
                if not future.done():
                    future.set_result(None)


class _Replies:
    """One conversation's replies to send, lowest outbox id first."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Delivery]] = []
        self._order = itertools.count()  # ties (a row queued twice) never compare Deliveries
        self._arrived = asyncio.Event()

    def __bool__(self) -> bool:
        return bool(self._heap)

    def put(self, delivery: Delivery, *, wake: bool = True) -> None:
        heapq.heappush(self._heap, (delivery.outbox_id, next(self._order), delivery))
        if wake:
            self._arrived.set()

    def pop(self) -> Delivery | None:
        return heapq.heappop(self._heap)[2] if self._heap else None

    async def arrival(self, within: float) -> None:
        """Until another reply is queued here, or `within` seconds."""
        try:
            await asyncio.wait_for(self._arrived.wait(), within)
        except TimeoutError:
            pass
        self._arrived.clear()
