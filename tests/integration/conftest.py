"""The shop API's bot and client, shared by its test files (a file may define its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from composition.bootstrap import Orderbot
from tests.conftest import BotFactory
from tests.integration.test_shop_api import client_for


@pytest.fixture
async def bot(make_bot: BotFactory, database_url: str) -> Orderbot:
    """A bot with no demo data, on SQLite and on PostgreSQL."""
    return await make_bot(database_url, demo={"enabled": False})


@pytest.fixture
async def api(bot: Orderbot) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(bot) as client:
        yield client
