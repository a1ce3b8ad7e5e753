"""What one turn costs, without the network: the bot built in this process, customers'
messages handed to its dialog as the web chat channel hands them, N conversations at once.

    python -m bench.turn_cost [--customers 100] [--turns 6000] [--think SECONDS]
                              [--profile] [--statements] [--database URL] [--redis URL]
                              [--products N] [--production [--fsync]]

It prints turns/s and the CPU time of a turn (this process only: the whole turn runs here),
and with --statements the SQL statements a turn sends (SQLite's or PostgreSQL's, as the
driver sends them; on SQLite also their time); with --profile the functions that cost most
(cProfile on the thread's CPU time, so that other processes do not inflate it; it slows
everything several times, evenly enough to compare). Use it to see a change's effect in
seconds, on a machine too noisy for the full benchmark; the figures of record come from
`python -m bench`. With --think each customer waits a random (exponential) time of that mean
between its messages, so that turns arrive one at a time as in the benchmark's open loop
instead of back to back.

--production starts a fresh PostgreSQL (fsync off, or on with --fsync) and Redis for the run,
as the benchmark does, and adds their CPU per turn, Redis's commands and round trips per
turn (Redis's own counters over the measured turns) and PostgreSQL's transactions per turn
(pg_stat_database's commits and rollbacks; a backend reports them when idle, at most a second
late, which at either end of the measured turns roughly cancels out).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.conversation import DemoOrder, conversation
from bench.infra import (
    Services,
    bot_environment,
    production_services,
    redis_counters,
    seed_demo_database,
    sqlite_url,
)
from bench.processes import cpu_seconds, spent


class Statements:
    """Counts the statements SQLite runs (its trace callback: every statement, whichever
    path sent it), and times those sent through the driver paths (storage/drivers.py and
    the inline connection's calls)."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def install(self) -> None:
        import sqlite3

        from storage import drivers, sqlite

        count, seconds = self.count, self.seconds
        connect = sqlite3.connect

        def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            connection = connect(*args, **kwargs)
            connection.set_trace_callback(lambda sql: count.update((_name(sql),)))
            return connection

        sqlite.sqlite3.connect = traced_connect  # type: ignore[assignment]
        run = drivers._Sqlite.run

        async def timed(driver: Any, sql: str, arguments: tuple[Any, ...]) -> Any:
            started = time.perf_counter()
            try:
                return await run(driver, sql, arguments)
            finally:
                seconds[_name(sql)] += time.perf_counter() - started

        drivers._Sqlite.run = timed  # type: ignore[method-assign]
        self._trace_asyncpg()

    def _trace_asyncpg(self) -> None:
        """PostgreSQL (--production): the statements asyncpg sends, whichever path sent them
        (prepared ones by their text; BEGIN, COMMIT and ROLLBACK are simple queries)."""
        from asyncpg import connection, prepared_stmt

        count = self.count
        execute, fetch = connection.Connection.execute, prepared_stmt.PreparedStatement.fetch

        async def traced_execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            count.update((_name(query),))
            return await execute(self, query, *args, **kwargs)

        async def traced_fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
            count.update((_name(self.get_query()),))
            return await fetch(self, *args, **kwargs)

        connection.Connection.execute = traced_execute  # type: ignore[method-assign]
        prepared_stmt.PreparedStatement.fetch = traced_fetch  # type: ignore[method-assign]

    def report(self, turns: int) -> str:
        lines = ["| per turn | µs each (driver path) | statement |", "|---|---|---|"]
        for name, n in self.count.most_common():
            if n / turns < 0.005:
                continue
            each = f"{1e6 * self.seconds[name] / n:.1f}" if name in self.seconds else "-"
            lines.append(f"| {n / turns:.2f} | {each} | `{name}` |")
        return "\n".join(lines)


_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\bNULL\b")


def _name(sql: str) -> str:
    """The statement without its values (the trace shows them bound), shortened."""
    return _LITERAL.sub("?", " ".join(sql.split()))[:110]


class Servers:
    """The CPU time and Redis counters of the PostgreSQL and Redis a run started."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._cpu: list[dict[int, float]] = []
        self._redis: dict[str, int] = {}
        self._transactions = 0

    def mark(self) -> None:
        self._cpu = [cpu_seconds(m) for m in self._services.metered]
        self._redis = redis_counters(self._services.redis_url)
        self._transactions = _transactions(self._services.database_url)

    def since(self, turns: int) -> dict[str, float]:
        cpu = sum(spent(start, cpu_seconds(m))
                  for start, m in zip(self._cpu, self._services.metered, strict=True))
        redis = redis_counters(self._services.redis_url)
        found = {"servers_cpu_us_per_turn": 1e6 * cpu / turns,
                 "transactions_per_turn": (_transactions(self._services.database_url)
                                           - self._transactions) / turns}
        for name, value in redis.items():
            found[f"redis_{name}_per_turn"] = (value - self._redis.get(name, 0)) / turns
        return found


def _transactions(database_url: str) -> int:
    """PostgreSQL's commits and rollbacks in the bot's database so far. Read on a thread of
    its own: the caller runs inside the bot's event loop and must not give it up meanwhile."""
    import asyncpg

    async def count() -> int:
        connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        try:
            return int(await connection.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                " WHERE datname = current_database()"))
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, count()).result()


