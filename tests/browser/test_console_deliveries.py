"""The webhook deliveries page in a real Chromium: an admin sees a webhook the shop never
took, failed with the shop's answer, and "Send again" delivers it; an operator sees none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from storage.clock import utcnow
from tests.browser.test_console import log_in, script_errors, tid
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles.webhook_shop import WebhookShop
from tests.integration.webhook_helpers import record, rows, until, webhook_bot

pytestmark = pytest.mark.browser


@pytest.fixture
async def failed_delivery(
    make_bot: BotFactory, webhook_shop: WebhookShop
) -> AsyncIterator[LiveServer]:
    """A bot whose webhook for A-1013 the shop refused (503) until its retry window ended."""
    bot = await webhook_bot(make_bot, webhook_shop)
    assert bot.webhooks is not None
    ahead = [timedelta(0)]

    def clock() -> datetime:
        return utcnow() + ahead[0]

    bot.webhooks.clock = bot.orders.changes.clock = clock  # type: ignore[attr-defined]
    webhook_shop.fail(1000, 503)
    await record(bot, "order.cancelled", "A-1013", reason="test")

    async def tried() -> bool:
        [row] = await rows(bot)
        return row.attempts >= 1 and row.lease_owner is None

    await until(tried)
    ahead[0] = timedelta(hours=72, minutes=1)  # the retry window is over
    bot.webhooks.wake()

    async def failed() -> bool:
        return (await rows(bot))[0].failed_at is not None

    await until(failed)
    webhook_shop.stop_failing()  # the shop is back
    live = await serve(bot)
    yield live
    await live.stop()


async def test_an_admin_sees_a_failed_delivery_and_sends_it_again(
    page: Page, failed_delivery: LiveServer, webhook_shop: WebhookShop
) -> None:
    errors = script_errors(page)
    await log_in(page, failed_delivery)  # demo: an admin
    await page.goto(failed_delivery.url + "/console/deliveries")
    delivery = tid(page, "delivery").filter(has=tid(page, "order").get_by_text("A-1013"))
    await expect(delivery).to_have_count(1)
    await expect(tid(delivery, "type")).to_have_text("order.cancelled")
    await expect(tid(delivery, "state")).to_have_text("failed")
    await expect(delivery).to_contain_text("503")
    before = len(webhook_shop.delivered)

    await tid(delivery, "resend").click()
    await expect(tid(page, "status")).to_contain_text("shown")  # the list was loaded again
    await webhook_shop.wait_until(lambda: len(webhook_shop.delivered) > before)
    await tid(page, "apply").click()  # look again now rather than at the next poll
    await expect(tid(delivery, "state")).to_have_text("delivered")
    [received] = webhook_shop.delivered[before:]
    assert received.type == "order.cancelled"
    assert errors == []


async def test_an_operator_is_not_shown_the_deliveries(
    page: Page, failed_delivery: LiveServer
) -> None:
    bot = failed_delivery.bot
    await bot.console.accounts.create("olga", "Olga", "olga-password-1", "operator",
                                      password_policy=False)
    await log_in(page, failed_delivery, "olga", "olga-password-1")
    await page.goto(failed_delivery.url + "/console/deliveries")
    await expect(tid(page, "notice")).to_have_text(
        "Only an admin may see the webhook deliveries.")
    await expect(tid(page, "deliveries")).to_be_hidden()
    await expect(tid(page, "delivery")).to_have_count(0)
