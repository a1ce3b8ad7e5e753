"""Where a turn's time goes: the embedded bot under a closed-loop load, sampled by py-spy.

    python -m bench.profile [--customers 100] [--seconds 15] [--think 2]

Writes the raw samples (collapsed stacks, for flamegraph.pl or speedscope) and a summary
under bench/results/profile-<time>/, and prints the summary: the share of samples per part of
the stack (by the innermost frame that belongs to a known part) and the busiest functions.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bench.cli import RESULTS
from bench.client_process import ClientJob
from bench.customers import Load
from bench.infra import bot_environment, seed_demo_database, sqlite_url
from bench.load import run_load
from bench.processes import ServerProcess
from tests.servers import free_port

# Innermost match wins: a sample inside SQLAlchemy called from a flow counts as SQLAlchemy.
PARTS = (
    ("SQLite driver (aiosqlite, sqlite3)", ("aiosqlite/", "storage/sqlite.py", "sqlite3/")),
    ("PostgreSQL driver (asyncpg)", ("asyncpg/",)),
    ("Redis client", ("redis/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("NLU (intent, language, entities)", ("dialog/nlu/",)),
    ("product search", ("orders/stock.py",)),
    ("JSON and validation", ("json/", "pydantic")),
    ("HTTP and WebSocket stack", ("websockets/", "uvicorn/", "starlette/", "fastapi/",
                                  "httptools", "h11/")),
    ("orderbot's own code", ("dialog/", "orders/", "channels/", "coordination/", "console/")),
    ("event loop (scheduling, waiting)", ("asyncio/", "selectors.py", "uvloop")),
)
TOP_FUNCTIONS = 25

# The web chat's way around the turn, by what a sample's stack passes through (outermost test
# first that matches; the names are functions, not files, so that a piece reads as a step).
WEBCHAT_PIECES = (
    ("the turn (DialogConversations.answer: dialog, storage)", ("DialogConversations.answer",)),
    ("reply: the socket write (transport.write: the send syscall)",
     ("WebchatChannel.send", "WebSocketsSansIOProtocol.send:514")),
    ("reply: JSON encoding", ("WebchatChannel.send", "JSONEncoder")),
    ("reply: frame, pub/sub, push, Starlette and uvicorn send", ("WebchatChannel.send",)),
    ("outbox sender besides the channel (dialog/outbox.py)", ("OutboxSender",)),
    ("message: frame parsing and the Inbound", ("WebchatChannel._parse",)),
    ("ack, history and error frames", ("WebchatChannel._converse",
                                       "WebSocketsSansIOProtocol.send")),
    ("message: receive (Starlette, uvicorn's queue)", ("WebchatChannel._converse", "receive")),
    ("message: the socket's loop (limits, typing, bookkeeping)", ("WebchatChannel._converse",)),
    ("uvicorn's WebSocket protocol: reading, frame parsing", ("WebSocketsSansIOProtocol",)),
    ("HTTP requests (sessions)", ("HttpToolsProtocol",)),
    ("WAL checkpoints (a thread of their own)", ("Checkpointer",)),
)


def _stacks(raw: Path) -> Iterator[tuple[str, int]]:
    """py-spy's raw output: each collapsed stack and its count of samples."""
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack, int(count)


def webchat_pieces(raw: Path) -> str:
    """The share of samples per piece of the web chat's way around the turn: what the
    channel costs (docs/performance.md, "The web chat around the turn")."""
    pieces: Counter[str] = Counter()
    total = 0
    for stack, samples in _stacks(raw):
        total += samples
        frames = [f"{frame.split(' (')[0]}:{frame.rpartition(':')[2].rstrip(')')}"
                  for frame in stack.split(";")]
        pieces[_piece(";".join(frames), frames, stack)] += samples
    if not total:
        return "no samples"
    lines = ["| piece of the web chat's way | share |", "|---|---|"]
    lines += [f"| {piece} | {100 * n / total:.1f}% |" for piece, n in pieces.most_common()]
    return "\n".join(lines) + "\n"


def _piece(joined: str, frames: list[str], stack: str) -> str:
    for piece, markers in WEBCHAT_PIECES:
        if all(marker in joined for marker in markers):
            return piece
    if "bench/" not in stack:  # py-spy lost the stack's outer frames: inside the turn mostly
        return "stacks cut short (mostly the turn's storage)"
    if frames[-1].startswith("Runner.run:"):
        return "event loop (uvloop: polling, reading, callbacks)"
    return "elsewhere (group commit, sent marks, takeover sweeps: storage and dialog)"


def summarise(raw: Path) -> str:
    parts: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for stack, samples in _stacks(raw):
        total += samples
        frames = stack.split(";")
        leaves[frames[-1]] += samples
        parts[_part(frames)] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "| part of the stack | share |", "|---|---|"]
    lines += [f"| {part} | {100 * n / total:.1f}% |" for part, n in parts.most_common()]
    lines += ["", "| busiest function (self) | share |", "|---|---|"]
    lines += [f"| `{frame}` | {100 * n / total:.1f}% |"
              for frame, n in leaves.most_common(TOP_FUNCTIONS)]
    return "\n".join(lines) + "\n"


def _part(frames: list[str]) -> str:
    for frame in reversed(frames):
        for part, markers in PARTS:
            if any(marker in frame for marker in markers):
                return part
    return "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.0,
                        help="open loop: mean seconds between a customer's messages")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    folder = RESULTS / f"profile-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="orderbot-profile-") as scratch:
        demo = seed_demo_database(Path(scratch))
        database = sqlite_url(demo.copy(Path(scratch), "profiled"))
        port = free_port()
        bot = ServerProcess("bot", "bench.bot_process", [], bot_environment(port, database),
                            folder / "bot.log")
        try:
            bot.wait_ready()
            url = f"http://127.0.0.1:{port}"
            mode = "open" if args.think else "closed"
            job = ClientJob("webchat", Load(mode, args.customers, 2.0, args.seconds, args.think),
                            first=0, count=args.customers, orders=demo.orders)
            raw = folder / "samples.txt"
            recorder: list[subprocess.Popen[bytes]] = []

            def record() -> None:  # from the warm-up on, once every customer is connected
                recorder.append(subprocess.Popen(
                    [spy, "record", "--pid", str(bot.process.pid), "--duration",
                     str(args.seconds), "--rate", "250", "--nonblocking", "--format", "raw",
                     "-o", str(raw)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

            result = run_load(job, args.clients, url, lambda: [bot.metered()],
                              connected=record)
            for process in recorder:
                process.wait()
        finally:
            bot.stop()
    turns = result.tally.completed / args.seconds
    loop = f"open loop, a message every {args.think:g} s" if args.think else "closed loop"
    summary = (f"# Profile of the embedded bot, {args.customers} customers, {loop}\n\n"
               f"{turns:.0f} turns/s while sampled, {result.tally.errors} errors\n\n"
               + summarise(raw) + "\n" + webchat_pieces(raw))
    (folder / "summary.md").write_text(summary)
    print(summary)
    print(f"profile: {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
