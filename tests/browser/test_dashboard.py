"""The analytics dashboard in a real Chromium: an admin opens it from the console, chooses a
range and a channel, and the numbers and the charts follow (the hand-counted history of
tests/analytics/fixture.py); an operator is told it is for admins."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from tests.analytics import fixture
from tests.browser.test_console import log_in, script_errors, tid
from tests.conftest import BotFactory, LiveServer, serve
from tests.servers import free_port

pytestmark = pytest.mark.browser

RANGE = "start=2026-11-02&end=2026-11-15"


@pytest.fixture
async def server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    bot = await make_bot(http={"port": free_port()}, demo={"enabled": False},
                         operators={"business_hours": []})
    async with bot.database.transaction() as session:
        await fixture.seed(session)
    await bot.console.accounts.create("boss", "The Boss", "boss-password", "admin")
    await bot.console.accounts.create("anna", "Anna K.", "anna-password", "operator")
    live = await serve(bot)
    yield live
    await live.stop()


async def chart_values(page: Page, name: str) -> list[list[float]]:
    return json.loads(await tid(page, f"chart-{name}").get_attribute("data-values") or "[]")


async def test_an_admin_filters_the_dashboard_and_sees_numbers_and_charts_follow(
    page: Page, server: LiveServer,
) -> None:
    errors = script_errors(page)
    await log_in(page, server, "boss", "boss-password")
    await tid(page, "dashboard-open").click()
    await expect(tid(page, "dashboard")).to_be_visible()
    await tid(page, "filter-start").fill("2026-11-02")
    await tid(page, "filter-end").fill("2026-11-15")
    await expect(tid(page, "dashboard")).to_have_attribute("data-loaded", f"{RANGE}&group=day")
    await expect(tid(page, "kpi-conversations-value")).to_have_text("3")
    await expect(tid(page, "kpi-customer-messages-value")).to_have_text("9")
    await expect(tid(page, "kpi-confirmation-sent-value")).to_have_text("4")
    conversations = await chart_values(page, "conversations")
    assert conversations[0] == [1, 2, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]

    await tid(page, "filter-channel").select_option("telegram")
    await expect(tid(page, "dashboard")).to_have_attribute(
        "data-loaded", f"{RANGE}&channel=telegram&group=day")
    await expect(tid(page, "kpi-conversations-value")).to_have_text("1")
    await expect(tid(page, "kpi-customer-messages-value")).to_have_text("4")
    assert (await chart_values(page, "conversations"))[0] == [
        0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert "Conversations: 2026-11-02 0, 2026-11-03 1," in (
        await tid(page, "chart-conversations").get_attribute("aria-label") or "")
    await expect(tid(page, "table-channels")).to_contain_text("telegram")
    assert "channel=telegram" in (await tid(page, "export-transcripts").get_attribute("href")
                                  or "")

    await tid(page, "filter-group").select_option("week")
    await expect(tid(page, "dashboard")).to_have_attribute(
        "data-loaded", f"{RANGE}&channel=telegram&group=week")
    assert (await chart_values(page, "conversations"))[0] == [1, 1]
    assert errors == []


async def test_an_operator_is_told_the_dashboard_is_for_admins(
    page: Page, server: LiveServer,
) -> None:
    await log_in(page, server, "anna", "anna-password")
    await expect(tid(page, "dashboard-open")).to_be_hidden()
    await page.goto(server.url + "/console/dashboard")
    await expect(tid(page, "notice")).to_contain_text("Only an admin may see the dashboard.")
    await expect(tid(page, "dashboard")).to_be_hidden()
