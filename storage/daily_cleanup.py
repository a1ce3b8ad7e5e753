"""A daily clean-up of rows older than N days (transcripts, delivered webhooks), as a due job.

The job is keyed by its kind and the day, so with several bot processes it runs exactly once a
day; each run plans the next day's. 0 days switches it off (everything is kept).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import utcnow
from storage.jobs import Clock, JobRunner, schedule

log = logging.getLogger(__name__)

# (session, delete what is older than this) -> how many went
Cleaner = Callable[[AsyncSession, datetime], Awaitable[int]]


class DailyCleanup:
    def __init__(self, kind: str, days: int, clean: Cleaner, what: str,
                 clock: Clock = utcnow) -> None:
        self.kind = kind
        self._days = days
        self._clean = clean
        self._what = what  # for the log line
        self._clock = clock

    def register(self, runner: JobRunner) -> None:
        runner.register(self.kind, self.run)

    async def plan(self, session: AsyncSession, at: datetime | None = None) -> None:
        """Plan the day's run (a no-op when this or another process planned it already)."""
        if self._days > 0:
            at = at or self._clock()
            await schedule(session, self.kind, f"{self.kind}:{at.date().isoformat()}", at, {})

    async def run(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        if self._days <= 0:
            return  # switched off since the job was planned
        now = self._clock()
        deleted = await self._clean(session, now - timedelta(days=self._days))
        log.info("%s: %d %s older than %d days deleted", self.kind, deleted, self._what,
                 self._days)
        await self.plan(session, now + timedelta(days=1))
