"""The console as an operator sees it beside a customer who proved an order by email and asked
for a person: who the customer is, what they want, confirmations that say what an order action
will do, only the actions the order allows, links, dates, the layout from 1024 px, dark mode,
keyboard shortcuts and axe-core's accessibility rules, with screenshots (SCREENSHOTS)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.accessibility import serious_violations
from tests.browser.conftest import PageFactory
from tests.browser.test_console import ASK_FOR_A_PERSON, log_in, script_errors, tid, waiting
from tests.browser.test_widget import messages, open_chat, say, shop_api
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

# docs/screenshots/ is made with `ORDERBOT_SCREENSHOTS=docs/screenshots .venv/bin/pytest -n 0
# tests/browser/test_console_look.py tests/browser/test_dashboard_look.py`; an ordinary run
# writes its pictures to a temporary folder and leaves the work tree as it was.
SCREENSHOTS = Path(os.environ.get("ORDERBOT_SCREENSHOTS")
                   or Path(tempfile.gettempdir()) / "orderbot-screenshots")
DESKTOP = {"width": 1366, "height": 768}
SMALL_DESKTOP = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}

# James Wilson's confirmed order, paid by card (orders/demo.py)
NUMBER, EMAIL, NAME = "A-1014", "james.wilson@example.com", "James Wilson"
PAGE_BACKGROUND = "getComputedStyle(document.documentElement).backgroundColor"
WANT = "The parcel should come on Friday, see https://example.com/note?id=7."


async def proved_and_escalated(customer: Page, server: LiveServer, number: str = NUMBER,
                               email: str = EMAIL) -> None:
    """An anonymous web chat: the customer proves an order by its email, then asks for a
    person."""
    await open_chat(customer, server.url + "/")
    await say(customer, f"Where is my order {number}?")
    await expect(messages(customer, "bot")).to_have_count(1)
    await say(customer, email)
    await expect(messages(customer, "bot").last).to_contain_text(f"Order {number}")
    await say(customer, ASK_FOR_A_PERSON)
    await expect(messages(customer, "bot").filter(has_text="passing you to a colleague")
                 ).to_have_count(1)
    await say(customer, WANT)


async def test_the_operator_sees_who_the_customer_is_and_what_they_want(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    customer = await new_page()
    await proved_and_escalated(customer, live_server)
    operator = await new_page(viewport=DESKTOP)
    errors = script_errors(operator)
    await log_in(operator, live_server)

    item = waiting(operator)
    await expect(item.get_by_test_id("queue-customer")).to_have_text(NAME)
    await expect(item.get_by_test_id("queue-order")).to_have_text(NUMBER)
    await expect(item.get_by_test_id("queue-reason")).to_have_text(re.compile(r"\S"))
    # the customer's own last words, not the bot's "passing you to a colleague"
    await expect(item.get_by_test_id("queue-last")).to_contain_text("The parcel should come")

    await item.click()
    await expect(tid(operator, "conversation-title")).to_contain_text(NAME)
    await expect(tid(operator, "customer")).to_contain_text(EMAIL)
    await expect(tid(operator, "customer")).not_to_contain_text("not been identified")
    await expect(tid(operator, "orders").locator(f'[data-number="{NUMBER}"]')).to_be_visible()

    link = tid(operator, "transcript").get_by_role("link", name="https://example.com/note?id=7")
    await expect(link).to_have_attribute("href", "https://example.com/note?id=7")
    await expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    await expect(link).to_have_attribute("target", "_blank")
    await operator.screenshot(path=SCREENSHOTS / "console-desktop.png")
    assert errors == []


async def test_each_order_action_asks_first_and_says_what_will_happen(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    customer = await new_page()
    await proved_and_escalated(customer, live_server)
    operator = await new_page(viewport=DESKTOP)
    await log_in(operator, live_server)
    await waiting(operator).click()
    await tid(operator, "claim").click()
    order = tid(operator, "orders").locator(f'[data-number="{NUMBER}"]')
    # confirmed and paid: it may be cancelled or moved; no return, no payment link, and no
    # tracking page before it ships
    await expect(order.locator("[data-action]")).to_have_count(2)
    await expect(order.get_by_test_id("order-cancel")).to_be_enabled()
    await expect(order.get_by_test_id("order-reschedule")).to_be_enabled()
    await expect(order.get_by_role("link", name="Tracking page")).to_have_count(0)
    total = await order.locator(".total").inner_text()

    await order.get_by_test_id("order-reschedule").click()
    slot = order.get_by_test_id("order-slot")
    chosen = (await slot.locator("option").first.inner_text()).rsplit(" ", 1)[0]
    await order.get_by_test_id("order-reschedule-confirm").click()
    confirm = tid(operator, "confirm")
    await expect(confirm).to_be_visible()
    await expect(confirm.get_by_test_id("confirm-text")).to_contain_text(chosen)
    await confirm.get_by_test_id("confirm-yes").click()
    await expect(order.get_by_test_id("order-result")).to_have_text(
        re.compile(f"^Delivery of {NUMBER} moved to {re.escape(chosen)}"))
    # the same day, written the same way in the order's delivery
    order = tid(operator, "orders").locator(f'[data-number="{NUMBER}"]')
    await expect(order.locator(".order-part").first).to_contain_text(chosen)
    await expect(messages(customer, "operator")).to_have_count(1)

    await order.get_by_test_id("order-cancel").click()
    await expect(confirm.get_by_role("heading")).to_have_text(f"Cancel {NUMBER}?")
    await expect(confirm.get_by_test_id("confirm-text")).to_have_text(
        f"The customer is told and a refund of {total} is started. This cannot be undone.")
    await operator.screenshot(path=SCREENSHOTS / "console-confirm-desktop.png")
    await operator.keyboard.press("Escape")  # changed their mind: nothing happens
    await expect(confirm).to_have_count(0)
    await expect(order.get_by_test_id("order-status")).to_have_text("Confirmed")
    await expect(messages(customer, "operator")).to_have_count(1)

    await order.get_by_test_id("order-cancel").click()
    await tid(operator, "confirm").get_by_test_id("confirm-yes").click()
    await expect(order.get_by_test_id("order-status")).to_have_text("Cancelled")
    await expect(order.get_by_test_id("order-result")).to_contain_text(f"order {NUMBER} cancelled")
    await expect(messages(customer, "operator")).to_have_count(2)
    # nothing more can be done to a cancelled order, so nothing is offered
    await expect(order.locator("[data-action]")).to_have_count(0)
    shipped = await shop_api(live_server, "GET", "/orders/" + NUMBER)
    assert shipped["status"] == "cancelled"


async def test_an_unpaid_order_is_cancelled_without_refund_and_can_be_asked_for_payment(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    customer = await new_page()
    await proved_and_escalated(customer, live_server, "A-1001", "emma.thompson@example.com")
    operator = await new_page(viewport=DESKTOP)
    await log_in(operator, live_server)
    await waiting(operator).click()
    await tid(operator, "claim").click()
    order = tid(operator, "orders").locator('[data-number="A-1001"]')
    total = await order.locator(".total").inner_text()
    confirm = tid(operator, "confirm")

    await order.get_by_test_id("order-cancel").click()
    await expect(confirm.get_by_test_id("confirm-text")).to_have_text(
        "The customer is told. Nothing was paid, so there is no refund. This cannot be undone.")
    await confirm.get_by_test_id("confirm-no").click()
    await expect(confirm).to_have_count(0)

    await order.get_by_test_id("order-payment-link").click()
    await expect(confirm.get_by_role("heading")).to_have_text(
        "Send a payment link for A-1001?")
    await expect(confirm.get_by_test_id("confirm-text")).to_have_text(
        f"The customer gets a link to pay {total}.")
    await confirm.get_by_test_id("confirm-yes").click()
    await expect(order.get_by_test_id("order-result")).to_contain_text("payment link")
    await expect(messages(customer, "operator")).to_have_count(1)
    await expect(order.get_by_test_id("order-status")).to_have_text("Pending confirmation")


async def test_the_layout_keeps_the_context_beside_the_reply_box_from_1024_px(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    customer = await new_page()
    await proved_and_escalated(customer, live_server)
    operator = await new_page(viewport=SMALL_DESKTOP)
    await log_in(operator, live_server)
    await waiting(operator).click()
    await expect(tid(operator, "customer")).to_contain_text(EMAIL)
    context = await tid(operator, "context").bounding_box()
    reply = await tid(operator, "reply-input").bounding_box()
    assert context is not None and reply is not None
    assert context["x"] >= reply["x"] + reply["width"]  # beside it, not below
    assert context["y"] < reply["y"] + reply["height"]
    assert await operator.evaluate("document.documentElement.scrollWidth") <= 1024
    await operator.screenshot(path=SCREENSHOTS / "console-1024.png")

    phone = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await log_in(phone, live_server)
    await waiting(phone).click()
    await expect(tid(phone, "customer")).to_contain_text(EMAIL)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await phone.screenshot(path=SCREENSHOTS / "console-phone.png", full_page=True)


async def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    customer = await new_page()
    await proved_and_escalated(customer, live_server)
    dark = await new_page(viewport=DESKTOP, color_scheme="dark")
    await log_in(dark, live_server)
    theme = dark.locator("html")
    await expect(theme).to_have_attribute("data-theme", "dark")
    background = await dark.evaluate(PAGE_BACKGROUND)
    await waiting(dark).click()
    await expect(tid(dark, "customer")).to_contain_text(EMAIL)
    assert await serious_violations(dark) == []
    await dark.screenshot(path=SCREENSHOTS / "console-dark-desktop.png")

    light = await new_page(viewport=DESKTOP, color_scheme="dark")
    await log_in(light, live_server)
    await tid(light, "theme-toggle").click()  # the operator prefers light
    await expect(light.locator("html")).to_have_attribute("data-theme", "light")
    await expect(tid(light, "theme-toggle")).to_have_attribute("aria-pressed", "false")
    assert await light.evaluate(PAGE_BACKGROUND) != background
    await light.reload()
    await expect(tid(light, "app")).to_be_visible()
    await expect(light.locator("html")).to_have_attribute("data-theme", "light")
    await waiting(light).click()
    await expect(tid(light, "customer")).to_contain_text(EMAIL)
    assert await serious_violations(light) == []


async def test_keyboard_shortcuts_move_through_the_queue_but_not_while_typing(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    first, second = await new_page(), await new_page()
    await proved_and_escalated(first, live_server)
    await open_chat(second, live_server.url + "/")
    await say(second, ASK_FOR_A_PERSON)
    operator = await new_page(viewport=DESKTOP)
    await log_in(operator, live_server)
    await expect(waiting(operator)).to_have_count(2)
    items = waiting(operator)

    await operator.keyboard.press("j")
    await expect(items.nth(0)).to_have_attribute("aria-current", "true")
    await operator.keyboard.press("j")
    await expect(items.nth(1)).to_have_attribute("aria-current", "true")
    await operator.keyboard.press("k")
    await expect(items.nth(0)).to_have_attribute("aria-current", "true")

    await operator.keyboard.press("n")
    await expect(tid(operator, "note-input")).to_be_focused()
    await operator.keyboard.type("jk")  # typed into the note, the queue stays where it is
    await expect(tid(operator, "note-input")).to_have_value("jk")
    await expect(items.nth(0)).to_have_attribute("aria-current", "true")

    await tid(operator, "claim").click()
    await expect(tid(operator, "reply-input")).to_be_focused()  # the claim was answered
    await tid(operator, "transcript").focus()
    await operator.keyboard.press("r")
    await expect(tid(operator, "reply-input")).to_be_focused()
    await expect(tid(operator, "reply-input")).to_have_value("")
    await tid(operator, "transcript").focus()
    await operator.keyboard.press("?")
    await expect(tid(operator, "shortcuts")).to_be_visible()
    await expect(tid(operator, "shortcuts")).to_contain_text("Next conversation")
    await operator.keyboard.press("Escape")
    await expect(tid(operator, "shortcuts")).to_be_hidden()
