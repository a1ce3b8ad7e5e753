"""WebhookSender: POSTs the committed webhook rows to the shop, signed, at least once.

- A row is claimed with a lease (owner and expiry) in one conditional UPDATE, so that two
  bot processes on one database never send it at once; a process that dies mid-send leaves
  a lease that runs out, and then another process (or its own restart) takes the row.
- Only the first undelivered row of each ordering key (an order, a conversation, a customer)
  is ever claimed: an order's webhooks arrive in the order they happened; rows of different
  keys go concurrently, at most `concurrency` at a time per process.
- 2xx = delivered. Anything else (a status, a timeout, a refused connection) is retried with
  exponential backoff and jitter, the first retry within 30 s, then at most an hour apart,
  until the row's retry_until; a failure after that marks it failed (an admin may send it
  again from the console).
- Woken after each commit that recorded rows, and every `poll_seconds` for due retries and
  rows whose lease ran out. A clean stop waits for nothing: unsent rows stay for the next
  start.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import httpx
from sqlalchemy import ColumnElement, func, or_, select, update
from standardwebhooks.webhooks import Webhook

from dialog import crashpoints
from shop_api.tables import WebhookDelivery as Row
from storage.clock import utcnow
from storage.database import Database

log = logging.getLogger(__name__)

STOP_RETRY_SECONDS = 1.0

FIRST_BACKOFF_SECONDS = 10.0  # the first retry after 5-10 s (jitter: half to all of it)
MAX_BACKOFF_SECONDS = 3600.0
POLL_SECONDS = 3.0
CONCURRENCY = 8
MAX_ERROR_CHARS = 500


class WebhookMetrics(Protocol):
    def webhook_delivered(self) -> None: ...
    def webhook_retried(self) -> None: ...
    def webhook_failed(self) -> None: ...


class _NoMetrics:
    def webhook_delivered(self) -> None:
        pass

    def webhook_retried(self) -> None:
        pass

    def webhook_failed(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    webhook_id: str
    body: str
    attempts: int
    retry_until: datetime


def backoff(attempts: int, first: float, most: float) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling, with jitter
    (half to all of it) so that many rows failed at once do not come back at once."""
    ceiling = min(most, first * 2.0 ** max(attempts - 1, 0))
    return ceiling * random.uniform(0.5, 1.0)


def _pending() -> list[ColumnElement[bool]]:
    return [Row.delivered_at.is_(None), Row.failed_at.is_(None)]


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(Row.lease_until.is_(None), Row.lease_until < now)


