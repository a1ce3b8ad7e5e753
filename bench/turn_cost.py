"""What one turn costs, without the network: the bot built in this process, customers'
messages handed to its dialog as the web chat channel hands them, N conversations at once.

    python -m bench.turn_cost [--customers 100] [--turns 6000] [--think SECONDS]
                              [--profile] [--statements] [--database URL] [--redis URL]

It prints turns/s and the CPU time of a turn (this process only: the whole turn runs here),
and with --statements the SQL statements a turn sends and their time; with --profile the
functions that cost most (cProfile, which slows everything about twice, evenly enough to
compare). Use it to see a change's effect in seconds, on a machine too noisy for the full
benchmark; the figures of record come from `python -m bench`. With --think each customer
waits a random (exponential) time of that mean between its messages, so that turns arrive one
at a time as in the benchmark's open loop instead of back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.conversation import DemoOrder, Step, conversation
from bench.infra import bot_environment, seed_demo_database, sqlite_url


class Statements:
    """Counts and times the statements the SQLite driver runs (the inline connection)."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def install(self) -> None:
        from storage import sqlite

        original = sqlite.InlineConnection._execute
        count, seconds = self.count, self.seconds

        async def traced(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            name = getattr(fn, "__qualname__", str(fn))
            if args and isinstance(args[0], str):
                name = " ".join(args[0].split())[:110]
            started = time.perf_counter()
            try:
                return await original(connection, fn, *args, **kwargs)
            finally:
                count[name] += 1
                seconds[name] += time.perf_counter() - started

        sqlite.InlineConnection._execute = traced  # type: ignore[method-assign]

    def report(self, turns: int) -> str:
        lines = ["| per turn | µs each | statement or call |", "|---|---|---|"]
        for name, total in self.seconds.most_common():
            n = self.count[name]
            lines.append(f"| {n / turns:.2f} | {1e6 * total / n:.1f} | `{name}` |")
        return "\n".join(lines)


def _steps(orders: tuple[DemoOrder, ...], first: int) -> Iterator[Step]:
    return conversation(orders, first)


async def _drive(args: argparse.Namespace, orders: tuple[DemoOrder, ...],
                 statements: Statements | None) -> dict[str, float]:
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
        profile = cProfile.Profile() if args.profile else None
        marks: dict[str, float] = {}
        warmup = args.turns // 5

        async def customer(index: int) -> None:
            nonlocal done
            steps = _steps(orders, index)
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orderbot-turn-cost-") as scratch:
        folder = Path(scratch)
        os.environ.setdefault("XDG_CACHE_HOME", str(folder / "cache"))
        print("turn_cost: seeding the demo database", file=sys.stderr, flush=True)
        demo = seed_demo_database(folder)
        url = args.database or sqlite_url(demo.copy(folder, "measured"))
        os.environ.update(bot_environment(0, url, args.redis))
        os.environ["ORDERBOT__DEMO__ENABLED"] = "true" if args.database else "false"
        statements = Statements() if args.statements else None
        if statements is not None:
            statements.install()
        import uvloop  # as serving.py runs the bot

        result = uvloop.run(_drive(args, demo.orders, statements))
    print(f"turn_cost: {result['turns']} turns, {result['turns_per_s']:.0f} turns/s, "
          f"{result['cpu_us_per_turn']:.0f} µs of CPU per turn")
    if statements is not None:
        print(statements.report(int(result["turns"])))
    if args.profile:
        print(f"profile: {args.profile_output} (and .prof)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