async def _drive(args: argparse.Namespace, orders: tuple[DemoOrder, ...],
                 statements: Statements | None, servers: Servers | None) -> dict[str, float]:
    from composition.bootstrap import build
    from composition.cli import DEFAULT_CONFIG
    from config import load_settings
    from dialog.messages import Inbound

    bot = build(load_settings(DEFAULT_CONFIG))
    await bot.start()
    try:
        keys = []
        for customer in range(args.customers):
            opened = await bot.conversations.open_session("webchat", f"bench-{customer}", "en")
            assert opened is not None
            keys.append(opened[1])
        done = 0
        profile = cProfile.Profile(time.thread_time) if args.profile else None
        marks: dict[str, float] = {}
        warmup = args.turns // 5

        async def customer(index: int) -> None:
            nonlocal done
            steps = conversation(orders, index)
            sent = 0
            if args.think > 0:  # not all at once at the start
                await asyncio.sleep(random.expovariate(1 / args.think))
            while done < args.turns + warmup:
                step = next(steps)
                sent += 1
                await bot.conversations.answer(Inbound(
                    key=keys[index], text=step.text, client="127.0.0.1",
                    message_id=f"{keys[index].chat_id}:{sent}"))
                done += 1
                if done == warmup:
                    if servers is not None:
                        servers.mark()
                    marks["wall"], marks["cpu"] = time.perf_counter(), time.process_time()
                    if statements is not None:
                        statements.count.clear()
                        statements.seconds.clear()
                    if profile is not None:
                        profile.enable()
                if done == args.turns + warmup:  # not the last customers' thinking
                    marks["end_wall"], marks["end_cpu"] = time.perf_counter(), time.process_time()
                    if profile is not None:
                        profile.disable()
                if args.think > 0:
                    await asyncio.sleep(random.expovariate(1 / args.think))

        await asyncio.gather(*(customer(i) for i in range(args.customers)))
        wall = marks["end_wall"] - marks["wall"]
        cpu = marks["end_cpu"] - marks["cpu"]
        turns = args.turns  # those between the marks
        result = {"turns": turns, "turns_per_s": turns / wall, "cpu_us_per_turn": 1e6 * cpu / turns}
        if servers is not None:
            result.update(servers.since(turns))
        if profile is not None:
            _write_profile(profile, args.profile_output)
        return result
    finally:
        await bot.stop()


def _write_profile(profile: cProfile.Profile, output: str) -> None:
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(60)
    Path(output).write_text(text.getvalue())
    profile.dump_stats(output + ".prof")


# Generated products (--products): words the demo shop's names do not use, so that the
# benchmark's questions find what they found before, now among N more products.
_GENERATED = [
    # (en, pl, ru) adjective
    [("Ergonomic", "Ergonomiczny", "Эргономичный"), ("Compact", "Kompaktowy", "Компактный"),
     ("Premium", "Luksusowy", "Премиальный"), ("Portable", "Przenośny", "Переносной"),
     ("Foldable", "Składany", "Складной"), ("Vintage", "Zabytkowy", "Винтажный"),
     ("Outdoor", "Ogrodowy", "Уличный"), ("Electric", "Elektryczny", "Электрический")],
    # (en, pl, ru) noun
    [("chair", "fotel", "кресло"), ("kettle", "czajnik", "чайник"),
     ("backpack", "plecak", "рюкзак"), ("bottle", "butelka", "бутылка"),
     ("speaker", "głośnik", "колонка"), ("tripod", "statyw", "штатив"),
     ("blender", "blender", "блендер"), ("umbrella", "parasol", "зонт"),
     ("toaster", "toster", "тостер"), ("tent", "namiot", "палатка")],
]


