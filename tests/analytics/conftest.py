"""The hand-counted history (fixture.py) in a migrated database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from console.analytics.figures import Analytics
from storage.database import Database, make_engine
from storage.upgrade import upgrade
from tests.analytics import fixture


@pytest.fixture
async def history(database_url: str) -> AsyncIterator[Database]:
    database = Database(make_engine(database_url))
    await upgrade(database.engine)
    async with database.transaction() as session:
        await fixture.seed(session)
    yield database
    await database.dispose()


@pytest.fixture
def analytics(history: Database) -> Analytics:
    return Analytics(history)
