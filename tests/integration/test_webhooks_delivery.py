"""Webhooks leave at least once, in order per order, retried until the shop takes them or
their retry window ends; admins see them and can send one again; a rollback sends nothing;
two senders on one database never send a row at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from composition.app import make_app
from composition.bootstrap import Orderbot
from shop_api.webhooks.sender import WebhookSender
from storage.clock import utcnow
from tests.conftest import BotFactory
from tests.dialog.conftest import Conversation
from tests.doubles.webhook_shop import SECRET, WebhookShop
from tests.integration.webhook_helpers import (
    admin_console,
    record,
    rows,
    settled,
    until,
    webhook_bot,
)


def of(number: str, type: str) -> object:
    def match(payload: dict[str, object]) -> bool:
        order = payload["data"]["order"]  # type: ignore[index]
        return payload["type"] == type and order is not None and order["number"] == number
    return match


async def metrics(bot: Orderbot) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://127.0.0.1") as client:
        return (await client.get("/metrics")).text


async def health(bot: Orderbot) -> dict[str, object]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://127.0.0.1") as client:
        return (await client.get("/health")).json()  # type: ignore[no-any-return]


async def test_a_failing_webhook_is_retried_with_its_id_and_holds_back_its_order_only(
    make_bot: BotFactory, webhook_shop: WebhookShop, database_url: str
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop, database_url)
    webhook_shop.fail(2, 500, of("A-1013", "order.delivery_changed"))
    async with bot.database.transaction() as session:  # one turn's changes, in this order
        for number, type in (("A-1013", "order.delivery_changed"), ("A-1013", "order.cancelled"),
                             ("A-1001", "order.delivery_changed")):
            order = await bot.orders.get_order(session, number)
            await bot.orders.changes.record(session, type, order=order, data={})
    first, later, other = [row.webhook_id for row in await rows(bot)]

    await webhook_shop.wait_until(lambda: len(webhook_shop.delivered) == 3)
    await until(lambda: settled(bot))
    tries = [(r.webhook_id, r.status) for r in webhook_shop.received]
    assert [status for webhook_id, status in tries if webhook_id == first] == [500, 500, 200]
    took_first = tries.index((first, 200))
    assert tries.index((other, 200)) < took_first  # another order is not held back
    assert min(i for i, (webhook_id, _) in enumerate(tries) if webhook_id == later) > took_first
    assert [r.webhook_id for r in webhook_shop.delivered].count(first) == 1
    [row] = [row for row in await rows(bot) if row.webhook_id == first]
    assert (row.attempts, row.last_status_code, row.last_error) == (3, 200, None)
    exposed = await metrics(bot)
    assert 'orderbot_webhooks_total{outcome="delivered"} 3.0' in exposed
    assert 'orderbot_webhooks_total{outcome="retried"} 2.0' in exposed
    assert "orderbot_webhooks_pending 0.0" in exposed


async def test_a_shop_that_does_not_answer_in_time_gets_it_again(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop)
    webhook_shop.hold()
    await record(bot, "order.cancelled", "A-1013", reason="test")
    [row] = await rows(bot)

    async def timed_out() -> bool:
        # Held by the shop, and given up on by the bot (under load the bot's timeout may come
        # before the shop's handler has seen the request: the retry is then the one held).
        return bool(webhook_shop.received) and (await rows(bot))[0].attempts >= 1

    await until(timed_out)
    held = webhook_shop.received[0]
    assert held.status == 0
    found = await health(bot)
    assert found["webhook_oldest_undelivered_id"] == row.id
    assert isinstance(found["webhook_oldest_undelivered_seconds"], int)
    webhook_shop.release()
    [taken] = await webhook_shop.wait_for(1)
    assert taken.webhook_id == held.webhook_id == row.webhook_id
    assert taken.body == held.body  # the same bytes on every try
    await until(lambda: settled(bot))
    [after] = await rows(bot)
    assert after.attempts >= 2 and after.last_error is None
    assert (await health(bot))["webhook_oldest_undelivered_id"] is None


async def test_failed_after_its_window_shown_to_admins_and_sent_again_on_request(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop)
    assert bot.webhooks is not None
    ahead = [timedelta(0)]  # a clock that runs, and can be moved on

    def clock() -> datetime:
        return utcnow() + ahead[0]

    bot.webhooks.clock = bot.orders.changes.clock = clock  # type: ignore[attr-defined]
    webhook_shop.fail(1000, 503)
    await record(bot, "order.cancelled", "A-1013", reason="test")
    await webhook_shop.wait_until(lambda: len(webhook_shop.received) >= 2)

    async def second_try_recorded() -> bool:  # its outcome written, the row free again
        [row] = await rows(bot)
        return row.attempts >= 2 and row.lease_owner is None

    await until(second_try_recorded)
    ahead[0] = timedelta(hours=72, minutes=1)  # the retry window (72 h) is over

    async def failed() -> bool:
        return (await rows(bot))[0].failed_at is not None

    bot.webhooks.wake()
    await until(failed)
    [row] = await rows(bot)
    assert (await health(bot))["webhook_oldest_undelivered_id"] is None  # given up, not due
    assert 'orderbot_webhooks_total{outcome="failed"} 1.0' in await metrics(bot)

    async with admin_console(bot) as console:
        shown = (await console.get("/console/api/webhooks", params={"status": "failed"})).json()
        [delivery] = shown["deliveries"]
        assert (delivery["id"], delivery["status"], delivery["type"], delivery["order"]) == (
            row.id, "failed", "order.cancelled", "A-1013")
        assert delivery["attempts"] >= 2 and delivery["last_status_code"] == 503
        assert delivery["last_error"].startswith("HTTP 503")
        assert delivery["payload"]["data"]["order"]["number"] == "A-1013"
        assert (await console.get("/console/api/webhooks",
                                  params={"status": "delivered"})).json()["deliveries"] == []

        webhook_shop.stop_failing()
        again = await console.post(f"/console/api/webhooks/{row.id}/resend")
        assert again.status_code == 200, again.text
        assert again.json()["delivery"]["status"] == "pending"
        [taken] = await webhook_shop.wait_for(1)
        assert taken.webhook_id == row.webhook_id  # the same webhook, as the shop knows it
        await until(lambda: settled(bot))
        [delivered] = (await console.get("/console/api/webhooks")).json()["deliveries"]
        assert delivered["status"] == "delivered" and delivered["resent_by"] == "console:admin"
        # A delivered one is replayed as it was: same id, same body.
        assert (await console.post(f"/console/api/webhooks/{row.id}/resend")).status_code == 200
        _, replayed = await webhook_shop.wait_for(2)
        assert (replayed.webhook_id, replayed.body) == (taken.webhook_id, taken.body)


async def test_a_turn_that_rolls_back_leaves_no_webhook(
    make_bot: BotFactory, webhook_shop: WebhookShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away mid-turn")

    monkeypatch.setattr(bot.store, "add_replies", broken)
    chat = Conversation(bot)
    with pytest.raises(RuntimeError):
        await chat.say("talk to a person")  # escalated, recorded, then rolled back
    assert await rows(bot) == []
    monkeypatch.undo()
    await chat.say("talk to a person")
    [hook] = await webhook_shop.wait_for(1)
    assert hook.type == "conversation.escalated" and len(await rows(bot)) == 1


async def test_only_admins_see_and_resend_deliveries_and_bad_requests_are_refused(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop)
    await record(bot, "order.cancelled", "A-1013", reason="test")
    await webhook_shop.wait_for(1)
    [row] = await rows(bot)
    async with admin_console(bot, "olga", admin=False) as operator:
        assert (await operator.get("/console/api/webhooks")).status_code == 403
        refused = await operator.post(f"/console/api/webhooks/{row.id}/resend")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "only an admin may do that"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://127.0.0.1") as stranger:
        assert (await stranger.get("/console/api/webhooks")).status_code == 401
    async with admin_console(bot) as admin:
        for path, status in ((f"/console/api/webhooks/{row.id + 100}/resend", 404),
                             ("/console/api/webhooks/abc/resend", 422),
                             ("/console/api/webhooks/0/resend", 422),
                             ("/console/api/webhooks/99999999999999999999/resend", 422)):
            answer = await admin.post(path)
            assert answer.status_code == status, (path, answer.text)
            assert answer.json()["detail"]
        cross_site = await admin.post(f"/console/api/webhooks/{row.id}/resend",
                                      headers={"Origin": "https://evil.example"})
        assert cross_site.status_code == 403
        for params in ({"status": "lost"}, {"type": "order.shipped"}, {"order": "A" * 65}):
            assert (await admin.get("/console/api/webhooks", params=params)).status_code == 422
        page = await admin.get("/console/deliveries")
        assert page.status_code == 200 and "deliveries.js" in page.text
    [after] = await rows(bot)
    assert after.resent_at is None and after.delivered_at is not None  # nothing queued again
    assert len(webhook_shop.received) == 1


async def test_two_senders_on_one_database_send_each_webhook_once(
    make_bot: BotFactory, webhook_shop: WebhookShop, database_url: str
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop, database_url)
    other = WebhookSender(bot.database, webhook_shop.url, SECRET, owner="other-process",
                          timeout_seconds=1)
    await other.start()
    try:
        numbers = [f"A-{1001 + n}" for n in range(12)]
        async with bot.database.transaction() as session:
            for number in numbers:
                for type in ("order.delivery_changed", "order.cancelled"):
                    order = await bot.orders.get_order(session, number)
                    await bot.orders.changes.record(session, type, order=order, data={})
        other.wake()
        await webhook_shop.wait_until(lambda: len(webhook_shop.delivered) == 24)
        ids = [r.webhook_id for r in webhook_shop.received]
        assert len(ids) == len(set(ids)) == 24  # none sent twice
        for number in numbers:
            assert [r.type for r in webhook_shop.of_order(number)] == [
                "order.delivery_changed", "order.cancelled"]
    finally:
        await other.stop()


async def test_a_dead_process_row_is_taken_over_when_its_lease_ends(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> None:
    bot = await webhook_bot(make_bot, webhook_shop)
    assert bot.webhooks is not None
    now = [utcnow()]
    bot.webhooks.clock = lambda: now[0]
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "A-1013")
        await bot.orders.changes.record(session, "order.cancelled", order=order, data={})
        from sqlalchemy import update

        from shop_api.tables import WebhookDelivery
        await session.execute(update(WebhookDelivery).values(
            lease_owner="dead-process", lease_until=now[0] + timedelta(minutes=1)))
    assert await bot.webhooks.send_due() == 0  # leased by a process that may still send it
    now[0] += timedelta(minutes=2)
    assert await bot.webhooks.send_due() == 1
    [taken] = await webhook_shop.wait_for(1)
    assert taken.type == "order.cancelled"
