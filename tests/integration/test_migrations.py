"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import schema  # noqa: F401  (registers every table on Base.metadata)
from orders.database import make_engine
from orders.migrations import upgrade
from orders.models import Base


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def differences(engine: AsyncEngine) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def tables_and_revision(engine: AsyncEngine) -> tuple[set[str], str | None]:
    def read(connection: Connection) -> tuple[set[str], str | None]:
        revision = MigrationContext.configure(connection).get_current_revision()
        return set(inspect(connection).get_table_names()), revision

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    await upgrade(engine)
    assert await differences(engine) == []
    tables, revision = await tables_and_revision(engine)
    assert set(Base.metadata.tables) <= tables
    assert revision is not None


async def test_upgrading_twice_is_harmless(engine: AsyncEngine) -> None:
    await upgrade(engine)
    first = await tables_and_revision(engine)
    await upgrade(engine)
    assert await tables_and_revision(engine) == first
    assert await differences(engine) == []
