"""Failed-proof counts in the database (storage/repositories/proof_attempts.py), on SQLite and
PostgreSQL: each transaction is a turn's, as two bot processes' turns would be, and what one
commits the next reads."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import schema  # noqa: F401  (every table)
from dialog.tables import ProofAttemptRow
from storage.clock import utcnow
from storage.database import Database
from storage.repositories.proof_attempts import SqlProofAttempts, delete_lapsed
from tests.integration.test_order_service import migrated

HOUR = 3600.0
# run(lambda attempts: ...) in a transaction of its own, committed: one turn's
Turn = Callable[[Callable[[SqlProofAttempts], Awaitable[Any]]], Awaitable[Any]]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = await migrated(database_url)
    yield database
    await database.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def turn(database: Database, clock: Clock) -> Turn:
    async def run(work: Callable[[SqlProofAttempts], Awaitable[Any]]) -> Any:
        async with database.transaction() as session:
            return await work(SqlProofAttempts(session, clock))

    return run


def fresh_key() -> str:
    return "test:" + secrets.token_hex(6)


async def test_failures_up_to_the_limit_lock_the_key_for_the_lockout(turn: Turn) -> None:
    key = fresh_key()
    for _ in range(2):
        assert await turn(lambda a: a.failed(key, 3, HOUR, 600)) is None
    assert await turn(lambda a: a.locked_many([key])) == [None]
    assert await turn(lambda a: a.failed(key, 3, HOUR, 600)) == 600  # the third
    (left,) = await turn(lambda a: a.locked_many([key]))
    assert left == 600
    # read together (an order's key and a client's two), and more than fit one statement
    free = [fresh_key() for _ in range(4)]
    found = await turn(lambda a: a.locked_many([free[0], key, free[1], free[2], free[3], key]))
    assert found == [None, 600, None, None, None, 600]


async def test_each_further_lockout_doubles_up_to_a_day(turn: Turn, clock: Clock) -> None:
    key = fresh_key()
    lockouts = []
    for _ in range(3):
        await turn(lambda a: a.failed(key, 2, HOUR, 60))
        lockouts.append(await turn(lambda a: a.failed(key, 2, HOUR, 60)))
    assert lockouts == [60, 120, 240]
    await turn(lambda a: a.failed(key, 2, HOUR, 40_000))
    assert await turn(lambda a: a.failed(key, 2, HOUR, 40_000)) == 86_400  # at most a day
    clock.now += timedelta(days=1, seconds=1)  # a day without a lockout: back to the first
    await turn(lambda a: a.failed(key, 2, HOUR, 60))
    assert await turn(lambda a: a.failed(key, 2, HOUR, 60)) == 60


async def test_cleared_forgets_the_failures_but_not_a_lockout(turn: Turn) -> None:
    key, locked = fresh_key(), fresh_key()
    await turn(lambda a: a.failed(key, 2, HOUR, 60))
    await turn(lambda a: a.cleared(key))
    assert await turn(lambda a: a.failed(key, 2, HOUR, 60)) is None

    async def read_then_clear(attempts: SqlProofAttempts) -> None:  # as a proof turn does
        await attempts.locked_many([key])
        await attempts.cleared(key)

    await turn(read_then_clear)
    assert await turn(lambda a: a.failed(key, 2, HOUR, 60)) is None
    await turn(lambda a: a.failed(locked, 1, HOUR, 60))
    await turn(lambda a: a.cleared(locked))
    assert await turn(lambda a: a.locked_many([locked])) == [60]


async def test_failures_outside_the_window_are_forgotten_and_lockouts_end(
    turn: Turn, clock: Clock,
) -> None:
    key = fresh_key()
    await turn(lambda a: a.failed(key, 2, 60, 600))
    clock.now += timedelta(seconds=61)
    assert await turn(lambda a: a.failed(key, 2, 60, 600)) is None
    assert await turn(lambda a: a.failed(key, 2, 60, 600)) == 600
    clock.now += timedelta(seconds=599)
    assert await turn(lambda a: a.locked_many([key])) == [1]
    clock.now += timedelta(seconds=1)
    assert await turn(lambda a: a.locked_many([key])) == [None]


async def test_turns_counting_one_key_at_once_lose_no_failure(database: Database) -> None:
    """Twenty turns at once, each in its own transaction on its own connection: on
    PostgreSQL each waits for the one holding the key's row, on SQLite for the writer. On the
    real clock: a turn that read the time before it waited counts as one that read it after."""
    key = fresh_key()

    async def guess() -> float | None:
        async with database.transaction() as session:
            return await SqlProofAttempts(session).failed(key, 5, HOUR, 60)

    lockouts = [seconds for seconds in await asyncio.gather(*(guess() for _ in range(20)))
                if seconds is not None]
    assert sorted(lockouts) == [60, 120, 240, 480]  # the 5th, 10th, 15th and 20th


async def test_the_daily_cleanup_deletes_only_lapsed_keys(
    database: Database, turn: Turn, clock: Clock,
) -> None:
    counted, locked = fresh_key(), fresh_key()
    await turn(lambda a: a.failed(counted, 5, HOUR, 60))
    await turn(lambda a: a.failed(locked, 1, HOUR, 7200))

    async def cleaned(after: timedelta) -> int:
        async with database.transaction() as session:
            await delete_lapsed(session, clock.now + after)
            return int(await session.scalar(
                select(func.count()).select_from(ProofAttemptRow)
                .where(ProofAttemptRow.key.in_([counted, locked]))) or 0)

    assert await cleaned(timedelta(hours=1, seconds=1)) == 1  # the lockout's doubling stays
    assert await cleaned(timedelta(days=1, seconds=1)) == 0
