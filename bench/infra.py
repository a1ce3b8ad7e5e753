"""What the bot needs around it in the benchmark: a freshly seeded demo database (a copy per
bot, in a temporary folder, never var/), PostgreSQL and Redis (started like the tests start
them), and the durability check that counts the transcript."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import redis
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.conversation import DemoOrder
from bench.processes import Metered, ServerProcess, listening
from bench.transports import WebchatTransport
from dialog.tables import TranscriptEntry
from storage.database import Database, make_engine
from tests.servers import create_database, free_port, postgres_server, redis_server

DEMO_DATABASE = "demo-template.db"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def bot_environment(port: int, database_url: str, redis_url: str = "",
                    **extra: str) -> dict[str, str]:
    """The bot's settings for a benchmark run, as ORDERBOT__ environment overrides."""
    return {
        "ORDERBOT__HTTP__PORT": str(port),
        "ORDERBOT__DATABASE__URL": database_url,
        "ORDERBOT__REDIS__URL": redis_url,
        "ORDERBOT__OPERATORS__BUSINESS_HOURS": "[]",
        # The load comes from one address and each simulated customer writes as fast as it is
        # answered: the per-address and per-conversation limits (channels/limits.py) would
        # refuse it. Thousands of real customers come from thousands of addresses.
        "ORDERBOT__LIMITS__WEBCHAT_SESSIONS_PER_IP_PER_MINUTE": "0",
        "ORDERBOT__LIMITS__WEBHOOK_REQUESTS_PER_IP_PER_SECOND": "0",
        "ORDERBOT__LIMITS__MESSAGES_PER_CONVERSATION_PER_MINUTE": "0",
        **{f"ORDERBOT__{key.upper()}": value for key, value in extra.items()},
    }


@dataclass(frozen=True)
class DemoDatabase:
    template: Path
    orders: tuple[DemoOrder, ...]
    first_start_seconds: float  # NLU training, migrations, demo seed, to the first answer

    def copy(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.db"
        shutil.copyfile(self.template, path)
        return path


def seed_demo_database(folder: Path) -> DemoDatabase:
    """Start the bot once on an empty SQLite file: it trains its NLU model (the benchmark's
    model cache starts empty), migrates and seeds the demo shop, and answers a first time."""
    path = folder / DEMO_DATABASE
    port = free_port()
    bot = ServerProcess("seeding bot", "bench.bot_process", [],
                        bot_environment(port, sqlite_url(path)), folder / "seed.log")
    try:
        bot.wait_ready()
        seconds = first_answer_seconds(bot, f"http://127.0.0.1:{port}")
    finally:
        bot.stop()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = connection.execute(
            "SELECT number, json_extract(delivery_address, '$.postcode') FROM orders "
            "ORDER BY number").fetchall()
    return DemoDatabase(path, tuple(DemoOrder(n, p) for n, p in rows if p), seconds)


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    metered: tuple[Metered, ...]  # PostgreSQL (with a process per connection) and Redis


@contextmanager
def production_services(fsync: bool = False) -> Iterator[Services]:
    """PostgreSQL (a fresh database) and Redis on 127.0.0.1, as the tests start them; with
    `fsync`, PostgreSQL flushes its WAL at each commit (as in production) instead of not at
    all."""
    with ExitStack() as stack:
        postgres = stack.enter_context(postgres_server(fsync=fsync))
        redis = stack.enter_context(redis_server())
        create_database(postgres, "orderbot")
        metered = []
        for name, url, children in (("PostgreSQL server", postgres, True),
                                    ("Redis server", redis, False)):
            process = listening(make_url(url).port or 0)
            if process is not None:
                metered.append(Metered(name, process, children))
        yield Services(f"{postgres}/orderbot", redis, tuple(metered))


def redis_counters(url: str) -> dict[str, int]:
    """Redis's own counts since it started: the commands it ran, and the reads of requests
    from its clients' sockets, which are the round trips (a pipeline of commands sent at
    once is read at once)."""
    client = redis.Redis.from_url(url)
    try:
        stats: dict[str, Any] = client.info("stats")
        commands: dict[str, Any] = client.info("commandstats")
    finally:
        client.close()
    counters = {"commands": int(stats["total_commands_processed"]),
                "round_trips": int(stats["total_reads_processed"])}
    # Each command's calls ("cmdstat_xadd" -> "command xadd"); INFO itself is left out.
    counters.update({f"command {name.removeprefix('cmdstat_')}": int(stat["calls"])
                     for name, stat in commands.items() if name != "cmdstat_info"})
    return counters


def transcript_rows(database_url: str, after: int = 0) -> dict[str, int]:
    """The transcript entries after entry `after`, per sender (customer, bot, operator), in
    the conversations where a customer wrote after it: a message the bot began elsewhere
    meanwhile (the demo shop's payment reminder of the day) answers no turn of the load.
    "last": the last entry's id."""

    async def count() -> dict[str, int]:
        database = Database(make_engine(database_url))
        written = (select(TranscriptEntry.conversation_id)
                   .where(TranscriptEntry.id > after, TranscriptEntry.sender == "customer"))
        try:
            async with database.transaction() as session:
                rows = await session.execute(
                    select(TranscriptEntry.sender, func.count())
                    .where(TranscriptEntry.id > after,
                           TranscriptEntry.conversation_id.in_(written))
                    .group_by(TranscriptEntry.sender))
                last = await session.scalar(select(func.max(TranscriptEntry.id)))
                return {**{sender: int(n) for sender, n in rows}, "last": int(last or 0)}
        finally:
            await database.dispose()

    return asyncio.run(count())


def first_answer_seconds(bot: ServerProcess, url: str) -> float:
    """From the bot's process start to the first answered message (NLU training included)."""

    async def ask() -> None:
        async with aiohttp.ClientSession() as http:
            customer = WebchatTransport(url, http)
            await customer.open()
            await customer.send("hello")
            await customer.receive()
            await customer.close()

    asyncio.run(ask())
    return time.monotonic() - bot.started_at
