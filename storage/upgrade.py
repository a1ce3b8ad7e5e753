"""Bring the database schema to the newest Alembic revision."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage.database import Database, make_engine

# What a caller of in_migrated_database that knows no SQLAlchemy catches (a database it
# cannot reach or read).
DatabaseError = SQLAlchemyError

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
# pg_advisory_xact_lock key ("orderbot" in ASCII) held by whoever migrates or seeds at start
SETUP_LOCK = 0x6F72646572626F74


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "storage" / "migrations"))
    return config


async def upgrade(engine: AsyncEngine, step_by_step: bool = False) -> None:
    """Safe when several bot processes start at once on one PostgreSQL database: the first
    migrates, the others wait for it and then find nothing to do. An empty database gets the
    newest schema at once (storage/migrations/env.py) unless `step_by_step` (the migration
    tests run each migration)."""
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        config.attributes["create_empty"] = not step_by_step
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await hold_setup_lock(connection)
        await connection.run_sync(run)


async def hold_setup_lock(connection: AsyncConnection | AsyncSession) -> None:
    """Serialise start-up work (migrations, the demo seed) between processes until the caller's
    transaction ends. PostgreSQL only: SQLite serves one process and serialises writers."""
    bind = connection.get_bind() if isinstance(connection, AsyncSession) else connection
    if bind.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETUP_LOCK})


async def in_migrated_database(
    database_url: str, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """A command line's one transaction: migrate first (quietly), run work, let go."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # only the outcome is shown
    database = Database(make_engine(database_url))
    try:
        await upgrade(database.engine)
        async with database.transaction() as session:
            return await work(session)
    finally:
        await database.dispose()
