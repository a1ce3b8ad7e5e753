"""PostgreSQL shutting down, restarting, or cutting the bot's connections: every request that
touches the database is a clear 503 with Retry-After (never a 500), on every surface a user
reaches (web chat session and socket, shop API and its order events, console, /health), and the same
requests succeed once PostgreSQL is back."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from websockets.typing import Origin

from tests.conftest import API_KEY, BotFactory, LiveServer, serve
from tests.reliability.test_coordination_faults import (  # noqa: F401 (fixture)
    NEW_ORDER,
    StoppablePostgres,
    counts,
    own_postgres,
)
from tests.servers import create_database, free_port

API = {"Authorization": f"Bearer {API_KEY}"}


async def requests_a_user_makes(server: LiveServer) -> dict[str, httpx.Response]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        return {
            "web chat session": await client.post("/webchat/session", json={"language": "en"}),
            "shop API create": await client.post("/api/orders", json=NEW_ORDER, headers=API),
            "shop API read": await client.get("/api/orders/D-5001", headers=API),
            "order event": await client.post("/api/orders/D-5001/events",
                                             json={"type": "delivered"}, headers=API),
            "console login": await client.post("/console/api/login",
                                               json={"username": "ops", "password": "x" * 12}),
            "health": await client.get("/health"),
        }


@pytest.fixture
async def server_on_postgres(
    make_bot: BotFactory, own_postgres: StoppablePostgres  # noqa: F811
) -> AsyncIterator[LiveServer]:
    create_database(own_postgres.url, "orderbot")
    bot = await make_bot(f"{own_postgres.url}/orderbot", http={"port": free_port()},
                         demo={"enabled": False})
    server = await serve(bot)
    yield server
    await server.stop()


def assert_all_unavailable(responses: dict[str, httpx.Response]) -> None:
    for what, response in responses.items():
        assert response.status_code == 503, f"{what}: {response.status_code} {response.text}"
        assert "database" in response.json()["detail"], what
        assert response.headers.get("Retry-After", "").isdigit(), what


async def test_a_postgresql_shutting_down_gets_503_with_retry_after_and_serves_once_back(
    server_on_postgres: LiveServer, own_postgres: StoppablePostgres  # noqa: F811
) -> None:
    """A smart shutdown waits for a session another program holds: meanwhile every new
    connection is refused with 57P03 "the database system is shutting down" (as while it is
    starting up), which was a 500."""
    server = server_on_postgres
    async with httpx.AsyncClient(base_url=server.url) as client:
        token = (await client.post("/webchat/session", json={})).json()["token"]
    before = await counts(server.bot)
    await server.bot.database.engine.dispose()  # new connections: refused while shutting down
    holder = create_async_engine(f"{own_postgres.url}/orderbot")
    held: AsyncConnection = await holder.connect()
    await held.execute(text("SELECT 1"))
    await asyncio.to_thread(
        subprocess.run, [*own_postgres.as_postgres, str(own_postgres.bin / "pg_ctl"), "-D",
                         str(own_postgres.data), "stop", "-m", "smart", "-W"],
        check=True, stdout=subprocess.DEVNULL)
    try:
        await wait_until_refusing(own_postgres)
        assert_all_unavailable(await requests_a_user_makes(server))
        # The widget's socket: closed with 1013 "try again later" (it reconnects), not 1011.
        async with websockets.connect(f"{server.ws_url}/webchat/ws?token={token}",
                                      origin=Origin(server.url)) as socket:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 30)
            assert socket.close_code == 1013
    finally:
        await held.close()
        await holder.dispose()
    own_postgres.stop()  # the smart shutdown ends with the last session
    own_postgres.start()
    assert await counts(server.bot) == before  # nothing of the refused requests was kept
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        created = await client.post("/api/orders", json=NEW_ORDER, headers=API)
        assert created.status_code == 201, created.text  # not a 409: the first left nothing
        assert (await client.post("/webchat/session", json={})).status_code == 200
        assert (await client.get("/health")).status_code == 200


async def test_connections_cut_by_an_administrator_get_503_then_serve_again(
    server_on_postgres: LiveServer, own_postgres: StoppablePostgres  # noqa: F811
) -> None:
    """pg_terminate_backend on the bot's pooled connections (57P01, as in a fast shutdown):
    the request that meets a cut connection is a 503, and the next one is served."""
    server = server_on_postgres
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        assert (await client.post("/webchat/session", json={})).status_code == 200
        admin = create_async_engine(f"{own_postgres.url}/postgres")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = 'orderbot' AND pid <> pg_backend_pid()"))
        finally:
            await admin.dispose()
        statuses = {(await client.post("/webchat/session", json={})).status_code
                    for _ in range(3)}
        assert statuses <= {200, 503}, statuses  # a cut connection is a 503, never a 500
        assert (await client.post("/webchat/session", json={})).status_code == 200


async def wait_until_refusing(postgres: StoppablePostgres) -> None:
    """Until a new connection is refused: the shutdown has begun (a state, no sleep)."""
    deadline = time.monotonic() + 15
    probe = create_async_engine(f"{postgres.url}/postgres")
    try:
        while time.monotonic() < deadline:
            try:
                async with probe.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            except Exception as error:
                if "shutting down" in str(error):
                    return
            await probe.dispose()
            await asyncio.sleep(0.05)
    finally:
        await probe.dispose()
    raise AssertionError("PostgreSQL did not begin its shutdown")
