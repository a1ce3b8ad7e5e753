"""Alembic environment: run by storage/upgrade.py at start (on the app's own connection) or
by alembic.

An empty database (a first start) is given the newest schema at once - the tables as the
models describe them, stamped with the head revision - instead of every migration one after
another (~0.2 s of a first start's CPU; tests/integration/test_migrations.py proves that both
give the schema the models describe). upgrade.py asks for that with the "create_empty"
attribute; the `alembic` command line migrates step by step as before."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import inspect
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
    empty = (context.config.attributes.get("create_empty", False)
             and not inspect(connection).get_table_names())
    with context.begin_transaction():
        if empty:
            target_metadata.create_all(connection)
            context.get_context().stamp(context.script, "head")
        context.run_migrations()  # from head: nothing to do after the stamp


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
