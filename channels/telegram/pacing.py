"""Spacing of sends within Telegram's limits: about one message a second to one chat (short
bursts tolerated) and about thirty a second in all.

Each limit is a token bucket kept as a GCRA ("the time the bucket is full again"). A slot is
taken before any await, so callers are served in the order they asked. In-process: with
several bot processes each paces its own sends; a 429 that still happens carries Telegram's
retry_after, which the outbox honours.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

PER_CHAT_INTERVAL = 1.0
PER_CHAT_BURST = 3
OVERALL_INTERVAL = 1 / 30
OVERALL_BURST = 30
_FORGET_AFTER = 10_000  # chats remembered before the idle ones are dropped


class _Bucket:
    def __init__(self, interval: float, burst: int) -> None:
        self.interval = interval
        self.burst = max(1, burst)
        self.due: dict[str, float] = {}  # key -> when its bucket is full again

    def take(self, key: str, now: float) -> float:
        """Take a slot; how long to wait before using it."""
        due = max(self.due.get(key, now), now)
        self.due[key] = due + self.interval
        if len(self.due) > _FORGET_AFTER:
            for idle in [k for k, full in self.due.items() if full <= now]:
                del self.due[idle]
        return max(0.0, due - (self.burst - 1) * self.interval - now)


class ChatPacer:
    def __init__(
        self,
        interval: float = PER_CHAT_INTERVAL,
        burst: int = PER_CHAT_BURST,
        overall_interval: float = OVERALL_INTERVAL,
        overall_burst: int = OVERALL_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._chats = _Bucket(interval, burst)
        self._overall = _Bucket(overall_interval, overall_burst)
        self._clock = clock
        self._sleep = sleep

    async def wait(self, chat_id: str) -> None:
        """Wait until a message may go to this chat."""
        now = self._clock()
        delay = max(self._chats.take(chat_id, now), self._overall.take("*", now))
        if delay > 0:
            await self._sleep(delay)
