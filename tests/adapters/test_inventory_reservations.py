"""The ERP takes part in the order's stock: reserve at confirmation, release on cancel, commit
when it ships, each with its idempotency key (adapters/inventory/http.py, orders/reservations.py)
against an ERP double on 127.0.0.1; and the shop's own table as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.inventory.local import LocalInventory
from composition.bootstrap import Orderbot
from orders.cancellation import cancel_order
from orders.operator_tasks import open_operator_tasks
from orders.reservation_jobs import SHORT_TASK
from orders.tables import Product, StockReservation
from storage.clock import utcnow
from tests.conftest import BotFactory
from tests.dialog.confirm_helpers import fix_clock, order, shop_creates
from tests.dialog.conftest import Conversation
from tests.doubles.erp_api import ErpDouble, ErpProduct
from tests.integration.test_shop_api import client_for

KEYBOARD = ("KB-110", "Wireless keyboard", 2, 4900)
LATER = timedelta(hours=2)  # past any retry's backoff


@pytest.fixture
async def erp() -> AsyncIterator[ErpDouble]:
    double = ErpDouble({
        "KB-110": ErpProduct("Wireless keyboard", "computers", 4900, 5),
        "KB-120": ErpProduct("Compact keyboard", "computers", 4500, 8),
    })
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def bot(make_bot: BotFactory, erp: ErpDouble) -> Orderbot:
    bot = await make_bot(adapters={"inventory_url": erp.url})
    fix_clock(bot)
    return bot


async def up_to_final_question(bot: Orderbot, number: str) -> Conversation:
    conversation, _first = await shop_creates(bot, number, [KEYBOARD])
    assert "How would you like to receive" in await conversation.say("yes")
    await conversation.say("courier")
    await conversation.say("tomorrow")
    assert "How would you like to pay?" in await conversation.say("9-12")
    await conversation.say("2")  # bank transfer
    assert "Total: 98.00 EUR" in await conversation.press("No code")
    return conversation


async def confirmed_in_chat(bot: Orderbot, number: str) -> None:
    conversation = await up_to_final_question(bot, number)
    assert f"Your order {number} is confirmed" in await conversation.say("yes")


async def reservation_rows(bot: Orderbot, number: str) -> list[tuple[str, str]]:
    async with bot.database.transaction() as session:
        rows = await session.scalars(select(StockReservation).where(
            StockReservation.key.startswith(f"{number}:")).order_by(StockReservation.id))
        return [(row.key, row.status) for row in rows]


async def test_confirming_in_chat_reserves_the_orders_items_once(
    bot: Orderbot, erp: ErpDouble
) -> None:
    await confirmed_in_chat(bot, "R-1")
    [reserve] = erp.calls_of("reserve")
    assert reserve.ok and reserve.key == "R-1:reserve:1"
    assert reserve.body == {"key": "R-1:reserve:1", "order": "R-1", "items": {"KB-110": 2}}
    assert erp.products["KB-110"].available == 3
    assert (await order(bot, "R-1")).status.value == "confirmed"
    assert await reservation_rows(bot, "R-1") == [("R-1:reserve:1", "reserved")]


async def test_erp_short_at_confirmation_offers_alternatives_as_out_of_stock(
    bot: Orderbot, erp: ErpDouble
) -> None:
    conversation = await up_to_final_question(bot, "R-2")
    erp.products["KB-110"].available = 1  # sold meanwhile, in another of the shop's channels
    reply = await conversation.say("yes")
    assert "Sorry, Wireless keyboard has just sold out." in reply
    assert "out of stock" in reply
    assert "Compact keyboard (45.00 EUR)" in [button.title for button in conversation.buttons]
    assert [call.status for call in erp.calls_of("reserve")] == [409]
    assert (await order(bot, "R-2")).status.value == "pending_confirmation"

    await conversation.press("Compact keyboard (45.00 EUR)")  # the alternative, then confirm
    while "confirmed" not in "\n".join(r.text for r in conversation.replies):
        await conversation.press(conversation.buttons[0].title)
    retried = erp.calls_of("reserve")[-1]
    assert retried.ok and retried.body["items"] == {"KB-120": 2}
    assert retried.key == "R-2:reserve:2"  # the refused key is not sent again with other items
    assert (await order(bot, "R-2")).status.value == "confirmed"


async def test_cancel_releases_at_the_erp_even_when_it_was_down(
    bot: Orderbot, erp: ErpDouble
) -> None:
    await confirmed_in_chat(bot, "R-3")
    erp.down = True
    async with bot.database.transaction() as session:
        done = await cancel_order(session, bot.orders, None, "R-3", "customer in chat")
    assert done.order.status.value == "cancelled"  # the customer is not kept waiting
    await bot.jobs.run_due()
    await erp.wait_until(lambda: bool(erp.calls_of("release")))
    assert not erp.successful("release") and erp.products["KB-110"].available == 3

    erp.down = False
    await bot.jobs.run_due(utcnow() + LATER)
    await erp.wait_for("release")
    releases = erp.calls_of("release")
    assert len(releases) >= 2 and len(erp.successful("release")) == 1
    assert {call.key for call in releases} == {"R-3:reserve:1"}  # every retry, the same key
    assert erp.products["KB-110"].available == 5 and erp.held["R-3:reserve:1"].state == "released"
    await bot.jobs.run_due(utcnow() + 2 * LATER)
    assert len(erp.successful("release")) == 1  # done once


async def test_shipped_fact_commits_the_reservation(bot: Orderbot, erp: ErpDouble) -> None:
    await confirmed_in_chat(bot, "R-4")
    async with client_for(bot) as api:
        shipped = await api.post("/api/orders/R-4/events", json={
            "type": "shipped", "carrier": "DHL", "tracking_number": "JD1",
            "tracking_url": "https://dhl.example/JD1"})
    assert shipped.status_code == 200
    await bot.jobs.run_due()
    [commit] = await erp.wait_for("commit")
    assert commit.key == "R-4:reserve:1" and erp.held["R-4:reserve:1"].state == "committed"
    assert erp.products["KB-110"].available == 3  # a sale: nothing comes back
    assert await reservation_rows(bot, "R-4") == [("R-4:reserve:1", "committed")]


# down: the ERP took nothing, and when it answers the stock is short: a person is told.
# nonsense: the ERP did reserve but its answer was lost: the same key, the same reservation.
@pytest.mark.parametrize(("no_answer", "then"), [("down", "refused"), ("nonsense", "reserved")])
async def test_erp_without_an_answer_at_confirmation_confirms_and_asks_again_later(
    bot: Orderbot, erp: ErpDouble, no_answer: str, then: str
) -> None:
    conversation = await up_to_final_question(bot, "R-5")
    setattr(erp, no_answer, True)  # 503, or 200 with a JSON list instead of an object
    assert "Your order R-5 is confirmed" in await conversation.say("yes")
    assert await reservation_rows(bot, "R-5") == [("R-5:reserve:1", "pending")]

    setattr(erp, no_answer, False)
    erp.products["KB-110"].available = 0  # and by the time it answers, the stock is gone
    await bot.jobs.run_due(utcnow() + LATER)
    await erp.wait_until(lambda: len(erp.calls_of("reserve")) >= 2)
    assert {call.key for call in erp.calls_of("reserve")} == {"R-5:reserve:1"}
    assert await reservation_rows(bot, "R-5") == [("R-5:reserve:1", then)]
    async with bot.database.transaction() as session:
        tasks = [(t.number, t.kind) for t in await open_operator_tasks(session)]
    assert (("R-5", SHORT_TASK) in tasks) is (then == "refused")
    short = "inventory could not reserve: KB-110 (0 available)"
    assert (short in (await order(bot, "R-5")).history[-1].cause) is (then == "refused")


async def test_local_inventory_reserves_releases_and_commits_in_the_products_table(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot()
    inventory = LocalInventory()
    assert inventory.transactional
    async with bot.database.transaction() as session:
        before = {p.sku: p.stock for p in await session.scalars(
            select(Product).where(Product.sku.in_(["KB-110", "MS-210"])))}
        answer = await inventory.reserve(session, "k1", "X-1",
                                         {"KB-110": 2, "MS-210": 1, "NOT-STOCKED": 4})
        assert answer.granted == {"KB-110": 2} and answer.short == {"MS-210": before["MS-210"]}
        await inventory.commit(session, "k1", "X-1")
        stock = await session.scalar(select(Product.stock).where(Product.sku == "KB-110"))
        assert stock == before["KB-110"] - 2
        await inventory.release(session, "k1", "X-1", answer.granted)
        stock = await session.scalar(select(Product.stock).where(Product.sku == "KB-110"))
        assert stock == before["KB-110"]
