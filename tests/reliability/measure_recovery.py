"""Measure how long a customer waits after a bot process dies (the figures of
docs/guarantees.md §2), at the production default of [process] takeover_seconds: two real
bot processes on one PostgreSQL and one Redis, a Telegram customer through the webhook (the
Bot API double), and per round a process killed with SIGKILL

- holding the customer's conversation (its row locked), a turn begun: the lock takeover, from
  the kill to the survivor's reply to the customer's next message;
- after its turn committed a reply, before sending it: the reply takeover, from the kill to
  that reply reaching Telegram (sent by the survivor).

    .venv/bin/python -m tests.reliability.measure_recovery [rounds]

Not a test: it prints the times (seconds), the smallest, the median and the largest.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.doubles.telegram_api import USERS, TelegramApiDouble, text_update
from tests.reliability.bot_process import BotProcess, wait_for_rows
from tests.reliability.test_crash import post_update
from tests.servers import create_database, postgres_server, redis_server

SETTLED = (
    "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL),"
    " (SELECT count(*) FROM outbox WHERE sent_at IS NULL)"
)


async def measure(postgres_url: str, redis_url: str, rounds: int, folder: Path) -> None:
    telegram = TelegramApiDouble()
    await telegram.start()

    def bot(name: str) -> BotProcess:
        return BotProcess.make(postgres_url, folder / f"{name}.log", redis={"url": redis_url},
                               demo={"enabled": False},
                               telegram=telegram.bot_settings(mode="webhook"))

    def replies() -> int:
        return len(telegram.sent(USERS["anna"]["id"]))

    def more_than(count: int) -> bool:
        return replies() > count

    survivor = bot("survivor")
    await survivor.start()
    times: dict[str, list[float]] = {"lock takeover": [], "reply takeover": []}
    try:
        for round_ in range(rounds):
            for point, kind in (("turn_loaded", "lock takeover"),
                                ("reply_queued", "reply takeover")):
                await wait_for_rows(postgres_url, SETTLED, [(0, 0)], 60)
                before = replies()
                doomed = bot(f"doomed-{round_}-{point}")
                await doomed.start(crash_at=point)
                update = text_update(telegram.next_update_id(), "anna", "hello")
                posting = asyncio.create_task(post_update(doomed, update))
                await doomed.exited()
                killed = time.monotonic()
                await posting
                if kind == "lock takeover":  # the customer writes again, to the survivor
                    await post_update(survivor, text_update(telegram.next_update_id(), "anna",
                                                            "where is my order"))
                async with asyncio.timeout(60):  # past the double's own 10 s bound
                    while not more_than(before):
                        await telegram.next_call()
                times[kind].append(time.monotonic() - killed)
                print(f"{kind}: {times[kind][-1]:.2f} s", flush=True)
    finally:
        await survivor.stop()
        await telegram.stop()
    for kind, seconds in times.items():
        print(f"{kind} over {len(seconds)} rounds: min {min(seconds):.2f} s, median"
              f" {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    folder = tempfile.mkdtemp(prefix="orderbot-recovery-")  # the processes' logs, kept
    print(f"logs in {folder}", flush=True)
    with postgres_server() as server, redis_server() as redis_url:
        name = "recovery_" + uuid.uuid4().hex[:8]
        create_database(server, name)
        asyncio.run(measure(f"{server}/{name}", redis_url, rounds, Path(folder)))


if __name__ == "__main__":
    main()
