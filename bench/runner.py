"""The pieces every scenario uses: start a server, run one load against it, record the
measurement (with the durability check when a bot's database is given)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.client_process import ClientJob, Kind
from bench.conversation import DemoOrder
from bench.customers import Load, Mode
from bench.infra import transcript_rows
from bench.load import Target, run_load
from bench.plan import Plan
from bench.processes import Metered, ServerProcess
from bench.results import Measurement, compare, measure

SETTLE_SECONDS = 2.0  # idle connections: let the servers finish what connecting left behind


class Run:
    def __init__(self, plan: Plan, folder: Path, orders: Sequence[DemoOrder]) -> None:
        self.plan = plan
        self.folder = folder
        self.orders = tuple(orders)
        self.measurements: list[Measurement] = []
        self.facts: dict[str, float] = {}
        (folder / "logs").mkdir(parents=True, exist_ok=True)

    def server(self, name: str, module: str, env: dict[str, str],
               args: Sequence[str] = ()) -> ServerProcess:
        process = ServerProcess(name, module, args, env,
                                self.folder / "logs" / f"{name.replace(' ', '-')}.log")
        try:
            process.wait_ready()
        except BaseException:
            process.stop()
            raise
        return process

    def load(self, name: str, target: str, kind: Kind, url: Target,
             servers: Sequence[ServerProcess], mode: Mode, customers: int, *,
             database_url: str | None = None, baseline: Measurement | None = None,
             clients: int | None = None, secret: str = "", duration: float | None = None,
             record: bool = True, services: Sequence[Metered] = ()) -> Measurement:
        """One load; `record` False for a warm-up that the reports leave out; `services`
        (PostgreSQL, Redis) are metered beside the servers."""
        plan = self.plan
        think = plan.think_seconds if mode == "open" else 0.0
        duration = plan.duration if duration is None else duration
        warmup = plan.warmup if record else 0.0
        job = ClientJob(kind, Load(mode, customers, warmup, duration, think),
                        first=0, count=customers, orders=self.orders, telegram_secret=secret)
        before = transcript_rows(database_url) if database_url else {}
        settle = (lambda: time.sleep(SETTLE_SECONDS)) if mode == "idle" else None
        started = time.monotonic()
        result = run_load(job, clients or plan.clients, url,
                          lambda: [*(s.metered() for s in servers), *services], settle)
        measurement = measure(name, target, len(servers), result, duration, customers, mode)
        if mode == "open":
            measurement.offered_per_s = round(customers / think, 1)
        if database_url:
            _check_durability(measurement, transcript_rows(database_url, before["last"]))
        if baseline is not None:
            compare(measurement, baseline)
        if record:
            self.measurements.append(measurement)
            _progress(measurement, time.monotonic() - started)
        return measurement


def _check_durability(measurement: Measurement, written: dict[str, int]) -> None:
    """Every turn sent is in the transcript once, and so is its one reply."""
    added = {sender: written.get(sender, 0) for sender in ("customer", "bot")}
    measurement.transcript_rows = added
    measurement.durable = added["customer"] == measurement.sent == added["bot"]


def measured(run: Run, name: str) -> Measurement | None:
    return next((m for m in run.measurements if m.name == name), None)


def _progress(m: Measurement, seconds: float) -> None:
    latency = f"p50 {m.p50_ms} p99 {m.p99_ms} ms" if m.p99_ms is not None else ""
    ratio = f" ratio {m.ratio}" if m.ratio is not None else ""
    durable = "" if m.durable is None else f" durable={m.durable}"
    memory = (f" {m.memory_per_connection_kb} KB/connection"
              if m.memory_per_connection_kb is not None else "")
    print(f"  {m.name}: {m.turns_per_s} turns/s {latency}{ratio} errors {m.errors}"
          f"{durable}{memory} ({seconds:.0f}s)", file=sys.stderr, flush=True)
    for sample in m.error_samples:
        print(f"    error: {sample}", file=sys.stderr, flush=True)

