"""Payment due dates and reminders on SQLite and PostgreSQL: the jobs planned for a due date,
each run once at its time (also with two processes), an operator task the day after, an
escalation past the overdue level, and nothing more once the order is paid."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.messages import ConversationKey
from dialog.tables import Conversation as ConversationRow
from orders.billing import (
    OVERDUE_TASK,
    PaymentReminders,
    set_payment_due_date,
)
from orders.operator_tasks import open_operator_tasks
from orders.service import LineView, NewCustomer, NewOrder, OrderView
from storage.database import Database, make_engine
from storage.jobs import JobRunner
from storage.tables import Job
from tests.conftest import API_KEY, BotFactory

DUE = date(2026, 12, 10)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 20 days before the due date


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
async def bot(make_bot: BotFactory, database_url: str) -> Orderbot:
    return await make_bot(database_url, demo={"enabled": False})


async def add_order(bot: Orderbot, number: str = "B-1001", paid: bool = False) -> None:
    async with bot.database.transaction() as session:
        await bot.orders.create_order(session, NewOrder(
            number=number,
            customer=NewCustomer(name="Ann Lee", email=f"{number.lower()}@example.com"),
            lines=(LineView("KB-100", "Mechanical keyboard", 1, 8900),),
            currency="EUR", payment_method="bank_transfer",
            payment_status="paid" if paid else "pending",
        ), "test")


async def job_keys(database: Database, pending_only: bool = True) -> list[str]:
    """The payment jobs (other work, e.g. the order confirmation, has jobs of its own)."""
    async with database.transaction() as session:
        query = select(Job.key).where(Job.key.startswith("payment:")).order_by(Job.due_at, Job.key)
        if pending_only:
            query = query.where(Job.done_at.is_(None))
        return list(await session.scalars(query))


class Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    async def payment_reminder(self, session: Any, order: OrderView, days_left: int) -> None:
        self.calls.append(("reminder", order.number, days_left))

    async def payment_overdue(self, session: Any, order: OrderView, days_overdue: int) -> None:
        self.calls.append(("overdue", order.number, days_overdue))


def runner_for(bot: Orderbot, database: Database, recording: Recording) -> JobRunner:
    runner = JobRunner(database)
    PaymentReminders(bot.orders, recording, escalation_days=14).register(runner)
    return runner


async def test_a_due_date_plans_reminders_7_days_before_and_daily_from_3(bot: Orderbot) -> None:
    await add_order(bot)
    async with bot.database.transaction() as session:
        assert await set_payment_due_date(session, "B-1001", DUE, NOW) == 6
    async with bot.database.transaction() as session:  # planning twice changes nothing
        assert await set_payment_due_date(session, "B-1001", DUE, NOW) == 6
    assert await job_keys(bot.database) == [
        "payment:B-1001:reminder:2026-12-03",
        "payment:B-1001:reminder:2026-12-07",
        "payment:B-1001:reminder:2026-12-08",
        "payment:B-1001:reminder:2026-12-09",
        "payment:B-1001:reminder:2026-12-10",
        "payment:B-1001:operator_task:2026-12-11",
    ]
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "B-1001")
    assert order is not None and order.payment_due_date == DUE


async def test_days_already_past_are_not_reminded_and_a_paid_order_gets_nothing(
    bot: Orderbot,
) -> None:
    await add_order(bot, "B-1001")
    await add_order(bot, "B-1002", paid=True)
    async with bot.database.transaction() as session:
        await set_payment_due_date(session, "B-1001", DUE, at(DUE - timedelta(days=2), 15))
        assert await set_payment_due_date(session, "B-1002", DUE, NOW) == 0
    assert await job_keys(bot.database) == [
        "payment:B-1001:reminder:2026-12-08",  # today, after its hour: runs at once
        "payment:B-1001:reminder:2026-12-09",
        "payment:B-1001:reminder:2026-12-10",
        "payment:B-1001:operator_task:2026-12-11",
    ]


async def test_reminders_task_and_escalation_each_run_once_on_their_day(bot: Orderbot) -> None:
    await add_order(bot)
    async with bot.database.transaction() as session:
        await set_payment_due_date(session, "B-1001", DUE, NOW)
    recording = Recording()
    runner = runner_for(bot, bot.database, recording)

    assert await runner.run_due(at(DUE - timedelta(days=8))) == 0
    assert await runner.run_due(at(DUE - timedelta(days=7))) == 1
    assert await runner.run_due(at(DUE - timedelta(days=7), 18)) == 0
    for days_before in (3, 2, 1, 0):
        assert await runner.run_due(at(DUE - timedelta(days=days_before))) == 1
    assert recording.calls == [("reminder", "B-1001", n) for n in (7, 3, 2, 1, 0)]
    async with bot.database.transaction() as session:
        assert await open_operator_tasks(session) == []

    assert await runner.run_due(at(DUE + timedelta(days=1))) == 1
    async with bot.database.transaction() as session:
        [task] = await open_operator_tasks(session)
    assert (task.number, task.kind, task.done_at) == ("B-1001", OVERDUE_TASK, None)
    assert await job_keys(bot.database) == ["payment:B-1001:escalation:2026-12-24"]

    assert await runner.run_due(at(DUE + timedelta(days=13))) == 0
    assert await runner.run_due(at(DUE + timedelta(days=14))) == 1
    assert recording.calls[-1] == ("overdue", "B-1001", 14)
    assert await job_keys(bot.database) == []


async def test_payment_received_cancels_the_reminders(bot: Orderbot) -> None:
    body = {
        "number": "B-2001",
        "customer": {"name": "Ann Lee", "email": "ann@example.com"},
        "lines": [{"sku": "KB-100", "name": "Keyboard", "quantity": 1, "unit_price": "89.00"}],
        "currency": "EUR",
        "payment": {"method": "bank_transfer", "status": "pending", "due_date": "2099-01-31"},
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(bot)), base_url="http://test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as api:
        created = await api.post("/api/orders", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["payment"]["due_date"] == "2099-01-31"
        assert len(await job_keys(bot.database)) == 6
        bad = await api.post("/api/orders", json={
            **body, "number": "B-2002", "payment": {"due_date": "31.01.2099"}})
        assert bad.status_code == 422 and "due_date" in bad.text
        paid = await api.post("/api/orders/B-2001/events", json={"type": "payment_received"})
        assert paid.status_code == 200
        assert paid.json()["payment"]["status"] == "paid"
    assert await job_keys(bot.database) == []


async def test_a_reminder_for_an_order_paid_meanwhile_says_nothing(bot: Orderbot) -> None:
    await add_order(bot)
    async with bot.database.transaction() as session:
        await set_payment_due_date(session, "B-1001", DUE, NOW)
        # Paid by a way that did not cancel the jobs (e.g. marked by hand).
        await bot.orders.apply_event(session, "B-1001", "payment_received", "test")
    recording = Recording()
    runner = runner_for(bot, bot.database, recording)
    assert await runner.run_due(at(DUE + timedelta(days=30))) == 6
    assert recording.calls == []
    async with bot.database.transaction() as session:
        assert await open_operator_tasks(session) == []


async def test_the_escalation_queues_the_customers_conversation(bot: Orderbot) -> None:
    await add_order(bot)
    async with bot.database.transaction() as session:
        await set_payment_due_date(session, "B-1001", DUE, NOW)
    # The bot's own runner, with the real handlers and messages.
    for day in (DUE + timedelta(days=1), DUE + timedelta(days=14)):
        await bot.jobs.run_due(at(day))
    async with bot.database.transaction() as session:
        row = await session.scalar(select(ConversationRow))
        assert row is not None
        assert (row.status, row.escalation_reason) == ("escalated", "payment_overdue")
        key = ConversationKey(row.channel, row.chat_id)
    _, history = await bot.manager.history(key)
    assert history[-1].text == (
        "Payment for order B-1001 (89.00 EUR) was due on 10 Dec 2026 and has not reached us. "
        "A colleague will contact you here to help."
    )


@pytest.fixture
async def pg_bot(make_bot: BotFactory, postgres_url: str) -> Orderbot:
    return await make_bot(postgres_url, demo={"enabled": False})


async def test_two_processes_send_a_reminder_once_on_postgresql(
    pg_bot: Orderbot, postgres_url: str
) -> None:
    await add_order(pg_bot)
    async with pg_bot.database.transaction() as session:
        await set_payment_due_date(session, "B-1001", DUE, NOW)
    other = Database(make_engine(postgres_url))
    recording = Recording()
    try:
        first = runner_for(pg_bot, pg_bot.database, recording)
        second = runner_for(pg_bot, other, recording)
        moment = at(DUE - timedelta(days=7))
        ran = await asyncio.gather(first.run_due(moment), second.run_due(moment))
    finally:
        await other.dispose()
    assert sorted(ran) == [0, 1]
    assert recording.calls == [("reminder", "B-1001", 7)]
