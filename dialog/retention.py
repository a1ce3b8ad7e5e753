"""[shop] transcript_retention_days: chat transcripts older than that are deleted once a day
(storage/daily_cleanup.py). 0 days keeps transcripts for ever."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialog.unit_of_work import Repositories
from storage.clock import utcnow
from storage.daily_cleanup import DailyCleanup
from storage.jobs import Clock

KIND = "transcript_retention"


class TranscriptRetention(DailyCleanup):
    """join: the repositories of the job's transaction (a session: storage's jobs know no
    unit of work; composition/ wires the SQL ones)."""

    def __init__(
        self, days: int, join: Callable[[Any], Repositories], clock: Clock = utcnow
    ) -> None:
        super().__init__(
            KIND, days,
            lambda session, before: join(session).erasures.delete_transcripts_before(before),
            "transcript lines", clock)
