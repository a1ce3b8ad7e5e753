"""The widget's chat session in a real Chromium: its token is swapped for a new one on each
page load, and an expired token (close 4401) makes it start a new session by itself."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Page, WebSocketRoute, expect
from sqlalchemy import update

from dialog.tables import ConversationToken
from storage.clock import utcnow
from tests.browser.test_widget import hook, messages, open_chat, say
from tests.conftest import LiveServer
from tests.security.test_capabilities import close_code

pytestmark = pytest.mark.browser


async def stored_token(page: Page, server: LiveServer) -> str:
    token = await page.evaluate(
        "key => localStorage.getItem(key)", f"orderbot:token:{server.url}")
    assert token
    return str(token)


async def expire_every_chat_token(server: LiveServer) -> None:
    async with server.bot.database.transaction() as session:
        await session.execute(update(ConversationToken).values(
            last_used_at=utcnow() - timedelta(days=31)))


async def test_a_reload_swaps_the_token_and_the_old_one_ends(
    page: Page, live_server: LiveServer
) -> None:
    await open_chat(page, live_server.url + "/")
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    first = await stored_token(page, live_server)

    await page.reload()
    await expect(page.locator('[data-ob="message"]')).to_have_count(2)  # the same conversation
    second = await stored_token(page, live_server)
    assert second != first
    assert (await close_code(live_server, first))[0] == 4401  # copied, it opens nothing now
    await say(page, "Where is my order A-1015?")
    await expect(messages(page, "bot").last).to_contain_text("postcode")


async def test_an_expired_token_at_page_load_starts_a_new_session(
    page: Page, live_server: LiveServer
) -> None:
    await open_chat(page, live_server.url + "/")
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    first = await stored_token(page, live_server)
    await expire_every_chat_token(live_server)

    await page.reload()
    await expect(hook(page, "panel")).to_be_visible()
    await say(page, "hello")  # a new, empty conversation
    await expect(page.locator('[data-ob="message"]')).to_have_count(2)
    assert await stored_token(page, live_server) != first


async def test_a_token_expiring_while_the_page_is_open_is_replaced_on_reconnect(
    page: Page, live_server: LiveServer
) -> None:
    # The widget's socket goes through Playwright, which can cut it.
    sockets: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    async def through(page_side: WebSocketRoute) -> None:
        sockets.append((page_side, page_side.connect_to_server()))

    await page.route_web_socket(re.compile(r"/webchat/ws"), through)
    await open_chat(page, live_server.url + "/")
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    first = await stored_token(page, live_server)
    await expire_every_chat_token(live_server)

    for side in sockets[0]:
        await side.close(code=1011, reason="the test cut it")
    # reconnecting: the server closes the expired token with 4401, the widget opens a new
    # session, whose empty history replaces the old one's
    await expect(page.locator('[data-ob="message"]')).to_have_count(0)
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    assert await stored_token(page, live_server) != first
    assert len(sockets) >= 3  # cut, refused with 4401, the new session's
