"""kill -9 of the real bot process at each point of a turn, then a restart without the hook.

A Telegram customer (webhook mode, the Bot API double in this process), known by their Telegram
identity (a paid order is cancelled at the strong level of proof, docs/security.md), asks to
cancel a paid order; the bot asks "Cancel order A-1014?"; the customer says "yes" and the bot
dies at one point of that turn (dialog/crashpoints.py). Telegram sends again an update it got
no 200 for; the test re-sends it in any case, since a replay must be harmless too. After the
restart: the "yes" is answered, the order is cancelled and refunded exactly once, and a reply
is sent twice only when the process died after Telegram took it and before it was marked sent
(Telegram's sendMessage has no idempotency key), which the bot logs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.doubles.telegram_api import USERS, WEBHOOK_SECRET, TelegramApiDouble, text_update
from tests.reliability.bot_process import BotProcess, execute, query, wait_for_rows

CUSTOMER = "olivia"
CHAT = USERS[CUSTOMER]["id"]
ORDER = "A-1014"  # confirmed and paid by card: cancelling it starts a refund
POSTCODE = "M1 1AE"
QUESTION = f"Cancel order {ORDER}?"
DONE = f"Order {ORDER} is cancelled."
DUPLICATE_LOG = "sent again after a restart: a possible duplicate"
SETTLED = (  # every recorded message answered, every committed reply sent
    "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL),"
    " (SELECT count(*) FROM outbox WHERE sent_at IS NULL)"
)



async def post_update(bot: BotProcess, update: dict[str, Any]) -> int | None:
    """Deliver an update as Telegram does; the HTTP status, None if the bot never answered."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        try:
            response = await client.post(
                f"{bot.url}/telegram/webhook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
        except httpx.TransportError:
            return None
    return response.status_code


def replies(telegram_api: TelegramApiDouble, start: str) -> list[str]:
    return [m["text"] for m in telegram_api.sent(CHAT) if m["text"].startswith(start)]


async def deliver(bot: BotProcess, telegram_api: TelegramApiDouble, update: dict[str, Any],
                  polling: bool) -> bool:
    """Hand Telegram's update to the bot; whether it was acknowledged (polling: queued)."""
    if polling:
        telegram_api.push_update(update)
        return True
    return await post_update(bot, update) == 200


# The webhook records a message in its turn's own transaction: a kill before that commits
# (inbound_received, turn_loaded) leaves it unacknowledged. Polling records it first and
# answers in the background: inbound_recorded (recorded, the turn not run) is polling's.
@pytest.mark.parametrize(
    "point", ["inbound_received", "turn_loaded", "inbound_recorded", "reply_queued", "reply_sent"]
)
async def test_kill_9_during_a_cancel_turn_loses_nothing_and_applies_it_once(
    point: str, telegram_api: TelegramApiDouble, demo_database: Path, tmp_path: Path
) -> None:
    shutil.copyfile(demo_database, tmp_path / "orderbot.db")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'orderbot.db'}"
    await execute(
        database_url, "INSERT INTO customer_identities (customer_id, channel, external_id,"
        " created_at) SELECT customer_id, 'telegram', :chat, CURRENT_TIMESTAMP FROM orders"
        " WHERE number = :n", chat=str(CHAT), n=ORDER)
    polling = point == "inbound_recorded"
    bot = BotProcess.make(database_url, tmp_path / "bot.log", telegram=telegram_api.bot_settings(
        mode="polling" if polling else "webhook"))
    try:
        # The question, answered and settled; then a kill -9 at rest.
        await bot.start()
        asked = text_update(telegram_api.next_update_id(), CUSTOMER, f"cancel {ORDER} {POSTCODE}")
        assert await deliver(bot, telegram_api, asked, polling)
        await telegram_api.wait_until(lambda: bool(replies(telegram_api, QUESTION)))
        await wait_for_rows(database_url, SETTLED, [(0, 0)])
        await bot.kill()

        # "yes", and the bot dies at the point.
        await bot.start(crash_at=point)
        yes = text_update(telegram_api.next_update_id(), CUSTOMER, "yes")
        acknowledged = await deliver(bot, telegram_api, yes, polling)
        assert await bot.exited() == -9
        if point in ("inbound_received", "turn_loaded"):
            assert not acknowledged  # nothing recorded, so nothing acknowledged

        # Restarted without the hook; Telegram delivers the update again.
        await bot.start()
        assert await deliver(bot, telegram_api, yes, polling)
        await telegram_api.wait_until(lambda: bool(replies(telegram_api, DONE)))
        await wait_for_rows(database_url, SETTLED, [(0, 0)])
    finally:
        await bot.kill()

    expected = 2 if point == "reply_sent" else 1  # sent, then killed before marked sent
    assert len(replies(telegram_api, DONE)) == expected
    assert len(replies(telegram_api, QUESTION)) == 1
    assert (DUPLICATE_LOG in bot.log()) == (point in ("reply_queued", "reply_sent"))
    [(status, refunded, total)] = await query(
        database_url, "SELECT status, refunded_minor, total_minor FROM orders WHERE number = :n",
        n=ORDER)
    assert status == "cancelled" and refunded == total
    history = await query(
        database_url, "SELECT h.to_status, h.cause FROM order_history h"
        " JOIN orders o ON o.id = h.order_id WHERE o.number = :n ORDER BY h.id", n=ORDER)
    changes = [cause for status, cause in history if status == "cancelled"]
    assert sum(cause.startswith("cancelled by the customer") for cause in changes) == 1, history
    assert sum(cause.startswith("refund started") for cause in changes) == 1, history
    said = await query(database_url, "SELECT text FROM transcript WHERE sender = 'customer'"
                       " ORDER BY id")
    assert [text for (text,) in said][-1:] == ["yes"] and len(said) == 2
    assert await query(database_url, "SELECT count(*) FROM inbox") == [(2,)]
