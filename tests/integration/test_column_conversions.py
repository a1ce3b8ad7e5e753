"""The prepared statements' own conversions (storage/column_conversions.py) store and read what
SQLAlchemy stores and reads: byte for byte, in both directions, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, cast, insert, select
from sqlalchemy.types import Text

from dialog.tables import InboxRow
from storage.database import Database, make_engine
from storage.prepared import Prepared
from storage.repositories.columns import bound_values
from storage.upgrade import upgrade

_COLUMNS = ("channel", "chat_id", "platform_id", "text", "context", "attachments", "received_at",
            "processed_at")
_ADD = Prepared(insert(InboxRow).values(bound_values(InboxRow.__table__, *_COLUMNS))
                .returning(InboxRow.id))
_READ = Prepared(select(InboxRow.context, InboxRow.attachments, InboxRow.received_at,
                        InboxRow.processed_at).where(InboxRow.id == bindparam("id")))
# What the database holds, as text: the stored bytes, whichever path wrote them.
_STORED = (cast(InboxRow.context, Text), cast(InboxRow.attachments, Text),
           cast(InboxRow.received_at, Text), cast(InboxRow.processed_at, Text))

WARSAW = timezone(timedelta(hours=2))
CASES: list[dict[str, Any]] = [
    {"context": {"page": "/zamówienie", "ref": "żółw ✓", "n": [1, 2.5, None, True]},
     "attachments": ["a-1", "b-2"],
     "received_at": datetime(2026, 12, 7, 4, 28, 51, 123456, tzinfo=UTC),
     "processed_at": datetime(2026, 12, 7, 6, 28, 51, 7, tzinfo=WARSAW)},
    {"context": {}, "attachments": [],
     "received_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
     "processed_at": None},
    {"context": None, "attachments": None,  # None is the JSON text null, as SQLAlchemy has it
     "received_at": datetime(999, 1, 1, tzinfo=UTC),
     "processed_at": datetime(2026, 3, 29, 1, 0, 0, 500000, tzinfo=WARSAW)},
]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    database = Database(make_engine(database_url))
    await upgrade(database.engine)
    try:
        yield database
    finally:
        await database.dispose()


async def _written_both_ways(database: Database, values: dict[str, Any]) -> tuple[int, int]:
    async with database.transaction() as session:
        prepared_id = await _ADD.scalar(
            session, v_channel="web", v_chat_id="c", v_platform_id=f"p-{id(values)}", v_text="",
            **{f"v_{name}": values[name] for name in _COLUMNS[4:]})
        sqlalchemy_id = (await session.execute(
            insert(InboxRow).values(channel="web", chat_id="c", platform_id=f"s-{id(values)}",
                                    **{name: values[name] for name in _COLUMNS[4:]})
            .returning(InboxRow.id))).scalar_one()
    return int(prepared_id), int(sqlalchemy_id)


@pytest.mark.parametrize("values", CASES, ids=["aware-microseconds", "empty", "nulls"])
async def test_a_row_is_stored_and_read_the_same_by_either_path(
    database: Database, values: dict[str, Any]
) -> None:
    prepared_id, sqlalchemy_id = await _written_both_ways(database, values)
    async with database.transaction() as session:
        stored = {row_id: (await session.execute(
            select(*_STORED).where(InboxRow.id == row_id))).one() for row_id in
            (prepared_id, sqlalchemy_id)}
        read_prepared = [await _READ.first(session, id=row_id)
                         for row_id in (prepared_id, sqlalchemy_id)]
        read_sqlalchemy = [tuple((await session.execute(
            select(InboxRow.context, InboxRow.attachments, InboxRow.received_at,
                   InboxRow.processed_at).where(InboxRow.id == row_id))).one())
            for row_id in (prepared_id, sqlalchemy_id)]

    assert stored[prepared_id] == stored[sqlalchemy_id]  # the same bytes in the database
    expected = (values["context"], values["attachments"], values["received_at"],
                values["processed_at"])
    for row in read_prepared + read_sqlalchemy:
        assert row == expected
        for at in row[2:]:  # aware, in UTC, as UtcDateTime promises
            assert at is None or at.utcoffset() == timedelta(0)


async def test_sqlite_text_is_sqlalchemy_s_storage_format(tmp_path: Any) -> None:
    database = Database(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"))
    await upgrade(database.engine)
    try:
        prepared_id, _ = await _written_both_ways(database, CASES[1])
        async with database.transaction() as session:
            row = (await session.execute(select(*_STORED).where(
                InboxRow.id == prepared_id))).one()
    finally:
        await database.dispose()
    assert tuple(row) == ("{}", "[]", "2026-01-02 03:04:05.000000", None)


async def test_a_naive_datetime_is_refused_by_either_path(database: Database) -> None:
    naive = {**CASES[1], "received_at": datetime(2026, 1, 2, 3, 4, 5)}
    with pytest.raises(Exception, match="naive datetime"):
        async with database.transaction() as session:
            await _ADD.scalar(session, v_channel="web", v_chat_id="c", v_platform_id="n", v_text="",
                              **{f"v_{name}": naive[name] for name in _COLUMNS[4:]})
    async with database.transaction() as session:
        count = len((await session.execute(select(InboxRow.id))).all())
    assert count == 0  # nothing stored half
