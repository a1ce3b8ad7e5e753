"""Coordination and storage outages: Redis stops and comes back while the bot serves web chat
turns (degraded to one process, recovered without a restart); the database goes away and the
bot answers a clear 503 with nothing half-written."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import storage.sqlite
from composition.bootstrap import Orderbot
from dialog.tables import Conversation, TranscriptEntry
from orders.tables import Order
from tests.conftest import API_KEY, BotFactory, LiveServer, serve
from tests.servers import _postgres_bin, create_database, free_port, redis_server

REPLY_TIMEOUT = 10


class StoppableRedis:
    """A Redis of this test's own, stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._stack: ExitStack | None = None

    def start(self) -> None:
        self._stack = ExitStack()
        self._stack.enter_context(redis_server(self.port))

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


@pytest.fixture
def own_redis() -> Iterator[StoppableRedis]:
    redis = StoppableRedis()
    redis.start()
    yield redis
    redis.stop()


class WebChat:
    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def say(self, text: str) -> dict[str, Any]:
        await self.socket.send(json.dumps({"type": "message", "text": text}))
        return json.loads(await asyncio.wait_for(self.socket.recv(), REPLY_TIMEOUT))


async def open_session(server: LiveServer) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.post("/webchat/session", json={"language": "en"})


@asynccontextmanager
async def web_chat(server: LiveServer) -> AsyncIterator[WebChat]:
    response = await open_session(server)
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    async with websockets.connect(f"{server.ws_url}/webchat/ws?token={token}",
                                  origin=server.url) as socket:
        first = json.loads(await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT))
        assert first["type"] == "history"
        yield WebChat(socket)


async def test_a_web_chat_turn_that_fails_is_told_and_the_chat_goes_on(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A turn that raises (here: the database refusing mid-turn) leaves nothing behind; the
    customer is asked to send the message again, on the same socket."""
    manager = live_server.bot.manager
    handle = manager.handle

    async def fails_once(inbound: Any, **options: Any) -> Any:  # record=True: the web chat
        monkeypatch.setattr(manager, "handle", handle)
        raise OperationalError("UPDATE conversations", {}, Exception("disk I/O error"))

    async with web_chat(live_server) as chat:
        monkeypatch.setattr(manager, "handle", fails_once)
        refused = await chat.say("hello")
        assert refused == {"type": "error", "reason": "Sorry, I couldn't take that message just "
                                                      "now. Please send it again in a moment."}
        assert (await chat.say("hello"))["text"].startswith("Hello!")


async def test_web_chat_keeps_serving_while_redis_is_down_and_recovers_without_restart(
    make_bot: BotFactory, own_redis: StoppableRedis
) -> None:
    bot = await make_bot(http={"port": free_port()}, redis={"url": own_redis.url})
    bot.redis_health.retry_seconds = 0  # try Redis on every use (production: a few seconds)
    server = await serve(bot)
    try:
        async with web_chat(server) as before:
            assert (await before.say("hello"))["text"].startswith("Hello!")
            own_redis.stop()
            # Degraded: the turn runs under the in-process lock, the reply is published to
            # this process's WebSocket directly.
            assert (await before.say("thanks"))["from"] == "bot"
            assert bot.redis_health.degraded
            async with httpx.AsyncClient(base_url=server.url) as console:  # counted here now
                login = await console.post("/console/api/login",
                                           json={"username": "demo", "password": "demo"})
                assert login.status_code == 200, login.text
                assert (await console.get("/health")).json()["redis"] == "degraded"
            async with web_chat(server) as during:  # a chat opened while Redis is down
                assert (await during.say("hello"))["text"].startswith("Hello!")
                own_redis.start()
                # Recovered: both WebSockets get their replies through Redis again.
                assert (await before.say("bye"))["text"].startswith("Goodbye")
                assert not bot.redis_health.degraded
                async with httpx.AsyncClient(base_url=server.url) as monitor:
                    assert (await monitor.get("/health")).json()["redis"] == "ok"
                assert (await during.say("thanks"))["from"] == "bot"
    finally:
        await server.stop()
    async with bot.database.transaction() as session:
        rows = await session.scalars(select(TranscriptEntry.sender).order_by(TranscriptEntry.id))
        assert list(rows).count("customer") == 5


# The database down


class StoppablePostgres:
    """A PostgreSQL cluster of this test's own, stopped and started again on the same port."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="orderbot-pg-down-", dir="/tmp"))
        self.data = self.folder / "data"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.folder, 0o755)
        subprocess.run([*self.as_postgres, str(self.bin / "initdb"), "-D", str(self.data),
                        "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL)
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.data),
                        *args], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self._ctl("-l", str(self.folder / "log"), "-w", "start", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                  "-c fsync=off")

    def stop(self) -> None:
        """Stopped (fast), or found stopped: a smart shutdown ends by itself with the last
        session, maybe just before this."""
        stopping = subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D",
                                   str(self.data), "-w", "stop", "-m", "fast"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if stopping.returncode != 0:
            status = subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D",
                                     str(self.data), "status"], stdout=subprocess.DEVNULL)
            assert status.returncode == 3, stopping.stderr  # 3: no server running

    def remove(self) -> None:
        subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.data),
                        "stop", "-m", "immediate"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[StoppablePostgres]:
    postgres = StoppablePostgres()
    postgres.start()
    yield postgres
    postgres.remove()


