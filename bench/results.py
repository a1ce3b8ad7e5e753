"""One measurement of one scenario, as the reports show it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy

from bench.load import LoadResult
from bench.processes import ProcessUsage


@dataclass
class Measurement:
    name: str  # unique in a run, e.g. "webchat sqlite closed 100"
    target: str  # "echo", "webchat sqlite", "webchat postgresql+redis", "telegram", ...
    processes: int  # server processes
    mode: str  # closed | open | idle
    customers: int
    turns_per_s: float = 0.0
    offered_per_s: float | None = None  # open loop: the load the customers offered
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    sent: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    baseline: str | None = None  # the name of the measurement it is compared with
    ratio: float | None = None  # turns/s divided by the baseline's
    durable: bool | None = None  # transcript rows (customer and bot) == turns
    transcript_rows: dict[str, int] = field(default_factory=dict)
    memory_per_connection_kb: float | None = None
    usage: list[ProcessUsage] = field(default_factory=list)
    machine_cpu_percent: float = 0.0  # all processes, other people's too; 100 = one core
    notes: str = ""

    @property
    def cpu_us_per_turn(self) -> float | None:
        """The CPU of every server process (bots, PostgreSQL, Redis; not the customers) per
        turn answered, in µs."""
        if not self.turns_per_s:
            return None
        servers = sum(u.cpu_percent for u in self.usage if not u.name.startswith("client"))
        return round(1e6 * servers / 100 / self.turns_per_s, 1)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cpu_us_per_turn": self.cpu_us_per_turn}


def measure(name: str, target: str, processes: int, result: LoadResult, duration: float,
            customers: int, mode: str) -> Measurement:
    tally = result.tally
    latencies = numpy.array(tally.latencies) * 1000
    p50, p95, p99 = (numpy.percentile(latencies, [50, 95, 99]) if latencies.size
                     else (None, None, None))
    return Measurement(
        name=name, target=target, processes=processes, mode=mode, customers=customers,
        turns_per_s=round(tally.completed / duration, 1) if duration else 0.0,
        p50_ms=_ms(p50), p95_ms=_ms(p95), p99_ms=_ms(p99),
        max_ms=_ms(latencies.max()) if latencies.size else None,
        sent=tally.sent, errors=tally.errors, error_samples=tally.error_samples,
        usage=result.usage, machine_cpu_percent=result.machine_cpu_percent,
    )


def compare(measurement: Measurement, baseline: Measurement) -> None:
    measurement.baseline = baseline.name
    if baseline.turns_per_s:
        measurement.ratio = round(measurement.turns_per_s / baseline.turns_per_s, 3)


def _ms(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)
