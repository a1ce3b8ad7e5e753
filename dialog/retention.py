"""[shop] transcript_retention_days: chat transcripts older than that are deleted once a day
(storage/daily_cleanup.py). 0 days keeps transcripts for ever."""

from __future__ import annotations

from dialog.erasure import delete_old_transcripts
from storage.clock import utcnow
from storage.daily_cleanup import DailyCleanup
from storage.jobs import Clock

KIND = "transcript_retention"


class TranscriptRetention(DailyCleanup):
    def __init__(self, days: int, clock: Clock = utcnow) -> None:
        super().__init__(KIND, days, delete_old_transcripts, "transcript lines", clock)
