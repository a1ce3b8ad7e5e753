"""Running a load: client processes started, connected, released at one moment, collected;
the servers' (and the clients') CPU and memory metered over the measured window."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import psutil

from bench.client_process import ClientJob, run
from bench.processes import Meter, Metered, ProcessUsage
from bench.tally import Tally, Window

READY_TIMEOUT = 300.0  # connecting 5,000 customers (sessions, sockets) takes a while
START_DELAY = 0.3  # seconds between the start signal and the customers' first messages
Target = str | Callable[[str | None], str]


@dataclass
class LoadResult:
    tally: Tally
    usage: list[ProcessUsage]
    machine_cpu_percent: float  # every process on the machine, also other people's


def run_load(job: ClientJob, processes: int, target: Target,
             servers: Callable[[], Sequence[Metered]],
             settle: Callable[[], None] | None = None,
             connected: Callable[[], None] | None = None) -> LoadResult:
    """Run `job` split over `processes` client processes against `target`: a URL, or a
    function that gets the Telegram double's URL, starts the server and returns its URL.
    `servers` names the processes to meter once they run. An idle load reads the servers'
    memory once everyone is connected and `settle` has returned. `connected` is called once
    every customer is connected, before the load starts."""
    clients = _Clients(job, processes)
    try:
        url = target if isinstance(target, str) else target(clients.double_url)
        clients.connect(url)
        if connected is not None:
            connected()
        meter = Meter([*servers(), *clients.metered()])
        if job.load.mode == "idle":
            if settle is not None:
                settle()
            with meter:
                pass
            clients.start(time.time())
        else:
            start = time.time() + START_DELAY
            clients.start(start)
            _sleep_until(start + job.load.warmup)
            with meter:
                _sleep_until(start + job.load.warmup + job.load.duration)
        return LoadResult(clients.collect(), meter.usage(), meter.machine_cpu_percent)
    finally:
        clients.stop()


class _Clients:
    def __init__(self, job: ClientJob, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        for share in _split(job, processes):
            ours, theirs = context.Pipe()
            process = context.Process(target=run, args=(share, theirs), daemon=True)
            process.start()
            self._pipes.append(ours)
            self._processes.append(process)
        doubles = [_expect(pipe, "hello") for pipe in self._pipes]
        self.double_url: str | None = doubles[0]  # type: ignore[assignment]

    def connect(self, url: str) -> None:
        for pipe in self._pipes:
            pipe.send(("target", url))
        for pipe in self._pipes:
            _expect(pipe, "ready")

    def metered(self) -> list[Metered]:
        return [Metered(f"client {index + 1}", psutil.Process(process.pid))
                for index, process in enumerate(self._processes) if process.pid is not None]

    def start(self, at: float) -> None:
        for pipe in self._pipes:
            pipe.send(("start", at))

    def collect(self) -> Tally:
        total = Tally(Window(0.0, 0.0))
        for pipe in self._pipes:
            share = _expect(pipe, "done")
            assert isinstance(share, Tally)
            total.merge(share)
        return total

    def stop(self) -> None:
        for process in self._processes:
            process.join(30)
            if process.is_alive():
                process.kill()


def _split(job: ClientJob, processes: int) -> list[ClientJob]:
    processes = max(1, min(processes, job.count))
    shares = []
    first = job.first
    for index in range(processes):
        count = job.count // processes + (1 if index < job.count % processes else 0)
        shares.append(replace(job, first=first, count=count, seed=job.seed + index))
        first += count
    return shares


def _expect(pipe: Connection, what: str) -> object:
    if not pipe.poll(READY_TIMEOUT):
        raise RuntimeError(f"a client process sent no {what!r} in {READY_TIMEOUT:.0f}s")
    kind, payload = pipe.recv()
    if kind != what:
        raise RuntimeError(f"a client process sent {kind!r}, expected {what!r}")
    return payload


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)
