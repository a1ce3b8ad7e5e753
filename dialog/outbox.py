"""Delivers committed outbox rows through their channels, in order per channel, with retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Protocol

from dialog.messages import Delivery, DeliveryFailed
from dialog.store import ConversationStore
from orders.database import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 60.0


class Deliverer(Protocol):
    async def send(self, delivery: Delivery) -> None: ...


class OutboxSender:
    """One queue and worker per channel; rows are marked sent in batches."""

    def __init__(
        self, database: Database, store: ConversationStore, channels: Mapping[str, Deliverer]
    ) -> None:
        self._database = database
        self._store = store
        self._channels = dict(channels)
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._workers: list[asyncio.Task[None]] = []

    def add_channel(self, name: str, channel: Deliverer) -> None:
        self._channels[name] = channel

    async def start(self) -> None:
        for name in self._channels:
            self._queues[name] = asyncio.Queue()
            self._workers.append(asyncio.create_task(self._work(name), name=f"outbox-{name}"))
        async with self._database.transaction() as session:
            self.enqueue(await self._store.unsent(session))

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with suppress(asyncio.CancelledError):
                await worker
        self._workers.clear()

    async def drain(self) -> None:
        """Wait until everything queued so far is delivered (or given up) and recorded."""
        await asyncio.gather(*(queue.join() for queue in self._queues.values()))

    def enqueue(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            queue = self._queues.get(delivery.outbound.key.channel)
            if queue is None:
                log.warning("no channel %s for outbox row %s", delivery.outbound.key.channel,
                            delivery.outbox_id)
                continue
            queue.put_nowait(delivery)

    async def _work(self, name: str) -> None:
        queue = self._queues[name]
        channel = self._channels[name]
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            sent: list[int] = []
            for delivery in batch:
                if await self._deliver(channel, delivery):
                    sent.append(delivery.outbox_id)
            try:
                async with self._database.transaction() as session:
                    await self._store.mark_sent(session, sent)
            except Exception:
                # Delivered but not marked: re-sent after a restart at worst (at least once).
                log.exception("could not mark %d outbox rows sent", len(sent))
            finally:
                for _ in batch:
                    queue.task_done()

    async def _deliver(self, channel: Deliverer, delivery: Delivery) -> bool:
        backoff = 1.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                await channel.send(delivery)
                return True
            except DeliveryFailed as failure:
                if failure.permanent or attempt == MAX_ATTEMPTS:
                    await self._give_up(delivery, str(failure))
                    return False
                wait = failure.retry_after if failure.retry_after is not None else backoff
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                log.info("delivery of outbox row %s failed, retry in %.1fs",
                         delivery.outbox_id, wait)
                await asyncio.sleep(wait)
            except Exception as error:
                log.exception("channel failed on outbox row %s", delivery.outbox_id)
                await self._give_up(delivery, repr(error))
                return False
        return False

    async def _give_up(self, delivery: Delivery, reason: str) -> None:
        log.error("outbox row %s not delivered: %s", delivery.outbox_id, reason)
        async with self._database.transaction() as session:
            await self._store.mark_failed(session, delivery.outbox_id, reason)
            # A person must see that the customer did not get our answer.
            await self._store.escalate(session, delivery.outbound.key, "delivery_failed")
