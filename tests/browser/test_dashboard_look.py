"""The dashboard as an admin reads it on a desk and on a phone: long phrases stay in their
cards, charts and tables fit, each figure beside the period before, a figure leads to its
conversations and on to the console, the definitions are on the page, axe-core finds nothing
serious in light or dark; screenshots as the console's (test_console_look.SCREENSHOTS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from dialog.tables import Conversation, TranscriptEntry
from tests.analytics import fixture
from tests.analytics.fixture import at
from tests.browser.accessibility import serious_violations
from tests.browser.conftest import PageFactory
from tests.browser.test_console import log_in, script_errors, tid
from tests.browser.test_console_look import DESKTOP, PHONE, SCREENSHOTS
from tests.conftest import BotFactory, LiveServer, serve
from tests.servers import free_port

pytestmark = pytest.mark.browser

# One customer phrase with no space to break at (what pushed the count out of its card).
LONG = "pleasetellmewheremyparcelisbecauseithasbeenthreeweeksalready" * 4


@pytest.fixture
async def server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    bot = await make_bot(http={"port": free_port()}, demo={"enabled": False},
                         operators={"business_hours": []})
    async with bot.database.transaction() as session:
        await fixture.seed(session)
        email_chat = await session.scalar(
            select(Conversation.id).where(Conversation.chat_id == "c"))
        session.add(TranscriptEntry(conversation_id=email_chat, sender="customer", text=LONG,
                                    at=at(9, 16), flow="fallback", intent="order_status"))
    await bot.console.accounts.create("boss", "The Boss", "boss-password", "admin")
    live = await serve(bot)
    yield live
    await live.stop()


async def open_dashboard(page: Page, server: LiveServer) -> None:
    await log_in(page, server, "boss", "boss-password")
    await page.goto(server.url + "/console/dashboard")
    await expect(tid(page, "dashboard")).to_be_visible()
    await tid(page, "filter-start").fill("2026-11-02")
    await tid(page, "filter-end").fill("2026-11-15")
    await expect(tid(page, "dashboard")).to_have_attribute(
        "data-loaded", "start=2026-11-02&end=2026-11-15&group=day")


async def overflowing(page: Page, selector: str) -> list[str]:
    """The elements wider than their box (their content pushed out of the card)."""
    return await page.eval_on_selector_all(selector, """nodes => nodes
        .filter(n => n.scrollWidth > n.clientWidth + 1)
        .map(n => (n.getAttribute('data-testid') || n.getAttribute('data-table') || n.tagName)
                  + ' ' + n.scrollWidth + '>' + n.clientWidth)""")


async def test_long_phrases_stay_in_their_cards_and_phones_get_no_sideways_scroll(
    new_page: PageFactory, server: LiveServer
) -> None:
    desk = await new_page(viewport=DESKTOP)
    errors = script_errors(desk)
    await open_dashboard(desk, server)
    misunderstood = tid(desk, "table-misunderstood")
    await expect(misunderstood).to_contain_text(LONG[:40])
    assert await overflowing(desk, ".kpi, .tables section, figure") == []
    await expect(tid(desk, "definitions")).to_contain_text("How the figures are counted")
    await expect(desk.get_by_text("docs/console.md")).to_have_count(0)  # no repository path
    await desk.screenshot(path=SCREENSHOTS / "dashboard-desktop.png")
    assert await serious_violations(desk) == []

    phone = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await open_dashboard(phone, server)
    await expect(tid(phone, "table-misunderstood")).to_contain_text(LONG[:40])
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await overflowing(phone, ".kpi, .tables section, figure") == []
    await phone.screenshot(path=SCREENSHOTS / "dashboard-phone.png", full_page=True)
    assert errors == []


async def test_each_figure_shows_the_period_before_and_leads_to_its_conversations(
    new_page: PageFactory, server: LiveServer
) -> None:
    page = await new_page(viewport=DESKTOP)
    await open_dashboard(page, server)
    # the hand-counted history has nothing in the 14 days before it
    await expect(tid(page, "kpi-conversations-previous")).to_have_text("▲ previous period: 0")
    await expect(tid(page, "kpi-escalation-rate-previous")).to_have_text("previous period: –")

    await tid(page, "kpi-conversations-drill").click()
    drill = tid(page, "drill")
    await expect(drill).to_be_visible()
    await expect(drill.get_by_test_id("drill-item")).to_have_count(3)  # the figure's 3
    await tid(page, "drill-close").click()

    row = tid(page, "table-misunderstood").locator("tr", has_text="order_status")
    await row.get_by_test_id("drill-misunderstood").click()
    await expect(drill.get_by_test_id("drill-title")).to_have_text(
        "Misunderstood: Where is my order")
    item = drill.get_by_test_id("drill-item")
    await expect(item).to_have_count(2)  # A's "wheres my stuff" and C's long phrase
    await expect(item.first).to_contain_text(LONG[:40])
    link = item.first.get_by_test_id("drill-link")
    number = (await link.inner_text()).lstrip("#")
    await link.click()  # on to the console, the conversation open
    await expect(tid(page, "conversation-title")).to_contain_text(f"#{number}")
    await expect(tid(page, "transcript")).to_contain_text(LONG[:40])


async def test_the_dashboard_in_dark(new_page: PageFactory, server: LiveServer) -> None:
    page = await new_page(viewport=DESKTOP, color_scheme="dark")
    await open_dashboard(page, server)
    assert await serious_violations(page) == []
    await page.screenshot(path=SCREENSHOTS / "dashboard-dark-desktop.png")