def _generated(n: int) -> Any:
    from orders.catalogue import CatalogueProduct

    adjectives, nouns = _GENERATED
    adjective = adjectives[n % len(adjectives)]
    noun = nouns[n // len(adjectives) % len(nouns)]
    return CatalogueProduct(
        sku=f"GEN-{n:06d}", category="generated", price_minor=1000 + n, currency="EUR",
        available=n % 7,
        names={language: f"{adjective[i]} {noun[i]} {n}"
               for i, language in enumerate(("en", "pl", "ru"))})


async def _add_products(url: str, count: int) -> None:
    """count generated products, named in three languages, through the catalogue's own
    writer (orders/catalogue.py), as an import of the shop's catalogue would add them."""
    from orders.catalogue import put_products
    from storage.database import Database, make_engine

    database = Database(make_engine(url))
    try:
        for start in range(0, count, 1000):
            async with database.transaction() as session:
                await put_products(session, [_generated(n) for n in
                                             range(start, min(start + 1000, count))])
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.turn_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--turns", type=int, default=6000)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a customer waits between messages (default: none)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-output", default="/tmp/turn_cost.profile.txt")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--database", help="a database URL (default: a copy of the demo shop)")
    parser.add_argument("--redis", default="", help="a Redis URL (default: none)")
    parser.add_argument("--products", type=int, default=0,
                        help="add N generated products to the copied demo shop first")
    parser.add_argument("--production", action="store_true",
                        help="start a fresh PostgreSQL and Redis for the run")
    parser.add_argument("--fsync", action="store_true",
                        help="with --production: PostgreSQL flushes the WAL at each commit")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orderbot-turn-cost-") as scratch, \
            ExitStack() as stack:
        folder = Path(scratch)
        os.environ.setdefault("XDG_CACHE_HOME", str(folder / "cache"))
        print("turn_cost: seeding the demo database", file=sys.stderr, flush=True)
        demo = seed_demo_database(folder)
        servers = None
        if args.production:
            services = stack.enter_context(production_services(fsync=args.fsync))
            args.database, args.redis = services.database_url, services.redis_url
            servers = Servers(services)
        url = args.database or sqlite_url(demo.copy(folder, "measured"))
        if args.products:
            asyncio.run(_add_products(url, args.products))
        os.environ.update(bot_environment(0, url, args.redis))
        # A server's database is seeded by the bot itself, as the benchmark's first bot does
        # (the demo's seed is the same, so the conversation finds the same orders).
        os.environ["ORDERBOT__DEMO__ENABLED"] = "true" if args.database else "false"
        statements = Statements() if args.statements else None
        if statements is not None:
            statements.install()
        import uvloop  # as serving.py runs the bot

        result = uvloop.run(_drive(args, demo.orders, statements, servers))
    print(f"turn_cost: {result['turns']} turns, {result['turns_per_s']:.0f} turns/s, "
          f"{result['cpu_us_per_turn']:.0f} µs of CPU per turn")
    if servers is not None:
        print("turn_cost: per turn, PostgreSQL + Redis CPU "
              f"{result['servers_cpu_us_per_turn']:.0f} µs; Redis "
              f"{result['redis_commands_per_turn']:.2f} commands in "
              f"{result['redis_round_trips_per_turn']:.2f} round trips; PostgreSQL "
              f"{result['transactions_per_turn']:.2f} transactions")
    if statements is not None:
        print(statements.report(int(result["turns"])))
        if servers is not None:
            print("Redis commands per turn:")
            for name, value in sorted(result.items(), key=lambda item: -item[1]):
                if name.startswith("redis_command ") and value >= 0.005:
                    command = name.removeprefix("redis_command ").removesuffix("_per_turn")
                    print(f"  {value:6.2f}  {command}")
    if args.profile:
        print(f"profile: {args.profile_output} (and .prof)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
