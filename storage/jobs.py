"""Durable due jobs: reminders and follow-ups that must run once, also across restarts and
with several bot processes.

A job is a row (kind, unique key, due time, payload) written in the same transaction as the
change that called for it, so it exists exactly when that change does. The runner takes a
due job by marking it done inside the transaction that runs its handler: the handler's
writes and the mark commit together, and a second process racing for the same job finds it
done (PostgreSQL waits on the row; SQLite serialises writers). A handler that raises is rolled
back and tried again later with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import utcnow
from storage.database import Database, insert_unless_exists
from storage.tables import Job

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
Clock = Callable[[], datetime]

BATCH = 100
MAX_BACKOFF = timedelta(hours=1)




Index("ix_jobs_due", Job.done_at, Job.due_at)


async def schedule(
    session: AsyncSession, kind: str, key: str, due_at: datetime, payload: dict[str, Any]
) -> bool:
    """Add a job in the caller's transaction; False if a job with this key exists already."""
    values = {"kind": kind, "key": key, "due_at": due_at, "payload": payload,
              "attempts": 0, "created_at": utcnow()}
    return await insert_unless_exists(session, Job.__table__, values, "key") is not None


async def cancel(session: AsyncSession, key_prefix: str) -> int:
    """Drop the jobs not yet run whose key starts with key_prefix; how many were dropped."""
    result = await session.execute(
        delete(Job).where(Job.key.startswith(key_prefix, autoescape=True), Job.done_at.is_(None))
    )
    return int(getattr(result, "rowcount", 0) or 0)


class JobRunner:
    """Runs due jobs: every `interval` seconds in the background, or when asked (tests)."""

    def __init__(self, database: Database, clock: Clock = utcnow, interval: float = 5.0) -> None:
        self._database = database
        self._clock = clock
        self._interval = interval
        self._handlers: dict[str, Handler] = {}
        self._task: asyncio.Task[None] | None = None

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_due(self, now: datetime | None = None) -> int:
        """Run every job due by `now`; how many ran to completion."""
        now = now or self._clock()
        async with self._database.transaction() as session:
            due = list(await session.scalars(
                select(Job.id).where(Job.done_at.is_(None), Job.due_at <= now)
                .order_by(Job.due_at, Job.id).limit(BATCH)
            ))
        done = 0
        for job_id in due:
            done += await self._run(job_id, now)
        return done

    async def _run(self, job_id: int, now: datetime) -> int:
        try:
            async with self._database.transaction() as session:
                taken = await session.execute(
                    update(Job).where(Job.id == job_id, Job.done_at.is_(None)).values(done_at=now)
                )
                if not getattr(taken, "rowcount", 0):
                    return 0  # another process ran it
                job = await session.get(Job, job_id)
                assert job is not None
                handler = self._handlers.get(job.kind)
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                await handler(session, dict(job.payload or {}))
            return 1
        except Exception as error:
            log.exception("job %s failed", job_id)
            await self._retry_later(job_id, now, error)
            return 0

    async def _retry_later(self, job_id: int, now: datetime, error: Exception) -> None:
        async with self._database.transaction() as session:
            job = await session.get(Job, job_id)
            if job is None:
                return
            job.attempts += 1
            job.last_error = repr(error)[:500]
            job.due_at = now + min(timedelta(seconds=30 * 2 ** job.attempts), MAX_BACKOFF)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:  # the database may be down for a moment: try again next round
                log.exception("running due jobs failed")
            await asyncio.sleep(self._interval)
