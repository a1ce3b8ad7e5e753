"""PostgreSQL's transactions on long-lived sessions (storage/postgres_transactions.py): at
most pool_size connections for the bot's transactions, the rest wait their turn; a failed,
cancelled or cut transaction leaves nothing behind and the next one is served; nothing loaded
in one transaction is trusted in the next."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import exc, select, text, update

from dialog.messages import ConversationKey
from dialog.tables import Conversation
from dialog.unit_of_work import ROW_LOCK, Fenced
from storage.clock import utcnow
from storage.database import Database, make_engine
from storage.repositories.unit_of_work import SqlUnitOfWork
from storage.upgrade import upgrade


async def _database(url: str, pool_size: int) -> Database:
    engine = make_engine(url, pool_size=pool_size, max_overflow=2)
    await upgrade(engine)
    return Database(engine)


@pytest.fixture
async def admin(postgres_url: str) -> AsyncIterator[Database]:
    """Another process on the same database."""
    other = Database(make_engine(postgres_url))
    yield other
    await other.dispose()


async def _chats(database: Database) -> set[str]:
    """The chats whose conversations were kept."""
    async with database.transaction() as session:
        return set(await session.scalars(select(Conversation.chat_id)))


async def _add(database: Database, chat: str) -> None:
    async with SqlUnitOfWork(database) as uow:
        await uow.conversations.add(ConversationKey("webchat", chat), "en", None)
        await uow.commit()


async def _connections(admin: Database) -> int:
    """Connections open on the test's database, but the one asking (another process's)."""
    async with admin.transaction() as session:
        return int(await session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")) or 0)


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + 30
    while not await condition():
        assert time.monotonic() < deadline, "the condition never came"
        await asyncio.sleep(0.02)


async def test_transactions_beyond_the_pool_wait_their_turn_and_every_one_is_kept(
    postgres_url: str, admin: Database,
) -> None:
    database = await _database(postgres_url, pool_size=3)  # and max_overflow 2
    release = asyncio.Event()
    inside = 0

    async def turn(n: int) -> None:
        nonlocal inside
        async with SqlUnitOfWork(database) as uow:
            await uow.conversations.add(ConversationKey("webchat", f"c-{n}"), "en", None)
            inside += 1
            await release.wait()
            await uow.commit()

    turns = [asyncio.create_task(turn(n)) for n in range(30)]

    async def three_inside() -> bool:
        return inside == 3

    await _until(three_inside)
    for _ in range(50):  # the others had every chance to start
        await asyncio.sleep(0)
    assert inside == 3  # the fourth waits for a free session...
    assert await _connections(admin) == 3  # ...not for an overflow connection
    release.set()
    await asyncio.gather(*turns)
    assert len(await _chats(database)) == 30
    await database.dispose()


async def test_a_failed_transaction_leaves_nothing_and_its_connection_serves_the_next(
    postgres_url: str,
) -> None:
    database = await _database(postgres_url, pool_size=1)
    key = ConversationKey("webchat", "twice")
    with pytest.raises(exc.IntegrityError):
        async with SqlUnitOfWork(database) as uow:
            await uow.conversations.add(ConversationKey("webchat", "lost"), "en", None)
            await uow.conversations.add(key, "en", None)
            await uow.conversations.add(key, "en", None)  # the same chat twice: refused
            await uow.commit()
    await _add(database, "twice")
    chats = await _chats(database)
    await database.dispose()
    assert chats == {"twice"}


async def test_a_cancelled_transaction_is_rolled_back_and_the_next_one_is_served(
    postgres_url: str, admin: Database,
) -> None:
    database = await _database(postgres_url, pool_size=1)

    async def slow() -> None:
        async with SqlUnitOfWork(database) as uow:
            await uow.conversations.add(ConversationKey("webchat", "cancelled"), "en", None)
            await uow.session.execute(text("SELECT pg_sleep(30)"))
            await uow.commit()

    async def sleeping() -> bool:
        async with admin.transaction() as session:
            return bool(await session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
                "AND state = 'active' AND datname = current_database()")))

    task = asyncio.create_task(slow())
    await _until(sleeping)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _add(database, "next")
    chats = await _chats(database)
    await database.dispose()
    assert chats == {"next"}


async def test_a_transaction_reads_what_another_process_committed_since_the_last_one(
    postgres_url: str, admin: Database,
) -> None:
    """The session outlives its transactions, but not what they loaded: an object read in
    one transaction is read again in the next, as with a new session."""
    database = await _database(postgres_url, pool_size=1)
    await _add(database, "c")
    async with database.transaction() as session:
        loaded = await session.scalar(select(Conversation).where(Conversation.chat_id == "c"))
        assert loaded is not None and loaded.language == "en"
    async with admin.transaction() as session:
        await session.execute(update(Conversation).values(language="pl"))
    async with database.transaction() as session:
        again = await session.get(Conversation, loaded.id)
        language = again.language if again is not None else None
    await database.dispose()
    assert language == "pl"


async def test_connections_cut_by_an_administrator_fail_one_transaction_at_most(
    postgres_url: str, admin: Database,
) -> None:
    """A cut noticed while the connection is idle costs nothing; one met by a statement fails
    that transaction with a database error (a 503 at the bot's edge), and the next is served
    on a new connection."""
    database = await _database(postgres_url, pool_size=2)
    await _add(database, "before")  # a session and its connection, kept
    async with admin.transaction() as session:
        await session.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    async def gone() -> bool:
        return await _connections(admin) == 0

    await _until(gone)
    outcomes = []
    for n in range(2):
        try:
            await _add(database, f"after-{n}")
            outcomes.append("kept")
        except exc.DBAPIError:
            outcomes.append("refused")
    assert outcomes in (["kept", "kept"], ["refused", "kept"])
    assert len(await _chats(database)) == 1 + outcomes.count("kept")
    await database.dispose()


async def test_transactions_waiting_for_a_session_get_one_in_the_order_they_asked(
    postgres_url: str,
) -> None:
    """No turn waits for ever behind later ones: a session coming back is handed to the
    first that asked, not to a transaction that starts at that very moment."""
    database = await _database(postgres_url, pool_size=1)
    order: list[str] = []
    release = asyncio.Event()

    async def turn(name: str, hold: asyncio.Event | None = None) -> None:
        async with SqlUnitOfWork(database) as uow:
            order.append(name)
            await uow.conversations.add(ConversationKey("webchat", name), "en", None)
            if hold is not None:
                # Run as soon as the session is back, before anything else gets to run.
                uow.after_commit(lambda: turn("late"))
                await hold.wait()
            await uow.commit()

    first = asyncio.create_task(turn("first", release))

    async def first_inside() -> bool:
        return order == ["first"]

    await _until(first_inside)
    waiting = [asyncio.create_task(turn(f"waiting-{n}")) for n in range(3)]
    for _ in range(20):
        await asyncio.sleep(0)  # every waiting turn has asked for its session
    release.set()
    await asyncio.gather(first, *waiting)
    await database.dispose()
    assert order == ["first", "waiting-0", "waiting-1", "waiting-2", "late"]


async def test_an_autocommit_unit_keeps_each_statement_and_the_next_unit_is_a_transaction(
    postgres_url: str,
) -> None:
    """The outbox's one-statement work (sent marks, send checks) runs without BEGIN and
    COMMIT: each statement is kept as it runs. The session it ran on (the only one here) is a
    transaction again for the next unit of work."""
    database = await _database(postgres_url, pool_size=1)
    key = ConversationKey("webchat", "a")
    await _add(database, "a")
    with pytest.raises(RuntimeError):
        async with SqlUnitOfWork(database, autocommit=True) as uow:
            state = await uow.conversations.find(key)
            assert state is not None
            state.flow = "status"
            await uow.conversations.save(state, utcnow())
            raise RuntimeError("left without commit")
    async with SqlUnitOfWork(database) as uow:  # left without commit: rolled back
        await uow.conversations.add(ConversationKey("webchat", "b"), "en", None)
        found = await uow.conversations.find(key)
    await database.dispose()
    database = await _database(postgres_url, pool_size=1)
    try:
        assert found is not None and found.flow == "status"
        assert await _chats(database) == {"a"}
    finally:
        await database.dispose()


async def _waiting_for_a_lock(admin: Database) -> bool:
    async with admin.transaction() as session:
        return bool(await session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'")))


async def test_a_row_locked_load_waits_for_another_processs_turn_and_reads_its_commit(
    postgres_url: str, admin: Database,
) -> None:
    """The lock of a conversation across processes (unit_of_work.ROW_LOCK): a turn of one
    process waits at the conversation's row for the other's transaction, and then reads the
    state that transaction committed, not the one before it (no lease to run out, no token)."""
    key = ConversationKey("webchat", "shared")
    one, other = await _database(postgres_url, pool_size=2), await _database(postgres_url, 2)
    await _add(one, "shared")
    release = asyncio.Event()

    async def first_turn() -> None:
        async with SqlUnitOfWork(one) as uow:
            state = await uow.conversations.find(key, ROW_LOCK)
            assert state is not None
            state.flow, state.step = "status", "ask_number"
            await uow.conversations.save(state, utcnow())
            await release.wait()
            await uow.commit()

    async def second_turn() -> str | None:
        async with SqlUnitOfWork(other) as uow:
            state = await uow.conversations.find(key, ROW_LOCK)
            await uow.commit()
        assert state is not None
        return state.flow

    first = asyncio.create_task(first_turn())
    await _until(lambda: _is_locked(admin))
    second = asyncio.create_task(second_turn())
    await _until(lambda: _waiting_for_a_lock(admin))
    assert not second.done()
    release.set()
    await first
    assert await second == "status"
    await one.dispose()
    await other.dispose()


async def test_a_conversation_made_by_another_process_meanwhile_runs_the_turn_again(
    postgres_url: str, admin: Database,
) -> None:
    """Two processes' first turns of a new conversation: there is no row to lock yet; the
    second waits at the row being made, and is told to run again (Fenced) once it is."""
    key = ConversationKey("webchat", "new")
    one, other = await _database(postgres_url, pool_size=2), await _database(postgres_url, 2)
    release = asyncio.Event()

    async def first_turn() -> None:
        async with SqlUnitOfWork(one) as uow:
            assert await uow.conversations.find(key, ROW_LOCK) is None
            await uow.conversations.add(key, "pl", None, ROW_LOCK)
            await release.wait()
            await uow.commit()

    async def second_turn() -> None:
        async with SqlUnitOfWork(other) as uow:
            assert await uow.conversations.find(key, ROW_LOCK) is None
            await uow.conversations.add(key, "en", None, ROW_LOCK)

    first = asyncio.create_task(first_turn())
    await _until(lambda: _is_locked(admin))
    second = asyncio.create_task(second_turn())
    await _until(lambda: _waiting_for_a_lock(admin))
    release.set()
    await first
    with pytest.raises(Fenced):
        await second
    async with SqlUnitOfWork(other) as uow:  # run again: the first turn's conversation
        found = await uow.conversations.find(key, ROW_LOCK)
    assert found is not None and found.language == "pl"
    await one.dispose()
    await other.dispose()


async def _is_locked(admin: Database) -> bool:
    """Some transaction holds a row lock of `conversations` (its turn is inside)."""
    async with admin.transaction() as session:
        return bool(await session.scalar(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE c.relname = 'conversations' AND l.mode = 'RowExclusiveLock'"
            " AND l.pid <> pg_backend_pid()")))
