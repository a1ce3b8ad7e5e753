"""Durable due jobs on SQLite and PostgreSQL: scheduled once, run once, also by two runners
at the same moment, retried after a failure, still there after a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import schema  # noqa: F401  (every table)
from orders.tables import Customer
from storage.clock import utcnow
from storage.database import Database, make_engine
from storage.jobs import JobRunner, cancel, schedule
from storage.tables import Job
from storage.upgrade import upgrade


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(make_engine(database_url))
    await upgrade(database.engine)
    yield database
    await database.dispose()


async def add_customer(session: AsyncSession, payload: dict[str, Any]) -> None:
    """A handler whose effect is a row: run twice, it would add two."""
    session.add(Customer(name=payload["name"], language="en"))


async def customers(database: Database) -> list[str]:
    async with database.transaction() as session:
        return list(await session.scalars(select(Customer.name).order_by(Customer.id)))


async def test_a_job_runs_once_when_due(database: Database) -> None:
    now = utcnow()
    async with database.transaction() as session:
        assert await schedule(session, "add", "add:1", now + timedelta(hours=1), {"name": "Ann"})
        assert not await schedule(session, "add", "add:1", now, {"name": "Ann again"})
    runner = JobRunner(database)
    runner.register("add", add_customer)

    assert await runner.run_due(now) == 0
    assert await customers(database) == []
    assert await runner.run_due(now + timedelta(hours=1)) == 1
    assert await runner.run_due(now + timedelta(hours=2)) == 0
    assert await customers(database) == ["Ann"]


async def test_two_runners_at_once_run_a_job_once(database_url: str, database: Database) -> None:
    now = utcnow()
    async with database.transaction() as session:
        for n in range(10):
            await schedule(session, "add", f"add:{n}", now, {"name": f"C{n}"})
    other = Database(make_engine(database_url))  # a second process has its own pool
    try:
        first, second = JobRunner(database), JobRunner(other)
        for runner in (first, second):
            runner.register("add", add_customer)
        ran = await asyncio.gather(first.run_due(now), second.run_due(now))
    finally:
        await other.dispose()
    assert sum(ran) == 10
    assert sorted(await customers(database)) == sorted(f"C{n}" for n in range(10))


async def test_a_failing_job_changes_nothing_and_is_tried_again_later(
    database: Database,
) -> None:
    now = utcnow()
    async with database.transaction() as session:
        await schedule(session, "flaky", "flaky:1", now, {"name": "Bo"})
    failures = [RuntimeError("the adapter is down")]

    async def flaky(session: AsyncSession, payload: dict[str, Any]) -> None:
        await add_customer(session, payload)
        if failures:
            raise failures.pop()

    runner = JobRunner(database)
    runner.register("flaky", flaky)
    assert await runner.run_due(now) == 0
    assert await customers(database) == []  # the half-done work was rolled back
    async with database.transaction() as session:
        job = await session.scalar(select(Job).where(Job.key == "flaky:1"))
        assert job is not None and job.attempts == 1 and job.done_at is None
        assert "adapter is down" in (job.last_error or "")
        retry_at = job.due_at
    assert retry_at > now
    assert await runner.run_due(now) == 0  # not yet: backing off
    assert await runner.run_due(retry_at) == 1
    assert await customers(database) == ["Bo"]


async def test_jobs_survive_a_restart_and_can_be_cancelled(database_url: str) -> None:
    now = utcnow()
    first = Database(make_engine(database_url))
    await upgrade(first.engine)
    async with first.transaction() as session:
        await schedule(session, "add", "remind:A-1:7d", now, {"name": "Kept"})
        await schedule(session, "add", "remind:A-2:7d", now, {"name": "Cancelled"})
        await schedule(session, "add", "remind:A-2:3d", now, {"name": "Cancelled too"})
    await first.dispose()

    restarted = Database(make_engine(database_url))
    try:
        async with restarted.transaction() as session:
            assert await cancel(session, "remind:A-2:") == 2
        runner = JobRunner(restarted)
        runner.register("add", add_customer)
        assert await runner.run_due(now) == 1
        assert await customers(restarted) == ["Kept"]
    finally:
        await restarted.dispose()
