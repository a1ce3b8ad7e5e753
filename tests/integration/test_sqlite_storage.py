"""The embedded database's own machinery: statements run on the driver, the write-ahead log
checkpointed off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import exc

from dialog.messages import ConversationKey, Inbound
from storage.clock import utcnow
from storage.database import Database, make_engine
from storage.repositories.unit_of_work import SqlUnitOfWork
from storage.upgrade import upgrade

KEY = ConversationKey("webchat", "wal-1")


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}")
    await upgrade(engine)
    return Database(engine)


async def test_a_copy_of_the_database_file_alone_holds_what_was_committed(
    database: Database, tmp_path: Path
) -> None:
    """The log is moved into the database file while the bot runs (not only inside some
    customer's turn, nor only at shutdown): the file an operator copies holds the turns."""
    async with SqlUnitOfWork(database) as uow:
        state = await uow.conversations.add(KEY, "en", None)
        await uow.commit()
    text = "x" * 2_000  # enough messages to pass the checkpoint's threshold of log
    for n in range(3_000):
        async with SqlUnitOfWork(database) as uow:
            await uow.transcript.add_inbound(
                state.id, Inbound(key=KEY, text=f"{n} {text}", message_id=f"m-{n}"),
                utcnow(), None, None, recorded_in_inbox=True)
            await uow.commit()
    path = tmp_path / "orderbot.db"
    deadline = time.monotonic() + 30
    while True:
        # immutable=1 reads the database file only, as a copy of it without its -wal would
        # (a read in the middle of a checkpoint may see a torn page: read again)
        try:
            with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as copy:
                kept = copy.execute("SELECT count(*) FROM transcript").fetchone()[0]
        except sqlite3.DatabaseError:
            kept = 0
        if kept >= 2_900 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    await database.dispose()
    assert kept >= 2_900  # all but the last moments' turns, without the log file


async def test_a_duplicate_through_the_driver_is_sqlalchemys_integrity_error(
    database: Database,
) -> None:
    async with SqlUnitOfWork(database) as uow:
        state = await uow.conversations.add(KEY, "en", None)
        hello = Inbound(key=KEY, text="hello", message_id="m-1")
        await uow.transcript.add_inbound(state.id, hello, utcnow(), None, None,
                                         recorded_in_inbox=True)
        with pytest.raises(exc.IntegrityError):
            await uow.transcript.add_inbound(state.id, hello, utcnow(), None, None,
                                             recorded_in_inbox=True)
        await uow.commit()
    async with SqlUnitOfWork(database) as uow:
        _, history = await uow.transcript.history(KEY, 10)
    await database.dispose()
    assert [entry.text for entry in history] == ["hello"]


class Refused(Exception):
    pass


async def test_transactions_of_many_conversations_at_once_are_each_durable_when_they_return(
    database: Database, tmp_path: Path
) -> None:
    """Twenty turns at once (they share COMMITs: storage/sqlite_transactions.py): each
    turn's after-commit work (its reply leaving) sees the turn in the database file from
    another connection; the one turn that fails leaves nothing, the others lose nothing."""
    path = tmp_path / "orderbot.db"
    seen: dict[int, bool] = {}

    def visible(chat_id: str) -> bool:
        with sqlite3.connect(path) as other:
            return other.execute("SELECT count(*) FROM conversations WHERE chat_id = ?",
                                 (chat_id,)).fetchone()[0] == 1

    async def turn(n: int) -> None:
        async with SqlUnitOfWork(database) as uow:
            await uow.conversations.add(ConversationKey("webchat", f"c-{n}"), "en", None)
            if n == 7:
                raise Refused
            uow.after_commit(lambda: seen.__setitem__(n, visible(f"c-{n}")))
            await uow.commit()

    results = await asyncio.gather(*(turn(n) for n in range(20)), return_exceptions=True)
    await database.dispose()
    assert [n for n, result in enumerate(results) if isinstance(result, Refused)] == [7]
    assert seen == {n: True for n in range(20) if n != 7}
    with sqlite3.connect(path) as other:
        kept = {row[0] for row in other.execute("SELECT chat_id FROM conversations")}
    assert kept == {f"c-{n}" for n in range(20) if n != 7}
