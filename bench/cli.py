"""python -m bench: the whole benchmark in one run on 127.0.0.1 (see docs/performance.md).

The LAST line printed is the summary:
    summary: webchat_turns_per_s=N p99_ms=N echo_ratio=R telegram_updates_per_s=N
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bench import report
from bench.infra import seed_demo_database
from bench.plan import SCENARIOS, Plan
from bench.runner import Run
from bench.telegram import telegram
from bench.webchat import echo_baselines, embedded, production

RESULTS = Path(__file__).resolve().parent / "results"
FILES_PER_CONNECTION = 3  # the client's socket, the server's, and some to spare


def parse(argv: list[str] | None) -> tuple[Plan, Path]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and short loads: a smoke run of about a minute")
    parser.add_argument("--sizes", help="closed-loop concurrencies, e.g. 100,1000,5000")
    parser.add_argument("--saturation", type=int,
                        help="the closed-loop size whose turns/s is the headline")
    parser.add_argument("--open-customers", type=int, help="open loop: connected customers")
    parser.add_argument("--think", type=float, help="open loop: mean seconds between messages")
    parser.add_argument("--idle", type=int, help="connected quiet customers (memory)")
    parser.add_argument("--telegram-chats", type=int, help="Telegram: concurrent chats")
    parser.add_argument("--duration", type=float, help="seconds measured per load")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per load")
    parser.add_argument("--clients", type=int, help="load-generating processes (web chat)")
    parser.add_argument("--only", help=f"comma-separated scenarios of {', '.join(SCENARIOS)}")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    changes = {
        "sizes": tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None,
        "saturation": args.saturation, "open_customers": args.open_customers,
        "think_seconds": args.think, "idle_customers": args.idle,
        "telegram_chats": args.telegram_chats, "duration": args.duration,
        "warmup": args.warmup, "clients": args.clients,
        "only": tuple(s.strip() for s in args.only.split(",")) if args.only else None,
    }
    plan = replace(plan, **{k: v for k, v in changes.items() if v is not None})
    unknown = set(plan.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"--only: unknown scenario {', '.join(sorted(unknown))}")
    if plan.saturation not in plan.sizes:
        plan = replace(plan, sizes=tuple(sorted({*plan.sizes, plan.saturation})))
    return plan, args.output


def main(argv: list[str] | None = None) -> int:
    plan, output = parse(argv)
    _raise_open_files(max(*plan.sizes, plan.idle_customers, plan.open_customers))
    started = time.monotonic()
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="orderbot-bench-") as scratch:
        folder = Path(scratch)
        # The bots keep their trained NLU model here (dialog/nlu/prepared.py): the first one
        # trains it, as a first start anywhere does, the others load it, as restarts do.
        os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
        print("bench: seeding the demo database", file=sys.stderr, flush=True)
        demo = seed_demo_database(folder)
        run = Run(plan, folder, demo.orders)
        run.facts["first_start_seconds"] = round(demo.first_start_seconds, 2)
        echo = echo_baselines(run)
        if "embedded" in plan.only:
            embedded(run, demo, echo)
        if "production" in plan.only:
            production(run, demo, echo[f"closed {plan.saturation}"], echo["open"])
        if "telegram" in plan.only:
            telegram(run, demo)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        kept = output / stamp
        kept.mkdir(parents=True, exist_ok=True)
        _keep_logs(folder / "logs", kept / "logs")
        files = report.write(run, kept)
    for name, path in files.items():
        latest = output / f"latest{path.suffix}"
        latest.write_bytes(path.read_bytes())
        print(f"bench: {name}: {path}", file=sys.stderr)
    print(report.markdown(run))
    print(f"bench: done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(report.summary(run), flush=True)
    return 0


def _raise_open_files(connections: int) -> None:
    """Each connected customer holds a socket in a client and in a server (inherited)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections * FILES_PER_CONNECTION + 1024
    if soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def _keep_logs(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for log in source.glob("*.log"):
        (target / log.name).write_bytes(log.read_bytes())
