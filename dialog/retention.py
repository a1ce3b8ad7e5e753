"""[shop] transcript_retention_days: chat transcripts older than that are deleted once a day
(scheduling/daily_cleanup.py). 0 days keeps transcripts for ever."""

from __future__ import annotations

from dialog.erasure import delete_old_transcripts
from orders.models import utcnow
from scheduling.daily_cleanup import DailyCleanup
from scheduling.jobs import Clock

KIND = "transcript_retention"


class TranscriptRetention(DailyCleanup):
    def __init__(self, days: int, clock: Clock = utcnow) -> None:
        super().__init__(KIND, days, delete_old_transcripts, "transcript lines", clock)
