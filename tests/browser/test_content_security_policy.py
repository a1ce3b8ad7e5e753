"""The console, its dashboard and the demo shop work in a real Chromium under their Content
Security Policy: an operator logs in, the live queue connects, a customer escalates from the
demo shop's widget, the operator opens the conversation, an admin opens the dashboard with its
charts; and the browser reports no violation of the policy on any of these pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PageFactory
from tests.browser.test_console import log_in, script_errors, tid, waiting
from tests.browser.test_widget import messages, open_chat, say
from tests.conftest import BotFactory, LiveServer, serve
from tests.servers import free_port

pytestmark = pytest.mark.browser

# Installed before any script of the page runs: every violation the browser reports.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
async def server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    bot = await make_bot(http={"port": free_port()}, operators={"business_hours": []})
    live = await serve(bot)
    yield live
    await live.stop()


async def watched(new_page: PageFactory) -> tuple[Page, list[str]]:
    """A page whose policy violations and console errors are collected."""
    page = await new_page()
    await page.add_init_script(RECORD_VIOLATIONS)
    reported: list[str] = []
    page.on("console", lambda message: reported.append(message.text)
            if message.type == "error" else None)
    return page, reported


async def violations(page: Page) -> list[str]:
    return await page.evaluate("window.__violations")


async def test_console_dashboard_and_demo_shop_run_under_their_policy(
    new_page: PageFactory, server: LiveServer
) -> None:
    customer, customer_console = await watched(new_page)
    customer_errors = script_errors(customer)
    await open_chat(customer, server.url + "/")
    await say(customer, "I want to talk to a person")
    await expect(messages(customer, "bot").first).to_contain_text("passing you to a colleague")

    operator, operator_console = await watched(new_page)
    operator_errors = script_errors(operator)
    await log_in(operator, server)  # the live queue's WebSocket: "Live"
    policy = (await operator.request.get(server.url + "/console")).headers[
        "content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    await expect(waiting(operator)).to_have_count(1)
    await waiting(operator).first.click()
    await expect(tid(operator, "transcript")).to_contain_text("I want to talk to a person")
    assert await violations(operator) == []  # before the dashboard replaces the page

    await tid(operator, "dashboard-open").click()
    await expect(tid(operator, "dashboard")).to_be_visible()
    await expect(tid(operator, "dashboard")).to_have_attribute("data-loaded", re.compile("."))
    await expect(operator.locator("canvas").first).to_be_visible()

    for page, reported, errors in ((customer, customer_console, customer_errors),
                                   (operator, operator_console, operator_errors)):
        assert await violations(page) == []
        assert [text for text in reported if "Content Security Policy" in text] == []
        assert errors == []
