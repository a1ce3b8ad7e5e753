"""[shop] transcript_retention_days: chat transcripts older than that are deleted once a day
(storage/daily_cleanup.py), with the Erasures repository's statement. 0 days keeps
transcripts for ever."""

from __future__ import annotations

from storage.clock import utcnow
from storage.daily_cleanup import DailyCleanup
from storage.jobs import Clock
from storage.repositories.erasure import SqlErasure

KIND = "transcript_retention"


class TranscriptRetention(DailyCleanup):
    def __init__(self, days: int, clock: Clock = utcnow) -> None:
        super().__init__(
            KIND, days,
            lambda session, before: SqlErasure(session).delete_transcripts_before(before),
            "transcript lines", clock)
