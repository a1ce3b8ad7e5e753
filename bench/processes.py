"""Server processes under test: started, awaited until they serve, measured, stopped.

Each server prints a line with "serving on" once it accepts connections (bench.listening);
psutil reads each process's CPU time and memory, sampled on a thread while a scenario runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.listening import READY

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
SAMPLE_SECONDS = 0.1


class ServerProcess:
    """One server subprocess; its stdout is watched for the ready line, stderr goes to a log."""

    def __init__(self, name: str, module: str, args: Sequence[str], env: dict[str, str],
                 log: Path) -> None:
        self.name = name
        self._log = log.open("ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env={**os.environ, **env},
            stdout=subprocess.PIPE, stderr=self._log, text=True,
        )
        self.ps = psutil.Process(self.process.pid)
        self.ready_at: float | None = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if READY in line and not self._ready.is_set():
                self.ready_at = time.monotonic()
                self._ready.set()

    def metered(self) -> Metered:
        return Metered(self.name, self.ps)

    def wait_ready(self) -> float:
        """Seconds from the start to the ready line; raises if the process died first."""
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start (see {self._log.name})")
        assert self.ready_at is not None
        return self.ready_at - self.started_at

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def peak_rss_lifetime(self) -> int:
        """VmHWM: the most memory the process ever held (Linux), else its current RSS."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return int(self.ps.memory_info().rss)


@dataclass(frozen=True)
class Metered:
    """A process to measure: a server under test, a load-generating client, or PostgreSQL or
    Redis (with `children`: a server that forks one process per connection)."""

    name: str
    ps: psutil.Process
    children: bool = False

    def processes(self) -> list[psutil.Process]:
        if not self.children:
            return [self.ps]
        try:
            return [self.ps, *self.ps.children(recursive=True)]
        except psutil.Error:
            return [self.ps]


def listening(port: int) -> psutil.Process | None:
    """The process that listens on 127.0.0.1:port (PostgreSQL, Redis started by the tests'
    helpers, which do not hand out their processes)."""
    for connection in psutil.net_connections(kind="tcp"):
        if (connection.status == psutil.CONN_LISTEN and connection.laddr
                and connection.laddr.port == port and connection.pid):
            return psutil.Process(connection.pid)
    return None


@dataclass(frozen=True)
class ProcessUsage:
    name: str
    cpu_percent: float  # of one core, over the measured window
    peak_rss_mb: float  # sampled during the window
    rss_mb: float  # at the end of the window


class Meter:
    """CPU and memory of some processes over a window (a thread samples the memory)."""

    def __init__(self, processes: Sequence[Metered]) -> None:
        self._processes = list(processes)
        self._peaks = {p.name: 0 for p in self._processes}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._cpu_start: dict[str, dict[int, float]] = {}
        self._started = 0.0
        self._machine_start = psutil.cpu_times()
        self.machine_cpu_percent = 0.0  # every process on the machine, % of one core

    def __enter__(self) -> Meter:
        self._started = time.monotonic()
        self._cpu_start = {p.name: cpu_seconds(p) for p in self._processes}
        self._machine_start = psutil.cpu_times()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._elapsed = max(time.monotonic() - self._started, 1e-9)
        self._cpu_end = {p.name: cpu_seconds(p) for p in self._processes}
        self.machine_cpu_percent = round(
            100 * (_busy(psutil.cpu_times()) - _busy(self._machine_start)) / self._elapsed, 1)
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for process in self._processes:
                rss = _rss(process)
                self._peaks[process.name] = max(self._peaks[process.name], rss)

    def usage(self) -> list[ProcessUsage]:
        return [
            ProcessUsage(
                name=p.name,
                cpu_percent=round(100 * spent(self._cpu_start[p.name], self._cpu_end[p.name])
                                  / self._elapsed, 1),
                peak_rss_mb=round(max(self._peaks[p.name], _rss(p)) / 2**20, 1),
                rss_mb=round(_rss(p) / 2**20, 1),
            )
            for p in self._processes
        ]


ENDED = -1  # the key of the CPU seconds of a server's children that ended (and were waited for)


def cpu_seconds(metered: Metered) -> dict[int, float]:
    """CPU seconds so far of each of its processes, by pid; for a server that forks, also
    those of its children that have ended (PostgreSQL's backends of closed connections)."""
    seconds = {}
    for process in metered.processes():
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
        if metered.children and process.pid == metered.ps.pid:
            seconds[ENDED] = times.children_user + times.children_system
    return seconds


def spent(start: dict[int, float], end: dict[int, float]) -> float:
    """CPU seconds between two readings. A process born in between counts from its birth; one
    that ended in between counts up to its end: its whole life is in the parent's count of
    ended children, less what it had spent at the start."""
    total = sum(seconds - start.get(pid, 0.0) for pid, seconds in end.items())
    return total - sum(seconds for pid, seconds in start.items()
                       if pid not in end and pid != ENDED)


def _rss(metered: Metered) -> int:
    total = 0
    for process in metered.processes():
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def _busy(times: object) -> float:
    """CPU seconds the whole machine spent busy (all cores)."""
    return float(sum(getattr(times, field, 0.0)
                     for field in ("user", "nice", "system", "irq", "softirq")))
