"""Alembic environment: run by storage/upgrade.py at start (on the app's own connection) or
by alembic."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import schema  # noqa: F401  (registers every table on Base.metadata)
from storage.base import Base
from storage.database import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = make_engine(url or context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_online())
