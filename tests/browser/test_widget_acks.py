"""Acknowledged web chat messages in the real widget, against a real bot process that is
killed (SIGKILL) while messages are in flight and started again: every message the customer
wrote is recorded once and answered once, in the order written; those left unacknowledged
survive a reload of the page (localStorage) and are sent after it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, Route, expect

from tests.browser.test_widget import hook, messages, open_chat, say, serve_page, shop_page
from tests.reliability.bot_process import BotProcess, query

pytestmark = pytest.mark.browser

DEADLINE = 30_000  # ms: a restarted bot trains its model and migrates first
# The customer's conversation: the newest web chat one (the demo data has older ones).
TRANSCRIPT = ("SELECT sender, text FROM transcript WHERE conversation_id = (SELECT max(id)"
              " FROM conversations WHERE channel = 'webchat') ORDER BY id")
WIDGET = Path(__file__).resolve().parents[2] / "channels/webchat/static/widget.js"


@pytest.fixture
async def bot(demo_database: Path, tmp_path: Path) -> AsyncIterator[BotProcess]:
    path = tmp_path / "bot.db"
    shutil.copyfile(demo_database, path)
    process = BotProcess.make(f"sqlite+aiosqlite:///{path}", tmp_path / "bot.log")
    yield process  # started by the test
    await process.kill()


async def reconnect_now(page: Page) -> None:
    """The browser says it is online again: the widget reconnects at once, not after its
    back-off (which grows while the bot is down)."""
    await page.evaluate("window.dispatchEvent(new Event('online'))")


async def type_without_waiting(page: Page, texts: list[str]) -> None:
    for text in texts:
        await hook(page, "input").fill(text)
        await hook(page, "input").press("Enter")


async def expect_answered_once_in_order(page: Page, bot: BotProcess, said: list[str]) -> None:
    await expect(page.locator('[data-ob="message"].pending')).to_have_count(0, timeout=DEADLINE)
    await expect(messages(page, "customer").locator('[data-ob="text"]')).to_have_text(
        said, timeout=DEADLINE)
    await expect(messages(page, "bot")).to_have_count(len(said), timeout=DEADLINE)
    rows = await query(bot.environ["ORDERBOT__DATABASE__URL"], TRANSCRIPT)
    # Recorded once each, in the order written, each followed by its one answer.
    assert [text for sender, text in rows if sender == "customer"] == said
    assert [sender for sender, _ in rows] == ["customer", "bot"] * len(said)
    await page.reload()  # what the server kept is what the customer saw
    await expect(messages(page, "customer").locator('[data-ob="text"]')).to_have_text(said)
    await expect(messages(page, "bot")).to_have_count(len(said))


async def test_messages_in_flight_when_the_bot_is_killed_are_answered_once_after_restart(
    page: Page, bot: BotProcess
) -> None:
    """The bot dies (kill -9) just after the first message's turn committed: its ack and its
    reply never left, and the two written after it were on the wire, never read."""
    await bot.start(crash_at="reply_queued")
    await open_chat(page, bot.url + "/")
    await type_without_waiting(page, ["hello", "thanks", "bye"])
    await bot.exited()
    await expect(hook(page, "status")).to_be_visible()  # "Reconnecting…"
    await expect(page.locator('[data-ob="message"].pending')).to_have_count(3)
    await bot.start()
    await reconnect_now(page)
    await expect_answered_once_in_order(page, bot, ["hello", "thanks", "bye"])


async def a_shop_page_that_loads_while_the_bot_is_down(page: Page, bot: BotProcess) -> str:
    """The shop's page and the widget's script (as a browser's or a CDN's cached copy) come
    from elsewhere than the bot: the page reloads while the bot is down."""
    async def script(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/javascript", path=WIDGET)

    url = bot.url + "/my-account"  # the bot's own origin, allowed by default
    await serve_page(page, url, shop_page(bot.url + "/webchat/widget.js"))
    await page.route(bot.url + "/webchat/widget.js", script)
    return url


async def test_messages_written_while_the_bot_is_down_survive_a_reload(
    page: Page, bot: BotProcess
) -> None:
    await bot.start()
    await open_chat(page, await a_shop_page_that_loads_while_the_bot_is_down(page, bot))
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    await bot.kill()
    await expect(hook(page, "status")).to_be_visible()
    await type_without_waiting(page, ["thanks", "bye"])
    await expect(page.locator('[data-ob="message"].pending')).to_have_count(2)
    await page.reload()  # the bot still down: the unacknowledged wait in localStorage
    await bot.start()
    await reconnect_now(page)
    await hook(page, "launcher").click()
    await expect_answered_once_in_order(page, bot, ["hello", "thanks", "bye"])
