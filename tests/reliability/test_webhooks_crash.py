"""kill -9 of the real bot process with webhooks in flight, the shop's endpoint down first.

The shop's webhook endpoint is not listening while a customer, in the web chat each order's
link opens, confirms one order, cancels another and changes the first one's delivery: each
change is committed with its webhook row, and the sender's first tries fail. The shop comes
back; the first webhook it takes kills the bot (the crash point `webhook_sent`: the shop
answered 200, the row is not yet marked delivered). After a restart every event arrives, the
one delivered before the kill again with the SAME webhook-id (the shop dedupes by it), and
each order's events in the order they happened.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, cast

import httpx

from tests.conftest import API_KEY, LiveServer
from tests.doubles.webhook_shop import SECRET, WebhookShop
from tests.e2e.test_webchat import Chat, chat
from tests.reliability.bot_process import BotProcess, execute, query, wait_for_rows
from tests.servers import reserved_port

CONFIRMED_THEN_CHANGED, CANCELLED = "W-7001", "W-7002"
ROWS = "SELECT webhook_id, type, order_number FROM webhook_deliveries ORDER BY id"
TRIED_WHILE_DOWN = (  # the heads of both orders tried, refused, none delivered
    "SELECT count(*) FROM webhook_deliveries WHERE attempts > 0 AND last_error IS NOT NULL"
    " AND delivered_at IS NULL")
UNDELIVERED = "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"


async def shop_creates(bot: BotProcess, number: str) -> str:
    """The shop's order through its API; the token of the order's web chat link."""
    async with httpx.AsyncClient(base_url=bot.url,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as api:
        created = await api.post("/api/orders", json={
            "number": number,
            "customer": {"name": "Olivia Brown", "email": "olivia.brown@example.com",
                         "language": "en"},
            "lines": [{"sku": "KB-110", "name": "Wireless keyboard", "quantity": 1,
                       "unit_price": "49.00"}],
            "currency": "EUR",
            "delivery": {"method": "courier", "address": {
                "street": "5 High St", "city": "Edinburgh", "postcode": "EH1 1YZ"}},
        })
    assert created.status_code == 201, created.text
    return str(created.json()["links"]["webchat"]).partition("?link=")[2]


async def answers(conversation: Chat, *texts: str) -> str:
    """Say each in turn; the bot's answer to the last."""
    reply: dict[str, Any] = {}
    for text in texts:
        reply = await conversation.say(text)
    return str(reply["text"])


def event(bodies: set[bytes]) -> tuple[str, str]:
    """The type and order number of the one body a webhook-id came with."""
    [body] = bodies
    payload = json.loads(body)
    return str(payload["type"]), str(payload["data"]["order"]["number"])


def in_order(received: list[str], happened: list[str]) -> bool:
    """Each event after the ones before it (a redelivery may repeat one in its place)."""
    ranks = [happened.index(webhook_id) for webhook_id in received]
    return ranks == sorted(ranks) and set(received) == set(happened)


async def test_kill_9_with_the_shop_down_then_back_delivers_every_event_once_per_id_in_order(
    demo_database: Path, tmp_path: Path
) -> None:
    shutil.copyfile(demo_database, tmp_path / "orderbot.db")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}"
    # Not listening until the shop comes back, and kept meanwhile: another test's server on
    # that port would take the webhooks the bot must find refused.
    shop, reserved = WebhookShop(), reserved_port()
    port = reserved.getsockname()[1]
    bot = BotProcess.make(database_url, tmp_path / "bot.log", webhooks={
        "url": f"http://127.0.0.1:{port}/hooks", "secret": SECRET, "timeout_seconds": 1})
    server = cast(LiveServer, bot)  # chat() needs only its url and ws_url
    try:
        await bot.start(crash_at="webhook_sent")
        first = await shop_creates(bot, CONFIRMED_THEN_CHANGED)
        second = await shop_creates(bot, CANCELLED)
        async with chat(server, link=first) as olivia:
            confirmed = await answers(olivia, "where is my order?", "Confirm my order", "yes",
                                      "courier", "1", "9-12", "card", "no code", "no thanks",
                                      "yes")
        assert confirmed.startswith(
            f"Your order {CONFIRMED_THEN_CHANGED} is confirmed (49.00 EUR). Thank you!")
        async with chat(server, link=second) as olivia:
            cancelled = await answers(olivia, f"cancel my order {CANCELLED}", "yes")
        assert cancelled == f"Order {CANCELLED} is cancelled."
        async with chat(server, link=first) as olivia:
            changed = await answers(olivia, "I want to change the delivery of "
                                    f"{CONFIRMED_THEN_CHANGED}", "1", "2", "afternoon")
        assert changed.startswith(f"Done: order {CONFIRMED_THEN_CHANGED} will come by courier")
        assert changed.endswith(", 12:00-15:00.")

        # Committed with the changes, in the order they happened; the shop refused them.
        happened = await query(database_url, ROWS)
        assert [(kind, number) for _, kind, number in happened] == [
            ("order.confirmed", CONFIRMED_THEN_CHANGED), ("order.cancelled", CANCELLED),
            ("order.delivery_changed", CONFIRMED_THEN_CHANGED)]
        await wait_for_rows(database_url, TRIED_WHILE_DOWN, [(2,)])

        # The shop comes back (its retries made due now: the test's hand on time); the first
        # webhook it takes kills the bot before the row is marked delivered.
        await shop.start(port)
        reserved.close()
        await execute(database_url, "UPDATE webhook_deliveries SET next_attempt_at = created_at")
        assert await bot.exited() == -9
        before_the_kill = [hook.webhook_id for hook in shop.delivered]
        assert before_the_kill  # taken by the shop, not marked: it must come again
        assert await query(database_url, UNDELIVERED) == [(3,)]

        await bot.start()
        await shop.wait_until(lambda: {h.webhook_id for h in shop.delivered} == {
            webhook_id for webhook_id, _, _ in happened})
        await wait_for_rows(database_url, UNDELIVERED, [(0,)])
    finally:
        reserved.close()
        await bot.kill()
        await shop.stop()

    ids = [webhook_id for webhook_id, _, _ in happened]
    assert all(hook.verified for hook in shop.received)
    # Each event under one id, carrying the same body every time it came.
    bodies: dict[str, set[bytes]] = {}
    for hook in shop.delivered:
        bodies.setdefault(hook.webhook_id, set()).add(hook.body)
    assert sorted(bodies) == sorted(ids) and all(len(b) == 1 for b in bodies.values())
    assert [event(bodies[webhook_id]) for webhook_id, _, _ in happened] == [
        (kind, number) for _, kind, number in happened]
    # What the shop took before the kill came again, under the same id.
    times = Counter(hook.webhook_id for hook in shop.delivered)
    assert all(times[webhook_id] >= 2 for webhook_id in before_the_kill)
    for number in (CONFIRMED_THEN_CHANGED, CANCELLED):
        expected = [webhook_id for webhook_id, _, of in happened if of == number]
        assert in_order([hook.webhook_id for hook in shop.of_order(number)], expected)
    assert [hook.type for hook in shop.of_order(CONFIRMED_THEN_CHANGED)][-1] == (
        "order.delivery_changed")
