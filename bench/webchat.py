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
    one, one_open, one_half = _production_loads(run, 1, echo_one, echo_one_open)
    two, two_open, _ = _production_loads(run, 2, echo_two[f"closed {size}"], echo_two["open"])
    scaling = round(two.turns_per_s / max(one.turns_per_s, 1e-9), 2)
    run.facts["two_process_scaling"] = scaling
    # What coordination costs: the CPU of bots + PostgreSQL + Redis per turn with two
    # processes against one (issue 21: at most 1.15).
    if one.cpu_us_per_turn and two.cpu_us_per_turn:
        run.facts["two_process_cpu_per_turn_ratio"] = round(
            two.cpu_us_per_turn / one.cpu_us_per_turn, 2)
    two.notes = (f"{scaling}x one process, CPU per turn "
                 f"{run.facts.get('two_process_cpu_per_turn_ratio', 'n/a')}x")
    if one_open.cpu_us_per_turn and two_open.cpu_us_per_turn:
        run.facts["two_process_cpu_per_turn_ratio_equal_load"] = round(
            two_open.cpu_us_per_turn / one_open.cpu_us_per_turn, 2)
        two_open.notes = ("CPU per turn "
                          f"{run.facts['two_process_cpu_per_turn_ratio_equal_load']}x"
                          " one process at the same load")
    if one_half is not None and one_half.cpu_us_per_turn and two_open.cpu_us_per_turn:
        # Each bot at the same rate: what two processes cost beyond a process's own rate.
        run.facts["two_process_cpu_per_turn_ratio_same_rate"] = round(
            two_open.cpu_us_per_turn / one_half.cpu_us_per_turn, 2)
        one_half.notes = ("the rate of each of two; two cost "
                          f"{run.facts['two_process_cpu_per_turn_ratio_same_rate']}x per turn")


def _production_loads(
    run: Run, processes: int, closed_baseline: Measurement, open_baseline: Measurement,
) -> tuple[Measurement, Measurement, Measurement | None]:
    """`processes` bots on a fresh PostgreSQL and Redis, saturated (closed loop), then at the
    same offered load as the other configuration (open loop: neither saturated, so that
    contention for the cores does not add to every turn); one process also at half that load,
    the rate each of two processes gets (a process's CPU per turn grows as its rate falls).

    Each configuration starts from the same fresh, seeded database. On one shared database
    the second configuration ran on the first one's leftovers, some 30,000 turns' rows and
    their dead versions: one process measured again after two cost about 1.1 times as much
    CPU per turn as at first, PostgreSQL most (docs/performance.md, "Seventh round")."""
    size = run.plan.saturation
    with production_services() as services:
        database = services.database_url
        port = free_port()
        env = bot_environment(port, database, services.redis_url)
        servers: list[ServerProcess] = []
        try:
            for n in range(processes):  # the first seeds the demo
                servers.append(run.server(f"bot postgresql {n + 1}", "bench.bot_process", env))
            target = "webchat postgresql+redis"
            closed = run.load(f"{target} x{processes} closed {size}", target, "webchat",
                              _url(port), servers, "closed", size, database_url=database,
                              baseline=closed_baseline, services=services.metered)
            open_ = run.load(f"{target} x{processes} open {run.plan.open_customers}", target,
                             "webchat", _url(port), servers, "open", run.plan.open_customers,
                             database_url=database, baseline=open_baseline,
                             services=services.metered)
            half = None
            if processes == 1:
                customers = run.plan.open_customers // 2
                half = run.load(f"{target} x1 open {customers}", target, "webchat",
                                _url(port), servers, "open", customers, database_url=database,
                                services=services.metered)
        finally:
            for server in servers:
                server.stop()
    return closed, open_, half
