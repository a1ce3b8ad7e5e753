"""Reconciliation with the shop's open orders (orders/reconcile.py): each drifted order gets one
operator task and a history entry with both sides, the daily job and `python bot.py
reconcile` against a shop orders double on 127.0.0.1; a shop that answers badly changes
nothing."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.attachments import SWEEP
from orders.operator_tasks import open_operator_tasks
from orders.reconcile import DRIFT_TASK
from orders.states import OrderStatus
from orders.tables import OperatorTask, OrderHistory
from storage.clock import utcnow
from storage.jobs import cancel
from storage.repositories.proof_attempts import KIND as LAPSED_PROOFS
from storage.tables import Job
from tests.conftest import API_KEY, BotFactory, settings_environ
from tests.doubles.shop_orders_api import ShopOrdersDouble
from tests.integration.test_order_service import new_order
from tests.reliability.bot_process import ROOT, BotProcess

DAY = timedelta(days=1, hours=1)
SHOP_SAYS = [
    {"number": "D-1", "status": "confirmed", "lines": [{"sku": "KB", "quantity": 2}]},
    {"number": "D-2", "status": "shipped", "tracking_number": "T-9", "carrier": "DHL"},
    {"number": "D-3", "status": "confirmed", "lines": [{"sku": "KB", "quantity": 3}],
     "delivery": {"method": "courier"}, "total": "37.50"},
    {"number": "D-5", "status": "confirmed"},
    {"number": "D-7", "status": "delivered"},
]
DRIFTED = {
    "D-2": "status: bot confirmed, shop shipped; tracking: bot none, shop T-9",
    "D-3": "lines: bot KB x2, shop KB x3",
    "D-4": "the bot has it pending_confirmation, the shop does not list it as open",
    "D-5": "the shop has it open, the bot has no such order",
}


@pytest.fixture
async def shop() -> AsyncIterator[ShopOrdersDouble]:
    double = ShopOrdersDouble([])
    await double.start()
    yield double
    await double.stop()


async def the_bots_orders(bot: Orderbot) -> None:
    """D-1..D-3 confirmed (KB x2), D-4 pending, D-6 cancelled, D-7 delivered."""
    targets = {"D-1": [OrderStatus.CONFIRMED], "D-2": [OrderStatus.CONFIRMED],
               "D-3": [OrderStatus.CONFIRMED], "D-4": [],
               "D-6": [OrderStatus.CANCELLED],
               "D-7": [OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]}
    async with bot.database.transaction() as session:
        for number, moves in targets.items():
            await bot.orders.create_order(session, new_order(number, ("KB", 2)), "test")
            for target in moves:
                await bot.orders.move(session, number, target, "test")


async def drift_tasks(bot: Orderbot) -> list[str]:
    async with bot.database.transaction() as session:
        return [task.number for task in await open_operator_tasks(session)
                if task.kind == DRIFT_TASK]


async def drift_history(bot: Orderbot, number: str) -> list[str]:
    async with bot.database.transaction() as session:
        view = await bot.orders.get_order(session, number)
    assert view is not None
    return [entry.cause for entry in view.history if entry.cause.startswith("shop drift")]


@pytest.fixture
async def bot(make_bot: BotFactory, database_url: str, shop: ShopOrdersDouble) -> Orderbot:
    """A bot with [adapters] orders_url, on SQLite and PostgreSQL; its job loop is stopped
    so that the test runs the due jobs itself."""
    bot = await make_bot(database_url, demo={"enabled": False},
                         adapters={"orders_url": shop.url, "api_key": "orders-key"})
    await bot.jobs.stop()
    await bot.jobs.run_due()  # the run planned at start (the shop had no orders yet)
    async with bot.database.transaction() as session:  # only the reconciliation's runs count
        await cancel(session, SWEEP)  # the attachments' daily sweep, planned for tomorrow
        await cancel(session, LAPSED_PROOFS)  # and the clean-up of lapsed proof counts
    return bot


async def test_daily_job_opens_one_task_per_drifted_order_and_shows_both_sides(
    bot: Orderbot, shop: ShopOrdersDouble
) -> None:
    await the_bots_orders(bot)
    shop.orders = SHOP_SAYS
    assert await bot.jobs.run_due(utcnow() + DAY) == 1  # tomorrow's run
    assert {call.cursor for call in shop.calls[-3:]} == {"", "2", "4"}  # every page
    assert all(call.auth == "Bearer orders-key" for call in shop.calls)
    assert sorted(await drift_tasks(bot)) == ["D-2", "D-3", "D-4"]  # D-5 is not the bot's
    assert await drift_history(bot, "D-2") == [f"shop drift: {DRIFTED['D-2']}"]
    assert await drift_history(bot, "D-3") == [f"shop drift: {DRIFTED['D-3']}"]
    assert await drift_history(bot, "D-1") == []
    async with bot.database.transaction() as session:
        d2 = await bot.orders.get_order(session, "D-2")
    assert d2 is not None and d2.status is OrderStatus.CONFIRMED  # nothing else changed
    assert d2.tracking_number is None

    assert await bot.jobs.run_due(utcnow() + 2 * DAY) == 1  # the day after: still drifted
    assert sorted(await drift_tasks(bot)) == ["D-2", "D-3", "D-4"]  # but no second task
    assert await drift_history(bot, "D-2") == [f"shop drift: {DRIFTED['D-2']}"]
    async with bot.database.transaction() as session:
        planned = await session.scalar(select(Job.id).where(
            Job.kind == "shop_reconcile", Job.done_at.is_(None)))
    assert planned is not None  # and the next day's run is planned


@pytest.mark.parametrize("broken", ["500", "not json", "bad order"])
async def test_a_shop_answering_badly_changes_nothing_and_is_tried_again(
    bot: Orderbot, shop: ShopOrdersDouble, broken: str
) -> None:
    await the_bots_orders(bot)
    shop.orders, shop.broken = SHOP_SAYS, broken
    assert await bot.jobs.run_due(utcnow() + DAY) == 0
    assert await drift_tasks(bot) == []
    async with bot.database.transaction() as session:
        causes = await session.scalars(select(OrderHistory.cause))
        assert not [cause for cause in causes if cause.startswith("shop drift")]
        job = await session.scalar(select(Job).where(Job.kind == "shop_reconcile",
                                                     Job.done_at.is_(None)))
    assert job is not None and job.attempts == 1  # tried again later, with backoff
    shop.broken = None
    assert await bot.jobs.run_due(utcnow() + 2 * DAY) == 1
    assert sorted(await drift_tasks(bot)) == ["D-2", "D-3", "D-4"]


# The command line, as an operator runs it: a subprocess with the settings in ORDERBOT__*.

async def reconcile_command(database_url: str, **adapters: str) -> tuple[int, str, str]:
    environ = settings_environ(database_url, adapters=adapters)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "reconcile", cwd=str(ROOT),
        env={"PATH": "/usr/bin:/bin", **environ},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def sqlite_bot(make_bot: BotFactory, tmp_path: Path) -> tuple[Orderbot, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reconcile.db'}"
    bot = await make_bot(url, demo={"enabled": False})
    await the_bots_orders(bot)
    return bot, url


async def test_command_prints_each_drifted_order_and_a_summary(
    sqlite_bot: tuple[Orderbot, str], shop: ShopOrdersDouble
) -> None:
    bot, url = sqlite_bot
    shop.orders = SHOP_SAYS
    code, out, err = await reconcile_command(url, orders_url=shop.url)
    assert code == 0, err
    assert out.splitlines() == [
        "D-2: " + DRIFTED["D-2"] + " (task opened)",
        "D-3: " + DRIFTED["D-3"] + " (task opened)",
        "D-4: " + DRIFTED["D-4"] + " (task opened)",
        "D-5: " + DRIFTED["D-5"] + " (no new task)",
        "checked 6, drifted 4, tasks opened 3",
    ]
    code, out, _err = await reconcile_command(url, orders_url=shop.url)
    assert code == 0 and out.splitlines()[-1] == "checked 6, drifted 4, tasks opened 0"
    assert sorted(await drift_tasks(bot)) == ["D-2", "D-3", "D-4"]


async def test_command_without_orders_url_says_so(sqlite_bot: tuple[Orderbot, str]) -> None:
    _bot, url = sqlite_bot
    code, out, err = await reconcile_command(url)
    assert code == 2 and out == ""
    assert err.strip() == ("reconcile: no [adapters] orders_url is set: there are no shop "
                           "orders to compare with")


@pytest.mark.parametrize(("broken", "why"), [
    ("500", "shop orders answered 500"),
    ("not json", "shop orders answered with no JSON"),
    ("bad order", "shop orders answered an order without number or status"),
])
async def test_command_with_a_shop_answering_badly_changes_nothing(
    sqlite_bot: tuple[Orderbot, str], shop: ShopOrdersDouble, broken: str, why: str
) -> None:
    bot, url = sqlite_bot
    shop.orders, shop.broken = SHOP_SAYS, broken
    code, out, err = await reconcile_command(url, orders_url=shop.url)
    assert code == 1 and out == ""
    assert err.strip() == f"reconcile: cannot read the shop's orders ({why}); nothing changed"
    async with bot.database.transaction() as session:
        assert await session.scalar(select(OperatorTask.id)) is None


async def test_start_up_banner_names_each_adapter(tmp_path: Path, shop: ShopOrdersDouble) -> None:
    process = BotProcess.make(f"sqlite+aiosqlite:///{tmp_path / 'banner.db'}",
                              tmp_path / "bot.log", demo={"enabled": False},
                              adapters={"inventory_url": "https://erp.example/api",
                                        "orders_url": shop.url})
    await process.start()
    try:
        deadline = asyncio.get_running_loop().time() + 15
        while "adapters:" not in process.log():  # printed once it serves
            assert asyncio.get_running_loop().time() < deadline, process.log()
            await asyncio.sleep(0.05)
    finally:
        await process.stop()
    port = shop.url.rsplit(":", 1)[1]
    assert (f"adapters:       inventory=http(erp.example:443) courier=local payments=local "
            f"credit_check=local vouchers=local orders=http(127.0.0.1:{port})") in process.log()
    assert API_KEY not in process.log()