class WebhookSender:
    def __init__(
        self, database: Database, url: str, secret: str, *, owner: str,
        timeout_seconds: float = 10.0, concurrency: int = CONCURRENCY,
        poll_seconds: float = POLL_SECONDS, clock: Callable[[], datetime] = utcnow,
        metrics: WebhookMetrics | None = None,
    ) -> None:
        self.url = url
        self.owner = owner
        self.timeout_seconds = timeout_seconds
        # Public so that tests can shorten them without settings.
        self.first_backoff = FIRST_BACKOFF_SECONDS
        self.max_backoff = MAX_BACKOFF_SECONDS
        self.poll_seconds = poll_seconds
        self.clock = clock
        # A send holds its lease this long: past the request's timeout, with room to record
        # the answer; a row still leased after that belonged to a process that died.
        self.lease_seconds = timeout_seconds * 2 + 30
        self._database = database
        self._signer = Webhook(secret)
        self._concurrency = concurrency
        self._metrics = metrics or _NoMetrics()
        self._wakeup = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """New rows are committed (or a retry is due): look now rather than at the next poll."""
        self._wakeup.set()

    async def start(self) -> None:
        """Start sending; rows this process held when it last stopped (or died: a restart
        has the same [process] name) are free again at once."""
        await self._release_leases()
        self._client = httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False)
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        """Stop sending; a row cut off mid-send keeps its lease until it runs out, then is
        sent again (at least once: the shop dedupes by webhook-id)."""
        tasks = {task for task in (self._task, *self._in_flight) if task is not None}
        # Cancel until each has ended: a cancel that lands as an HTTP read completes can be
        # swallowed by the library doing the read (as in dialog/outbox.py).
        while tasks:
            for task in tasks:
                task.cancel()
            _, tasks = await asyncio.wait(tasks, timeout=STOP_RETRY_SECONDS)
        self._task = None
        self._in_flight.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await self._release_leases()

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: try again at the next poll
                log.warning("webhooks: could not claim rows; retrying", exc_info=True)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the inner
            # result when a wake-up and stop()'s cancel land together, and the cancel is
            # lost (stop() then waited forever).
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    async def send_due(self) -> int:
        """Claim what is due (as many as there are free slots) and start sending it."""
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        claimed = await self._claim(free)
        for row in claimed:
            task = asyncio.create_task(self._send(row), name=f"webhook-{row.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self.wake()  # the next row of its key may go now, and a slot is free

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self.clock()
        heads = select(func.min(Row.id)).where(*_pending()).group_by(Row.ordering_key)
        async with self._database.transaction() as session:
            ids = list(await session.scalars(
                select(Row.id).where(Row.id.in_(heads), Row.next_attempt_at <= now,
                                     _lease_free(now))
                .order_by(Row.id).limit(limit)))
            if not ids:
                return []
            # The conditions again, in the UPDATE itself: of two processes that chose the
            # same row, one gets it.
            rows = await session.execute(
                update(Row).where(Row.id.in_(ids), *_pending(), _lease_free(now))
                .values(lease_owner=self.owner,
                        lease_until=now + timedelta(seconds=self.lease_seconds))
                .returning(Row.id, Row.webhook_id, Row.body, Row.attempts, Row.retry_until))
            return sorted((_Claimed(*row) for row in rows), key=lambda row: row.id)

    async def _send(self, row: _Claimed) -> None:
        status_code, error = await self._post(row)
        if error is None:
            crashpoints.reached("webhook_sent")  # a test hook, off in production
        now = self.clock()
        mine = [Row.id == row.id, Row.lease_owner == self.owner]
        done = {"attempts": Row.attempts + 1, "last_attempt_at": now,
                "last_status_code": status_code, "lease_owner": None, "lease_until": None}
        if status_code is not None and 200 <= status_code < 300:
            values = {**done, "delivered_at": now, "last_error": None}
            self._metrics.webhook_delivered()
        elif now >= row.retry_until:
            values = {**done, "failed_at": now, "last_error": error}
            self._metrics.webhook_failed()
            log.warning("webhook %s failed after %d attempts (%s)", row.webhook_id,
                        row.attempts + 1, error)
        else:
            delay = backoff(row.attempts + 1, self.first_backoff, self.max_backoff)
            due = min(now + timedelta(seconds=delay), row.retry_until)
            values = {**done, "next_attempt_at": due, "last_error": error}
            self._metrics.webhook_retried()
            asyncio.get_running_loop().call_later(
                max((due - now).total_seconds(), 0.0), self.wake)
        try:
            async with self._database.transaction() as session:
                await session.execute(update(Row).where(*mine).values(**values))
        except Exception:  # the lease runs out and the row is sent again: at least once
            log.warning("webhook %s: its outcome was not recorded", row.webhook_id,
                        exc_info=True)

    async def _post(self, row: _Claimed) -> tuple[int | None, str | None]:
        """(status code, error): the shop's answer, or (None, why) when there was none."""
        assert self._client is not None
        body = row.body.encode()
        sent_at = utcnow()  # the wall clock, always: the shop checks it against its own
        headers = {
            "content-type": "application/json",
            "webhook-id": row.webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(row.webhook_id, sent_at, body),
        }
        try:
            answer = await self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return None, f"no answer within {self.timeout_seconds:g} s"
        except httpx.HTTPError as failed:
            return None, f"{type(failed).__name__}: {failed}"[:MAX_ERROR_CHARS] or "failed"
        if 200 <= answer.status_code < 300:
            return answer.status_code, None
        return answer.status_code, f"HTTP {answer.status_code}: {answer.text[:200]}"[
            :MAX_ERROR_CHARS]

    async def _release_leases(self) -> None:
        """A clean stop: this process's rows may go at once, from here or another process."""
        try:
            async with self._database.transaction() as session:
                await session.execute(
                    update(Row).where(Row.lease_owner == self.owner, *_pending())
                    .values(lease_owner=None, lease_until=None))
        except Exception:
            log.warning("webhooks: leases not released; they run out in %ss",
                        self.lease_seconds)
