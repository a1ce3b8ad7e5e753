"""A newcomer's demo has a populated dashboard: a few weeks of conversations are seeded with
the demo shop, anonymous and finished, so nothing else of the demo changes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from console.analytics.periods import Filters, default_range
from dialog.tables import TranscriptEntry
from orders.tables import Customer
from storage.clock import utcnow
from tests.conftest import BotFactory


async def test_the_demo_seeds_weeks_of_history_for_the_dashboard(
    make_bot: BotFactory, tmp_path: Path,
) -> None:
    bot = await make_bot(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
                         demo={"enabled": True, "history": True})
    start, end = default_range(utcnow().date())
    figures = await bot.console.analytics.figures(Filters(start, end, group="week"))
    talk, operators = figures["conversations"], figures["operators"]
    assert talk["conversations"] > 100 and 0 < talk["escalated"] < talk["conversations"]
    assert {row["channel"] for row in talk["by_channel"]} == {
        "webchat", "telegram", "email", "slack"}
    assert {row["language"] for row in talk["by_language"]} == {"en", "pl", "ru"}
    # every week has some, but the first (cut by the range) and one that began today: the
    # demo's history ends yesterday, so on a Monday morning this week has none yet
    assert all(row["conversations"] for row in talk["series"][1:]
               if row["period"] != end.isoformat())
    assert talk["misunderstood_intents"] and talk["misunderstood_intents"][0]["examples"]
    assert figures["confirmation"]["sent"] > 10 and figures["confirmation"]["confirmed"]
    assert figures["self_service"]["status_answered"] > 0
    assert operators["per_operator"] and operators["satisfaction"]["ratings"] > 0
    assert await bot.desk.queue("escalated") == []  # all of it long finished
    async with bot.units() as uow:
        emma = await uow.session.scalar(select(Customer.id).where(
            Customer.email == "emma.thompson@example.com"))
        assert emma is not None
        assert await bot.store.latest_for_customer(uow, emma) is None  # news goes anew
        made = await uow.session.scalar(select(_SAID_BY_CUSTOMERS))
    await bot.stop()
    again = await make_bot(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
                           demo={"enabled": True, "history": True})
    async with again.database.transaction() as session:  # seeded once, with the shop
        assert await session.scalar(select(_SAID_BY_CUSTOMERS)) == made


# The history's lines (a second seed would double them). Not its conversations: from 09:00
# UTC the demo's payment reminder of the day (A-1042, due in two days) is due, and its job
# may open a conversation before or after either count.
_SAID_BY_CUSTOMERS = (select(func.count(TranscriptEntry.id))
                      .where(TranscriptEntry.sender == "customer").scalar_subquery())
