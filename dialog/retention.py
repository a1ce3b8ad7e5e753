"""[shop] transcript_retention_days: chat transcripts older than that are deleted once a day.

A due job (scheduling/jobs.py) keyed by the day runs it, so with several bot processes it
runs exactly once a day; each run plans the next day's. 0 days keeps transcripts for ever.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialog.erasure import delete_old_transcripts
from orders.models import utcnow
from scheduling.jobs import Clock, JobRunner, schedule

log = logging.getLogger(__name__)

KIND = "transcript_retention"


class TranscriptRetention:
    def __init__(self, days: int, clock: Clock = utcnow) -> None:
        self._days = days
        self._clock = clock

    def register(self, runner: JobRunner) -> None:
        runner.register(KIND, self.run)

    async def plan(self, session: AsyncSession, at: datetime | None = None) -> None:
        """Plan the day's run (a no-op when this or another process planned it already)."""
        if self._days > 0:
            at = at or self._clock()
            await schedule(session, KIND, f"{KIND}:{at.date().isoformat()}", at, {})

    async def run(self, session: AsyncSession, payload: dict[str, Any]) -> None:
        if self._days <= 0:
            return  # switched off since the job was planned
        now = self._clock()
        deleted = await delete_old_transcripts(session, now - timedelta(days=self._days))
        log.info("transcript retention: %d lines older than %d days deleted", deleted,
                 self._days)
        await self.plan(session, now + timedelta(days=1))
