"""What operators rely on, in a real Chromium against the real server: search, filters kept in
the URL, closed conversations, tags, transfer to a colleague, unread markers with a desktop
notification, and "customer is typing" (docs/console.md, "Finding and sorting conversations").

Customers are web chat clients on real WebSockets (tests/console/conftest.py) where the test
needs a frame the widget does not send itself (typing), else the widget in Chromium.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PageFactory
from tests.browser.test_console import (
    COUNT_BEEPS,
    TITLE,
    add_operator,
    customer_asks_for_a_person,
    in_progress,
    log_in,
    tid,
    transcript,
    waiting,
)
from tests.browser.test_widget import messages, say
from tests.conftest import BotFactory, LiveServer, free_port, serve
from tests.console.conftest import EMMA, escalated

pytestmark = pytest.mark.browser

# A stand-in for the browser's Notification (headless Chromium shows none): it counts the
# permission requests and keeps what would have been shown; `window.__hidden` hides the tab.
FAKE_NOTIFICATIONS = """
window.__asked = 0; window.__shown = []; window.__hidden = false;
class FakeNotification {
  constructor(title, options) { window.__shown.push({ title, body: options && options.body }); }
  static requestPermission() {
    window.__asked += 1; FakeNotification.permission = "granted";
    return Promise.resolve("granted");
  }
}
FakeNotification.permission = "default";
window.Notification = FakeNotification;
Object.defineProperty(Document.prototype, "hidden", { get() { return window.__hidden; } });
"""


@pytest.fixture
async def server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    """The demo bot with operators always at work."""
    bot = await make_bot(http={"port": free_port()}, operators={"business_hours": []})
    live = await serve(bot)
    yield live
    await live.stop()


def results(page: Page) -> object:
    return tid(page, "results-list").get_by_test_id("queue-item")


async def test_search_opens_a_conversation_and_filters_live_in_the_url(
    new_page: PageFactory, server: LiveServer
) -> None:
    customer = await new_page()
    await customer_asks_for_a_person(customer, server)
    await say(customer, "my parcel came squashed")
    await expect(messages(customer, "bot")).not_to_have_count(1)
    operator = await new_page()
    await log_in(operator, server)

    # One box: words the customer said find the conversation, with the line that matched.
    await tid(operator, "search-input").fill("SQUASHED")
    await tid(operator, "search-input").press("Enter")
    found = tid(operator, "results-list").get_by_test_id("queue-item")
    await expect(found).to_have_count(1)
    await expect(tid(operator, "result-snippet")).to_have_text("my parcel came squashed")
    await expect(tid(operator, "queue-waiting-section")).to_be_hidden()
    assert "q=SQUASHED" in operator.url
    await found.click()
    await expect(transcript(operator, "customer").last).to_contain_text("squashed")
    await tid(operator, "search-input").fill("no such words anywhere")
    await tid(operator, "search-submit").click()
    await expect(tid(operator, "results-empty")).to_be_visible()
    await tid(operator, "results-clear").click()
    await expect(waiting(operator)).to_have_count(1)  # the live queue again

    # Claimed, then resolved: it leaves the queue and is found under "Closed".
    await waiting(operator).click()
    await tid(operator, "claim").click()
    await expect(tid(operator, "conversation-status")).to_have_text("You hold this conversation")
    await tid(operator, "filter-view").select_option("mine")
    await expect(found).to_have_count(1)
    await expect(found.get_by_test_id("queue-holder")).to_have_text("With you")
    await tid(operator, "resolve").click()
    await expect(found).to_have_count(0)  # the filtered list follows the live change
    await tid(operator, "filter-view").select_option("closed")
    await tid(operator, "filter-channel").select_option("webchat")
    await expect(found).to_have_count(1)
    assert re.search(r"view=closed", operator.url) and "channel=webchat" in operator.url
    await tid(operator, "filter-language").select_option("pl")
    await expect(tid(operator, "results-empty")).to_be_visible()

    # A link with the filters (a dashboard drill-down) opens the same view.
    link = server.url + "/console?view=closed&channel=webchat&language=en"
    other = await new_page()
    await other.goto(link)
    await tid(other, "login-username").fill("demo")
    await tid(other, "login-password").fill("demo")
    await tid(other, "login-submit").click()
    await expect(tid(other, "filter-view")).to_have_value("closed")
    await expect(tid(other, "filter-language")).to_have_value("en")
    await expect(tid(other, "results-list").get_by_test_id("queue-item")).to_have_count(1)


async def test_tags_and_a_transfer_to_a_colleague(
    new_page: PageFactory, server: LiveServer
) -> None:
    await add_operator(server, "boris", "Boris B.", "boris-password-1")
    customer = await new_page()
    await customer_asks_for_a_person(customer, server)
    anna, boris = await new_page(), await new_page()
    await log_in(anna, server)
    await log_in(boris, server, "boris", "boris-password-1")

    await waiting(anna).click()
    await tid(anna, "claim").click()
    await expect(tid(anna, "transfer-form")).to_be_visible()
    await tid(anna, "tag-input").fill("  VIP customer ")
    await tid(anna, "tag-add").click()
    await expect(tid(anna, "tag")).to_have_text(re.compile("#vip-customer"))
    await expect(tid(anna, "tag-input")).to_have_value("")
    # the colleague's queue shows the tag at once
    await expect(in_progress(boris).get_by_test_id("queue-tag")).to_have_text("#vip-customer")
    await tid(anna, "tag-input").fill("a<b>")
    await tid(anna, "tag-add").click()
    await expect(tid(anna, "tools-error")).to_contain_text("only letters, digits")
    await expect(tid(anna, "tag")).to_have_count(1)  # nothing stored
    await tid(anna, "tag-input").fill("damaged")
    await tid(anna, "tag-add").click()
    await expect(tid(anna, "tag")).to_have_count(2)
    await tid(anna, "tag").filter(has_text="damaged").get_by_test_id("tag-remove").click()
    await expect(tid(anna, "tag")).to_have_count(1)
    await tid(boris, "filter-tag").fill("VIP-Customer")
    await tid(boris, "filter-tag").press("Enter")
    await tid(boris, "filter-tag").blur()
    await expect(tid(boris, "results-list").get_by_test_id("queue-item")).to_have_count(1)
    await tid(boris, "results-clear").click()

    # Anna gives it to Boris: it moves on both consoles, with a notice; the customer simply
    # hears from Boris next.
    await tid(anna, "transfer-to").select_option(label="Boris B.")
    await tid(anna, "transfer").click()
    await expect(tid(anna, "transfer-notice")).to_have_text(
        "Demo Operator transferred the conversation to Boris B.")
    await expect(tid(anna, "conversation-status")).not_to_have_text("You hold this conversation")
    await expect(tid(anna, "reply-input")).to_be_disabled()
    await expect(in_progress(anna).get_by_test_id("queue-holder")).to_have_text("With Boris B.")
    held = in_progress(boris)
    await expect(held.get_by_test_id("queue-holder")).to_have_text("With you")
    await held.click()
    await expect(tid(boris, "note-text").last).to_have_text(
        "Transferred from Demo Operator to Boris B.")
    await tid(boris, "reply-input").fill("Boris here, I have your case.")
    await tid(boris, "reply-input").press("Enter")
    from_operator = messages(customer, "operator")
    await expect(from_operator.last.locator('[data-ob="text"]')).to_have_text(
        "Boris here, I have your case.")
    await expect(from_operator.last.locator('[data-ob="meta"]')).to_contain_text("Boris B.")


async def test_unread_typing_and_a_desktop_alert_for_a_held_customer(
    new_page: PageFactory, server: LiveServer
) -> None:
    operator = await new_page()
    await operator.add_init_script(FAKE_NOTIFICATIONS + COUNT_BEEPS)
    await log_in(operator, server)
    # Never asked on load; asked on the operator's click.
    await expect(tid(operator, "notify-enable")).to_be_visible()
    assert await operator.evaluate("window.__asked") == 0
    await tid(operator, "notify-enable").click()
    await expect(tid(operator, "notify-enable")).to_be_hidden()
    assert await operator.evaluate("window.__asked") == 1

    async with escalated(server, EMMA) as emma, escalated(server, None) as other:
        await expect(waiting(operator)).to_have_count(2)
        for item in (waiting(operator).filter(has_text="Emma Thompson"),
                     waiting(operator).filter(has_text="Anonymous customer")):
            await item.click()
            await tid(operator, "claim").click()
            await expect(tid(operator, "conversation-status")).to_have_text(
                "You hold this conversation")
        # The anonymous customer's conversation is open: Emma writes in hers.
        await emma.send("are you there?")
        emmas = in_progress(operator).filter(has_text="Emma Thompson")
        await expect(emmas.get_by_test_id("queue-unread")).to_be_visible()
        await expect(operator).to_have_title(f"(1) {TITLE}")
        await emmas.click()
        await expect(emmas.get_by_test_id("queue-unread")).to_be_hidden()
        await expect(operator).to_have_title(TITLE)

        # "Customer is typing" in the open conversation, gone with the message.
        await emma.chat.socket.send(json.dumps({"type": "typing"}))
        await expect(tid(operator, "customer-typing")).to_have_text("Emma Thompson is typing…")
        await emma.send("my order A-1013")
        await expect(tid(operator, "customer-typing")).to_be_hidden()
        await expect(transcript(operator, "customer").last).to_contain_text("A-1013")

        # The tab is hidden: a held customer's message beeps and shows a notification.
        await operator.evaluate("window.__beeps = 0; window.__hidden = true")
        await other.send("hello? anyone?")
        await operator.wait_for_function("() => window.__shown.length === 1")
        shown = await operator.evaluate("window.__shown[0]")
        assert shown == {"title": "Anonymous customer wrote", "body": "hello? anyone?"}
        assert await operator.evaluate("window.__beeps") >= 1
        anonymous = in_progress(operator).filter(has_text="Anonymous customer")
        await expect(anonymous.get_by_test_id("queue-unread")).to_be_visible()
