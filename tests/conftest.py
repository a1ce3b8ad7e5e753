"""Shared fixtures: real servers, a trained NLU model, a bot, and a live HTTP server."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from composition import bootstrap
from composition.app import make_app
from composition.bootstrap import Orderbot
from config import Settings, load_settings
from dialog.nlu import NluModel
from serving import MAX_WEBSOCKET_FRAME
from tests.servers import create_database, free_port, postgres_server, redis_server

# The platforms' doubles (telegram_api, slack_api, relay, telegram_server, slack_server)
pytest_plugins = ["tests.doubles.fixtures"]

API_KEY = "test-shop-key"


# The directories whose modules take longest (real bot processes, Chromium, the benchmark's
# smoke run) are handed to the workers first, so that the short modules fill in around them
# instead of one long module ending the run alone (scripts/test.sh keeps this order).
LONG_FIRST = ("reliability", "bench", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        directory = item.nodeid.split("/")[1] if item.nodeid.count("/") > 1 else ""
        return LONG_FIRST.index(directory) if directory in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: each module's tests keep their order


@pytest.fixture(scope="session")
def nlu() -> NluModel:
    return NluModel.train()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_base() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_base: str) -> str:
    """A new, empty database on the shared PostgreSQL server, for one test."""
    name = "t_" + uuid.uuid4().hex[:12]
    create_database(postgres_base, name)
    return f"{postgres_base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}"
    return str(request.getfixturevalue("postgres_url"))


def settings_environ(database_url: str, **sections: dict[str, Any]) -> dict[str, str]:
    """The tests' settings as ORDERBOT__* variables, as a user would set them."""
    environ = {
        "ORDERBOT__DATABASE__URL": database_url,
        "ORDERBOT__SHOP__API_KEYS": f'["{API_KEY}"]',
        "ORDERBOT__WEBCHAT__IDENTITY_SECRET": "test-identity-secret",
        # Operators always at work, so that what the customer is told does not depend on
        # the hour the tests run; tests of business hours set their own.
        "ORDERBOT__OPERATORS__BUSINESS_HOURS": "[]",
        # No made-up conversations in the demo database: tests count their own (the
        # dashboard's test of the demo turns them on).
        "ORDERBOT__DEMO__HISTORY": "false",
    }
    for section, values in sections.items():
        for key, value in values.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, list):
                value = "[" + ",".join(f'"{v}"' for v in value) + "]"
            environ[f"ORDERBOT__{section.upper()}__{key.upper()}"] = str(value)
    return environ


def make_settings(database_url: str, **sections: dict[str, Any]) -> Settings:
    """Settings as a user would write them, through the same loader and checks."""
    return load_settings(Path(__file__).parent.parent / "settings.toml",
                         settings_environ(database_url, **sections))


BotFactory = Callable[..., Awaitable[Orderbot]]


@pytest.fixture(scope="session")
async def demo_database(nlu: NluModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the demo shop, seeded once and copied per test."""
    path = tmp_path_factory.mktemp("template") / "demo.db"
    bot = bootstrap.build(make_settings(f"sqlite+aiosqlite:///{path}"), nlu=nlu)
    await bot.start()
    await bot.stop()
    return path


@pytest.fixture
async def make_bot(
    nlu: NluModel, tmp_path: Path, demo_database: Path
) -> AsyncIterator[BotFactory]:
    """Build and start bots (stopped at the end); demo data on unless told otherwise.

    Without a database_url each bot gets its own copy of the seeded demo SQLite database.
    A test that needs exact control of what messages mean passes a stand-in `model`.
    """
    started: list[Orderbot] = []

    async def build(
        database_url: str | None = None, model: NluModel | None = None,
        **sections: dict[str, Any],
    ) -> Orderbot:
        if database_url is None:
            path = tmp_path / f"orderbot-{len(started)}.db"
            if sections.get("demo", {}).get("enabled", True):
                shutil.copyfile(demo_database, path)
            database_url = f"sqlite+aiosqlite:///{path}"
        # A free port of its own unless the test names one: never settings.toml's 8000, which
        # a bot the developer runs, or another xdist worker, may hold.
        sections["http"] = {"port": free_port(), **sections.get("http", {})}
        # One process name for the test's bots, as on one host and port: a bot built again on
        # the same database is the same process restarted (dialog/takeover.py). Tests of
        # several processes name theirs.
        sections["process"] = {"name": "test-bot", **sections.get("process", {})}
        # Customers' files in the test's own folder, never the project's var/.
        sections["attachments"] = {"directory": str(tmp_path / "attachments"),
                                   **sections.get("attachments", {})}
        bot = bootstrap.build(make_settings(database_url, **sections), nlu=model or nlu)
        await bot.start()
        started.append(bot)
        return bot

    yield build
    for bot in reversed(started):
        await bot.stop()


class LiveServer:
    def __init__(self, bot: Orderbot, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.bot, self._server, self._task = bot, server, task
        port = server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task


async def serve(bot: Orderbot) -> LiveServer:
    """Run the bot's real HTTP app with uvicorn on its port (lifespan off: bot started)."""
    server = uvicorn.Server(
        uvicorn.Config(make_app(bot), host="127.0.0.1", port=bot.settings.http.port, lifespan="off",
                       log_level="warning", ws_max_size=MAX_WEBSOCKET_FRAME)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return LiveServer(bot, server, task)


@pytest.fixture
async def live_server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    bot = await make_bot(http={"port": free_port()})
    server = await serve(bot)
    yield server
    await server.stop()
