"""The widget's welcome screen and its session in a real Chromium: a greeting, the team's
availability and suggested first questions; no session, socket or conversation for a page
view; a new conversation on request; the tab's title when a reply comes while it is closed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, WebSocket, expect
from sqlalchemy import func, select

from dialog.desk_values import OperatorRef
from dialog.tables import Conversation
from tests.browser.accessibility import serious_violations
from tests.browser.conftest import PageFactory
from tests.browser.test_widget import hook, messages, open_chat, say
from tests.conftest import BotFactory, LiveServer, serve
from tests.servers import free_port

pytestmark = pytest.mark.browser

# Looked at by people, not compared: docs/screenshots/widget-*.png are copies of these.
SCREENSHOTS = Path("/tmp/widget-screens")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


async def conversations(server: LiveServer) -> int:
    async with server.bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)) or 0)


@pytest.fixture
async def team_at_work(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    """The demo bot with operators always at work (no business hours)."""
    bot = await make_bot(http={"port": free_port()}, operators={"business_hours": []})
    server = await serve(bot)
    yield server
    await server.stop()


async def test_page_views_make_no_session_until_the_chat_is_opened(
    page: Page, live_server: LiveServer
) -> None:
    sockets: list[WebSocket] = []
    sessions: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.on("request", lambda r: "/webchat/session" in r.url and sessions.append(r.url))
    before = await conversations(live_server)
    for _ in range(3):
        await page.goto(live_server.url + "/")
        await expect(hook(page, "launcher")).to_be_visible()
    assert await conversations(live_server) == before
    assert (sockets, sessions) == ([], [])

    await hook(page, "launcher").click()  # the chat is opened: now there is one
    await expect(hook(page, "welcome")).to_be_visible()
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    assert await conversations(live_server) == before + 1

    later = await page.context.new_page()  # a returning visitor: history on opening
    await later.goto(live_server.url + "/")
    await expect(hook(later, "panel")).to_be_hidden()
    await hook(later, "launcher").click()
    await expect(messages(later, "customer")).to_have_count(1)
    await expect(messages(later, "customer").first).to_contain_text("hello")
    assert await conversations(live_server) == before + 1


async def test_welcome_says_the_team_replies_soon_and_a_suggestion_asks_for_a_person(
    page: Page, team_at_work: LiveServer
) -> None:
    await open_chat(page, team_at_work.url + "/")
    welcome = hook(page, "welcome")
    await expect(welcome).to_contain_text("How can we help")
    await expect(hook(page, "team")).to_have_text("We usually reply in a few minutes.")
    await expect(page.locator(".head .dot")).to_have_attribute("data-state", "here")
    suggestions = hook(page, "suggestion")
    await expect(suggestions).to_have_text(
        ["Where is my order?", "Return an item", "Talk to a person"])

    await suggestions.nth(2).click()
    await expect(messages(page, "customer").last).to_contain_text("Talk to a person")
    await expect(messages(page, "bot").first).to_contain_text("colleague")
    await expect(hook(page, "suggestions")).to_be_hidden()  # asked: the list has done its job


async def test_welcome_in_polish_says_when_the_team_is_back(
    new_page: PageFactory, make_bot: BotFactory
) -> None:
    # Open one minute a week: away whenever this test runs, but for that minute.
    bot = await make_bot(http={"port": free_port()},
                         operators={"business_hours": ["mon 00:00-00:01"]})
    server = await serve(bot)
    try:
        page = await new_page(locale="pl-PL")
        await open_chat(page, server.url + "/")
        await expect(hook(page, "team")).to_contain_text(
            re.compile(r"niedostępny, wracamy .*00:00"))
        await expect(page.locator(".head .dot")).to_have_attribute("data-state", "away")
        await hook(page, "suggestion").first.click()  # "Gdzie jest moje zamówienie?"
        await expect(messages(page, "customer").last).to_contain_text("Gdzie jest moje zamówienie?")
        await expect(messages(page, "bot").first).to_contain_text("numer")
    finally:
        await server.stop()


async def test_starting_a_new_conversation_leaves_the_old_one(
    page: Page, live_server: LiveServer
) -> None:
    await open_chat(page, live_server.url + "/")
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    before = await conversations(live_server)

    await hook(page, "more").click()
    await hook(page, "new-conversation").click()
    await expect(hook(page, "message")).to_have_count(0)
    await expect(hook(page, "suggestions")).to_be_visible()
    await say(page, "hi")
    await expect(messages(page, "bot")).to_have_count(1)
    assert await conversations(live_server) == before + 1
    await page.reload()  # the new one is the one kept
    await expect(hook(page, "panel")).to_be_visible()
    await expect(messages(page, "customer").locator('[data-ob="text"]')).to_have_text(["hi"])


async def test_a_reply_while_the_panel_is_closed_shows_in_the_title(
    page: Page, team_at_work: LiveServer
) -> None:
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    await open_chat(page, team_at_work.url + "/")
    await say(page, "I want to talk to a person")
    await expect(messages(page, "bot").first).to_contain_text("colleague")
    await hook(page, "close").click()
    title = await page.title()

    desk = team_at_work.bot.desk
    item = (await desk.queue("escalated"))[-1]
    anna = OperatorRef("anna", "Anna")
    await desk.claim(item.conversation_id, anna)
    await expect(page).to_have_title("(1) New message")
    await hook(page, "launcher").click()
    await expect(page).to_have_title(title)
    notice = page.locator('[data-ob="message"][data-from="system"]')
    await expect(notice).to_have_text("Anna from the shop joined the chat")
    await expect(page.locator(".title")).to_have_text("Anna")
    await expect(hook(page, "subtitle")).to_have_text("from the shop")

    await desk.say(item.conversation_id, anna, "Hello, I'm looking at it.")
    await expect(messages(page, "operator").last).to_contain_text("looking at it")
    await desk.hand_back(item.conversation_id, anna)
    await expect(hook(page, "left")).to_have_text("Anna left, the assistant is back")
    await expect(page.locator(".title")).to_have_text("Shop assistant")
    assert errors == []


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_welcome_has_no_serious_accessibility_violations(
    new_page: PageFactory, live_server: LiveServer, size: str, viewport: dict[str, int]
) -> None:
    page = await new_page(viewport=viewport)
    await open_chat(page, live_server.url + "/")
    await expect(hook(page, "suggestions")).to_be_visible()
    assert await serious_violations(page, "#orderbot-widget") == []
    await page.screenshot(path=SCREENSHOTS / f"widget-welcome-{size}.png")