NEW_ORDER = {
    "number": "D-5001",
    "customer": {"name": "Dana Down", "email": "dana@example.com", "language": "en",
                 "preferred_channel": "webchat"},
    "lines": [{"sku": "KB-100", "name": "Keyboard", "quantity": 1, "unit_price": "10.00"}],
    "currency": "EUR",
}


async def counts(bot: Orderbot) -> tuple[int, int, int]:
    async with bot.database.transaction() as session:
        orders = await session.scalar(select(func.count()).select_from(Order))
        conversations = await session.scalar(select(func.count()).select_from(Conversation))
        entries = await session.scalar(select(func.count()).select_from(TranscriptEntry))
    return int(orders or 0), int(conversations or 0), int(entries or 0)


async def test_a_database_that_is_down_gets_a_clear_503_and_nothing_half_written(
    make_bot: BotFactory, own_postgres: StoppablePostgres
) -> None:
    create_database(own_postgres.url, "orderbot")
    bot = await make_bot(f"{own_postgres.url}/orderbot", http={"port": free_port()},
                         demo={"enabled": False})
    server = await serve(bot)
    api = {"Authorization": f"Bearer {API_KEY}"}
    try:
        before = await counts(bot)
        own_postgres.stop()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            created = await client.post("/api/orders", json=NEW_ORDER, headers=api)
            read = await client.get("/api/orders/D-5001", headers=api)
            session = await client.post("/webchat/session", json={"language": "en"})
            health = await client.get("/health")  # a load balancer takes the process out
        for response in (created, read, session, health):
            assert response.status_code == 503, response.text
            assert "database" in response.json()["detail"]
            assert response.headers.get("Retry-After")
        own_postgres.start()
        assert await counts(bot) == before  # nothing of the refused requests was kept
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            again = await client.post("/api/orders", json=NEW_ORDER, headers=api)
            assert again.status_code == 201, again.text  # not a 409: the first left nothing
            assert (await client.post("/webchat/session", json={})).status_code == 200
            healthy = await client.get("/health")
            assert healthy.status_code == 200
            assert healthy.json() | {"process": "-"} == {
                "status": "ok", "database": "ok", "redis": "off", "process": "-",
        "webhook_oldest_undelivered_id": None, "webhook_oldest_undelivered_seconds": None}
    finally:
        await server.stop()


async def test_a_locked_sqlite_database_gets_a_clear_503(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program holds SQLite's write lock (BEGIN IMMEDIATE) past the busy timeout."""
    monkeypatch.setattr(storage.sqlite, "BUSY_TIMEOUT", 0.2)  # production waits 15 s
    bot = await make_bot(http={"port": free_port()})
    path = bot.database.engine.url.database
    assert path is not None
    server = await serve(bot)
    # The holder's calls block: made in a thread, so that the bot in this event loop can
    # finish a write it may have begun meanwhile (a due job, the outbox).
    holder = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            session = await client.post("/webchat/session", json={"language": "en"})
        assert session.status_code == 503, session.text
        assert "database" in session.json()["detail"]
        await asyncio.to_thread(holder.execute, "ROLLBACK")
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            assert (await client.post("/webchat/session", json={})).status_code == 200
    finally:
        holder.close()
        await server.stop()
