"""What is kept of the webhooks once the shop has them: delivered ones go `keep_days` after
delivery; erasing a customer deletes the delivered and failed ones about them at once, while
the ones still to be sent stay and still reach the shop."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from composition.bootstrap import Orderbot
from orders.tables import Customer
from shop_api.tables import WebhookDelivery
from shop_api.webhooks.retention import KIND
from storage.clock import utcnow
from storage.tables import Job
from tests.conftest import BotFactory
from tests.dialog.confirm_helpers import verified
from tests.doubles.webhook_shop import WebhookShop
from tests.integration.webhook_helpers import (
    admin_console,
    record,
    rows,
    settled,
    until,
    webhook_bot,
)


async def set_row(bot: Orderbot, row_id: int, **values: object) -> None:
    async with bot.database.transaction() as session:
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == row_id).values(**values))


async def test_delivered_webhooks_are_deleted_after_keep_days_and_the_rest_stay(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop, webhooks={"keep_days": 30})
    for reason in ("old", "recent", "failed long ago", "waiting long"):
        await record(bot, "order.cancelled", "A-1013", reason=reason)
    await webhook_shop.wait_for(4)
    await until(lambda: settled(bot))
    old, recent, failed, waiting = [row.id for row in await rows(bot)]
    now = utcnow()
    await set_row(bot, old, delivered_at=now - timedelta(days=31))
    await set_row(bot, recent, delivered_at=now - timedelta(days=29))
    await set_row(bot, failed, delivered_at=None, failed_at=now - timedelta(days=40))
    # Not yet delivered (as if the shop had been away for long): the shop must still get it.
    await set_row(bot, waiting, delivered_at=None, created_at=now - timedelta(days=40),
                  next_attempt_at=now + timedelta(days=1))

    # Today's run was done at start; tomorrow's finds them (run twice: as by two processes).
    tomorrow = now + timedelta(days=1, minutes=1)
    await bot.jobs.run_due(tomorrow)
    await bot.jobs.run_due(tomorrow)
    assert [row.id for row in await rows(bot)] == [recent, failed, waiting]
    async with bot.database.transaction() as session:
        jobs = list(await session.execute(select(Job.key, Job.done_at).where(
            Job.kind == KIND).order_by(Job.due_at)))
    assert [done is not None for _, done in jobs] == [True, True]  # one job a day, each once


async def test_keep_days_zero_keeps_every_delivered_webhook(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop, webhooks={"keep_days": 0})
    await record(bot, "order.cancelled", "A-1013", reason="test")
    await webhook_shop.wait_for(1)
    await until(lambda: settled(bot))
    [row] = await rows(bot)
    await set_row(bot, row.id, delivered_at=utcnow() - timedelta(days=3650))
    await bot.jobs.run_due(utcnow() + timedelta(days=1, minutes=1))
    assert [kept.id for kept in await rows(bot)] == [row.id]


async def test_erasure_deletes_what_the_shop_has_about_the_customer_and_sends_the_rest(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop)
    async with bot.database.transaction() as session:
        emma = await bot.orders.customer_by_email(session, "emma.thompson@example.com")
        assert isinstance(emma, Customer)
    chat = await verified(bot, "A-1013")  # Emma's own chat
    await chat.say("talk to a person")
    await record(bot, "order.delivery_changed", "A-1013")
    await record(bot, "order.cancelled", "A-1013", reason="given up on")
    await record(bot, "order.cancelled", "A-1014", reason="another customer's")
    await webhook_shop.wait_for(4)
    await until(lambda: settled(bot))
    escalated, changed, given_up, others = await rows(bot)
    assert escalated.ordering_key.startswith("conversation:")
    await set_row(bot, given_up.id, delivered_at=None, failed_at=utcnow())
    # One more about Emma's order that the shop has not taken yet.
    webhook_shop.fail(1000, 503, lambda payload: payload["data"].get("reason") == "pending")
    await record(bot, "order.cancelled", "A-1013", reason="pending")
    await webhook_shop.wait_until(lambda: webhook_shop.received[-1].status == 503)

    async with admin_console(bot) as console:
        answer = await console.post(f"/console/api/customers/{emma.id}/erase")
        assert answer.status_code == 200, answer.text
    left = {row.id: row for row in await rows(bot)}
    webhook_shop.stop_failing()
    assert {escalated.id, changed.id, given_up.id}.isdisjoint(left)
    assert others.id in left  # another customer's stays
    pending = [row for row in left.values() if row.order_number == "A-1013"]
    assert len(pending) == 1 and pending[0].delivered_at is None
    assert "Emma" in pending[0].body  # as it was recorded: deleted once delivered

    await webhook_shop.wait_until(lambda: {"customer.erased", "order.cancelled"} <= {
        r.type for r in webhook_shop.delivered[4:]})
    assert [r.payload["data"]["reason"] for r in webhook_shop.delivered[4:]
            if r.type == "order.cancelled"] == ["pending"]
