"""Web chat scenarios: the echo baseline, the embedded default (SQLite, one process) and the
production shape (PostgreSQL + Redis, one and two processes sharing a port)."""

from __future__ import annotations

from bench.client_process import Kind
from bench.infra import (
    DemoDatabase,
    bot_environment,
    first_answer_seconds,
    production_services,
    sqlite_url,
)
from bench.processes import ServerProcess
from bench.results import Measurement
from bench.runner import Run
from tests.servers import free_port

WARM_CUSTOMERS = 20  # a short load first: caches filled before the idle memory is read
WARM_SECONDS = 1.0


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def echo_baselines(run: Run, processes: int = 1) -> dict[str, Measurement]:
    """The echo server: idle memory (one process), every closed-loop size, the open loop."""
    port = free_port()
    servers = [run.server(f"echo {i + 1}", "bench.echo_server", {}, ["--port", str(port)])
               for i in range(processes)]
    target = "echo" if processes == 1 else f"echo x{processes}"
    found: dict[str, Measurement] = {}
    try:
        if processes == 1:
            _idle_memory(run, target, "echo", servers[0], _url(port))
        sizes = run.plan.sizes if processes == 1 else (run.plan.saturation,)
        for size in sizes:
            found[f"closed {size}"] = run.load(f"{target} closed {size}", target, "echo",
                                               _url(port), servers, "closed", size)
        found["open"] = run.load(f"{target} open {run.plan.open_customers}", target, "echo",
                                 _url(port), servers, "open", run.plan.open_customers)
    finally:
        for server in servers:
            server.stop()
    return found


def embedded(run: Run, demo: DemoDatabase, echo: dict[str, Measurement]) -> None:
    """SQLite, one process: start-up, idle memory, every closed-loop size, the open loop."""
    database = sqlite_url(demo.copy(run.folder, "embedded"))
    port = free_port()
    bot = run.server("bot sqlite", "bench.bot_process", bot_environment(port, database))
    target = "webchat sqlite"
    try:
        run.facts["startup_seconds"] = round(first_answer_seconds(bot, _url(port)), 2)
        _idle_memory(run, target, "webchat", bot, _url(port))
        for size in run.plan.sizes:
            run.load(f"{target} closed {size}", target, "webchat", _url(port), [bot],
                     "closed", size, database_url=database, baseline=echo[f"closed {size}"])
        run.load(f"{target} open {run.plan.open_customers}", target, "webchat", _url(port),
                 [bot], "open", run.plan.open_customers, database_url=database,
                 baseline=echo["open"])
    finally:
        bot.stop()


def _idle_memory(run: Run, target: str, kind: Kind, server: ServerProcess, url: str) -> None:
    """Memory per connected, quiet customer, on a server that has only warmed up before."""
    run.load(f"{target} warm-up", target, kind, url, [server], "closed", WARM_CUSTOMERS,
             duration=WARM_SECONDS, record=False)
    base = server.ps.memory_info().rss
    customers = run.plan.idle_customers
    measurement = run.load(f"{target} idle {customers}", target, kind, url, [server], "idle",
                           customers)
    measurement.memory_per_connection_kb = round(
        (measurement.usage[0].rss_mb * 2**20 - base) / customers / 1024, 1)


def production(run: Run, demo: DemoDatabase, echo_one: Measurement,
               echo_one_open: Measurement) -> None:
    """PostgreSQL + Redis; one process, then two sharing the port (SO_REUSEPORT), each
    saturated (closed loop) and at the same offered load (open loop)."""
    size = run.plan.saturation
    echo_two = echo_baselines(run, processes=2)
    with production_services() as services:
        database = services.database_url
        port = free_port()
        env = bot_environment(port, database, services.redis_url)
        first = run.server("bot postgresql 1", "bench.bot_process", env)  # seeds the demo
        servers: list[ServerProcess] = [first]
        metered = services.metered
        try:
            target = "webchat postgresql+redis"
            one = run.load(f"{target} x1 closed {size}", target, "webchat", _url(port),
                           servers, "closed", size, database_url=database, baseline=echo_one,
                           services=metered)
            # The same offered load (the open loop), for the CPU per turn at equal load: at
            # saturation two processes fill both cores, and contention adds to every turn.
            one_open = run.load(f"{target} x1 open {run.plan.open_customers}", target,
                                "webchat", _url(port), servers, "open", run.plan.open_customers,
                                database_url=database, baseline=echo_one_open, services=metered)
            servers.append(run.server("bot postgresql 2", "bench.bot_process", env))
            two = run.load(f"{target} x2 closed {size}", target, "webchat", _url(port),
                           servers, "closed", size, database_url=database,
                           baseline=echo_two[f"closed {size}"], services=metered)
            scaling = round(two.turns_per_s / max(one.turns_per_s, 1e-9), 2)
            run.facts["two_process_scaling"] = scaling
            # What coordination costs: the CPU of bots + PostgreSQL + Redis per turn with two
            # processes against one (issue 21: at most 1.15).
            if one.cpu_us_per_turn and two.cpu_us_per_turn:
                run.facts["two_process_cpu_per_turn_ratio"] = round(
                    two.cpu_us_per_turn / one.cpu_us_per_turn, 2)
            two.notes = (f"{scaling}x one process, CPU per turn "
                         f"{run.facts.get('two_process_cpu_per_turn_ratio', 'n/a')}x")
            two_open = run.load(f"{target} x2 open {run.plan.open_customers}", target,
                                "webchat", _url(port), servers, "open", run.plan.open_customers,
                                database_url=database, baseline=echo_two["open"],
                                services=metered)
            if one_open.cpu_us_per_turn and two_open.cpu_us_per_turn:
                run.facts["two_process_cpu_per_turn_ratio_equal_load"] = round(
                    two_open.cpu_us_per_turn / one_open.cpu_us_per_turn, 2)
                two_open.notes = ("CPU per turn "
                                  f"{run.facts['two_process_cpu_per_turn_ratio_equal_load']}x"
                                  " one process at the same load")
        finally:
            for server in servers:
                server.stop()
