"""What one client process counts: turns sent and answered, latencies, errors."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True)
class Window:
    """The measured stretch of a run (time.time() seconds); before it is warm-up."""

    start: float
    end: float


@dataclass
class Tally:
    window: Window
    sent: int = 0  # every turn sent, warm-up and drain included (for the durability check)
    replies: int = 0  # every reply received
    completed: int = 0  # turns answered inside the window
    latencies: list[float] = field(default_factory=list)  # seconds, turns sent in the window
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def answered(self, sent_at: float, answered_at: float) -> None:
        self.replies += 1
        if self.window.start <= answered_at < self.window.end:
            self.completed += 1
        if self.window.start <= sent_at < self.window.end:
            self.latencies.append(answered_at - sent_at)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(what[:300])

    def merge(self, other: Tally) -> None:
        self.sent += other.sent
        self.replies += other.replies
        self.completed += other.completed
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        room = MAX_ERROR_SAMPLES - len(self.error_samples)
        self.error_samples.extend(other.error_samples[:max(0, room)])
