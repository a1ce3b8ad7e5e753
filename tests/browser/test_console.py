"""The operator console in a real Chromium, against the real server, beside a customer in the
web chat widget (another browser context) - asserted as the operator and the customer see it.

The console's hooks are data-testid attributes (Playwright's get_by_test_id); the widget's are
its data-ob attributes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Dialog, Locator, Page, Route, WebSocketRoute, expect

from channels.webchat.identity import signed_identity
from tests.browser.conftest import PageFactory
from tests.browser.test_widget import (
    IDENTITY_SECRET,
    messages,
    open_chat,
    say,
    serve_page,
    shop_page,
)
from tests.conftest import BotFactory, LiveServer, free_port, serve

pytestmark = pytest.mark.browser

ASK_FOR_A_PERSON = "I want to talk to a person"
TITLE = "orderbot console"

# Counts the console's beeps (Web Audio oscillators started) in window.__beeps.
COUNT_BEEPS = """
window.__beeps = 0;
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__beeps += 1;
  return start.apply(this, args);
};
"""


def tid(page: Page, name: str) -> Locator:
    return page.get_by_test_id(name)


def waiting(page: Page) -> Locator:
    return tid(page, "queue-waiting").get_by_test_id("queue-item")


def in_progress(page: Page) -> Locator:
    return tid(page, "queue-claimed").get_by_test_id("queue-item")


def transcript(page: Page, sender: str | None = None) -> Locator:
    lines = tid(page, "transcript").get_by_test_id("message")
    return lines.and_(page.locator(f'[data-from="{sender}"]')) if sender else lines


def script_errors(page: Page) -> list[str]:
    """The page's uncaught script errors, collected from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def log_in(page: Page, server: LiveServer, username: str = "demo",
                 password: str = "demo") -> None:
    await page.goto(server.url + "/console")
    await expect(tid(page, "login")).to_be_visible()
    await tid(page, "login-username").fill(username)
    await tid(page, "login-password").fill(password)
    await tid(page, "login-submit").click()
    await expect(tid(page, "app")).to_be_visible()
    await expect(tid(page, "connection")).to_have_text("Live")  # the queue snapshot arrived


async def customer_asks_for_a_person(page: Page, server: LiveServer) -> None:
    await open_chat(page, server.url + "/")
    await say(page, ASK_FOR_A_PERSON)
    await expect(messages(page, "bot").first).to_contain_text("passing you to a colleague")


async def add_operator(server: LiveServer, username: str, display_name: str,
                       password: str) -> None:
    """Through the console API, as the demo admin."""
    async with httpx.AsyncClient(base_url=server.url + "/console/api") as client:
        login = await client.post("/login", json={"username": "demo", "password": "demo"})
        assert login.status_code == 200, login.text
        added = await client.post("/operators", json={
            "username": username, "display_name": display_name, "password": password,
            "role": "operator"})
        assert added.status_code == 201, added.text


async def test_operator_takes_over_a_chat_and_hands_it_back(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    operator = await new_page()
    errors = script_errors(operator)
    await operator.add_init_script(COUNT_BEEPS)
    await log_in(operator, live_server)
    await expect(tid(operator, "queue-waiting-empty")).to_be_visible()
    await expect(operator).to_have_title(TITLE)

    customer = await new_page()
    await customer_asks_for_a_person(customer, live_server)

    # The conversation appears in the queue without a reload, with a beep and a title badge.
    item = waiting(operator)
    await expect(item).to_have_count(1)
    await expect(item.get_by_test_id("queue-reason")).to_have_text("Asked for a person")
    await expect(item.get_by_test_id("queue-channel")).to_have_text("Web chat")
    await expect(item.get_by_test_id("queue-language")).to_have_text("English")
    await expect(item.get_by_test_id("queue-customer")).to_have_text("Anonymous customer")
    await expect(item.get_by_test_id("queue-last")).to_have_text(f"Customer: {ASK_FOR_A_PERSON}")
    await expect(operator).to_have_title(f"(1) {TITLE}")
    await operator.wait_for_function("window.__beeps > 0")
    wait = item.get_by_test_id("queue-wait")
    await expect(wait).to_have_text(re.compile(r"^\d+:\d\d$"))
    shown = await wait.inner_text()
    await expect(wait).not_to_have_text(shown)  # it ticks

    # Open it: the transcript so far; claim it.
    await item.click()
    await expect(transcript(operator, "customer").first).to_have_text(
        re.compile(ASK_FOR_A_PERSON))
    await expect(transcript(operator, "customer").first.get_by_test_id("message-meta")
                 ).to_contain_text("Customer · Web chat")
    await expect(transcript(operator, "bot").first).to_contain_text("passing you to a colleague")
    await expect(tid(operator, "reply-input")).to_be_disabled()
    await tid(operator, "claim").click()
    await expect(tid(operator, "conversation-status")).to_have_text("You hold this conversation")
    await expect(tid(operator, "claim")).to_be_hidden()
    await expect(waiting(operator)).to_have_count(0)
    await expect(in_progress(operator)).to_have_count(1)
    await expect(in_progress(operator).get_by_test_id("queue-holder")).to_have_text("With you")
    await expect(operator).to_have_title(TITLE)

    # The operator writes (Enter sends); the customer sees it as from the operator, by name.
    await tid(operator, "reply-input").fill("Hello, I am here to help. What happened?")
    await tid(operator, "reply-input").press("Enter")
    await expect(tid(operator, "reply-input")).to_have_value("")
    await expect(transcript(operator, "operator")).to_have_count(1)
    await expect(transcript(operator, "operator").get_by_test_id("message-meta")
                 ).to_contain_text("Demo Operator")
    from_operator = messages(customer, "operator")
    await expect(from_operator).to_have_count(1)
    await expect(from_operator.locator('[data-ob="text"]')).to_have_text(
        "Hello, I am here to help. What happened?")
    await expect(from_operator.locator('[data-ob="meta"]')).to_contain_text("Demo Operator")

    # The customer answers; the console shows it live.
    await say(customer, "My parcel has not arrived")
    await expect(transcript(operator, "customer").last).to_contain_text("My parcel has not arrived")
    await expect(transcript(operator, "customer")).to_have_count(2)  # once, not twice
    await expect(in_progress(operator).get_by_test_id("queue-last")).to_contain_text(
        "My parcel has not arrived")

    # Hand back: the bot speaks again and answers the customer's next question.
    await tid(operator, "hand-back").click()
    await expect(tid(operator, "conversation-status")).to_have_text("With the bot")
    await expect(in_progress(operator)).to_have_count(0)
    await expect(tid(operator, "reply-input")).to_be_disabled()
    await expect(messages(customer, "bot").last).to_contain_text("handed you back")
    bot_replies = await messages(customer, "bot").count()
    await say(customer, "Where is my order A-1015?")
    await expect(messages(customer, "bot")).to_have_count(bot_replies + 1)
    await expect(messages(customer, "bot").last).to_contain_text(re.compile("email.*postcode"))
    await expect(messages(customer, "operator")).to_have_count(1)  # no operator any more
    assert errors == []


async def test_markup_from_a_customer_shows_as_text_in_the_console(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    attack = "<img src=x onerror=alert(1)> <b>bold</b>"
    operator = await new_page()
    operator.on("dialog", on_dialog)
    await log_in(operator, live_server)
    customer = await new_page()
    await customer_asks_for_a_person(customer, live_server)
    await waiting(operator).click()
    await expect(transcript(operator, "bot")).not_to_have_count(0)

    await say(customer, attack)  # arrives live in the open conversation
    text = transcript(operator, "customer").last.get_by_test_id("message-text")
    await expect(text).to_have_text(attack)
    await expect(operator.locator("img")).to_have_count(0)
    await expect(operator.locator("b")).to_have_count(0)

    await operator.reload()  # and as it comes back in the transcript
    await expect(tid(operator, "conversation")).to_be_visible()
    await expect(transcript(operator, "customer").last.get_by_test_id("message-text")
                 ).to_have_text(attack)
    await expect(operator.locator("img")).to_have_count(0)
    await expect(operator.locator("b")).to_have_count(0)
    assert dialogs == []


async def test_a_second_operator_is_told_who_holds_the_conversation(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    await add_operator(live_server, "anna", "Anna K.", "anna-secret-1")
    first, second = await new_page(), await new_page()
    await log_in(first, live_server)
    await log_in(second, live_server, "anna", "anna-secret-1")
    await expect(tid(second, "me")).to_have_text("Anna K.")
    await expect(tid(second, "operators-open")).to_be_hidden()  # not an admin

    customer = await new_page()
    await customer_asks_for_a_person(customer, live_server)
    await waiting(second).click()  # Anna opens it while it waits...
    await expect(tid(second, "claim")).to_be_enabled()
    await waiting(first).click()
    await tid(first, "claim").click()  # ...and the demo operator takes it first
    await expect(tid(first, "conversation-status")).to_have_text("You hold this conversation")

    await expect(tid(second, "conversation-status")).to_have_text("Taken by Demo Operator")
    await expect(in_progress(second).get_by_test_id("queue-holder")).to_have_text(
        "With Demo Operator")
    await tid(second, "claim").click()
    await expect(tid(second, "conversation-error")).to_have_text("already taken by Demo Operator")
    await expect(tid(second, "reply-input")).to_be_disabled()
    await expect(tid(first, "reply-input")).to_be_enabled()


async def test_a_slow_load_of_the_conversation_does_not_undo_a_claim(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    """The conversation's snapshot read before the claim, answered after it: the operator still
    holds the conversation and can write (the race CI once caught)."""
    operator = await new_page()
    await log_in(operator, live_server)
    customer = await new_page()
    await customer_asks_for_a_person(customer, live_server)

    read: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def hold(route: Route) -> None:
        if route.request.method != "GET" or read.done():
            await route.continue_()
            return
        response = await route.fetch()  # read now, while the customer is still waiting...
        read.set_result(response)
        await release.wait()
        await route.fulfill(response=response)  # ...answered after the claim

    await operator.route(re.compile(r".*/console/api/conversations/\d+$"), hold)
    await waiting(operator).click()
    await read
    await tid(operator, "claim").click()
    await expect(tid(operator, "conversation-status")).to_have_text("You hold this conversation")
    release.set()
    await expect(transcript(operator, "customer")).to_have_count(1)  # the late load has landed
    await expect(tid(operator, "conversation-status")).to_have_text("You hold this conversation")
    await expect(tid(operator, "reply-input")).to_be_enabled()


async def test_the_queue_comes_back_after_the_live_connection_drops(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    # The console's socket goes through Playwright, which can cut it and hold the reconnection.
    sockets: list[tuple[WebSocketRoute, WebSocketRoute]] = []  # (page side, server side)
    may_reconnect = asyncio.Event()

    async def through(page_side: WebSocketRoute) -> None:
        if sockets:
            await may_reconnect.wait()
        sockets.append((page_side, page_side.connect_to_server()))

    operator = await new_page()
    await operator.add_init_script(COUNT_BEEPS)
    await operator.route_web_socket(re.compile(r"/console/ws$"), through)
    await log_in(operator, live_server)
    await expect(tid(operator, "queue-waiting-empty")).to_be_visible()

    for side in sockets[0]:
        await side.close(code=1011, reason="the test cut it")
    await expect(tid(operator, "connection")).to_have_text("Connecting…")
    customer = await new_page()
    await customer_asks_for_a_person(customer, live_server)  # while the console is offline
    may_reconnect.set()

    await expect(tid(operator, "connection")).to_have_text("Live")
    await expect(waiting(operator)).to_have_count(1)  # from the fresh snapshot
    await expect(operator).to_have_title(f"(1) {TITLE}")
    await operator.wait_for_function("window.__beeps > 0")


@pytest.fixture
async def strict_server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    """A server that allows two failed logins of a username from one address."""
    bot = await make_bot(http={"port": free_port()},
                         operators={"login_failures_per_user_and_address": 2})
    server = await serve(bot)
    yield server
    await server.stop()


async def test_login_logout_and_too_many_attempts(
    new_page: PageFactory, strict_server: LiveServer
) -> None:
    page = await new_page()
    await log_in(page, strict_server)
    await expect(tid(page, "me")).to_have_text("Demo Operator (admin)")
    await page.reload()  # the session survives a reload
    await expect(tid(page, "app")).to_be_visible()

    await tid(page, "logout").click()
    await expect(tid(page, "login")).to_be_visible()
    await expect(tid(page, "login-notice")).to_have_text("You are logged out.")
    await page.reload()
    await expect(tid(page, "login")).to_be_visible()
    await expect(tid(page, "app")).to_be_hidden()

    await tid(page, "login-username").fill("demo")
    for _ in range(2):
        await tid(page, "login-password").fill("not the password")
        await tid(page, "login-submit").click()
        await expect(tid(page, "login-error")).to_have_text("Wrong username or password.")
        await expect(tid(page, "login-password")).to_have_value("")
    await tid(page, "login-password").fill("demo")  # right, but too late
    await tid(page, "login-submit").click()
    await expect(tid(page, "login-error")).to_have_text(
        re.compile(r"^Too many attempts, try again in \d+ s$"))
    await expect(tid(page, "login-submit")).to_be_disabled()
    await expect(tid(page, "app")).to_be_hidden()


async def test_an_admin_adds_and_deactivates_an_operator(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    admin = await new_page()
    await log_in(admin, live_server)
    await tid(admin, "operators-open").click()
    await expect(tid(admin, "operators")).to_be_visible()
    await expect(tid(admin, "operators").locator('[data-username="demo"]')).to_contain_text(
        "Demo Operator")

    await tid(admin, "operator-username").fill("ben")
    await tid(admin, "operator-display-name").fill("Ben <script>")
    await tid(admin, "operator-password").fill("ben-secret-123")
    await tid(admin, "operator-add").click()
    await expect(tid(admin, "operators-result")).to_have_text("Ben <script> can log in now.")
    ben = tid(admin, "operators").locator('[data-username="ben"]')
    await expect(ben).to_contain_text("Ben <script>")
    await expect(ben.get_by_test_id("operator-status")).to_have_text("Active")

    colleague = await new_page()
    await log_in(colleague, live_server, "ben", "ben-secret-123")
    await expect(tid(colleague, "me")).to_have_text("Ben <script>")

    await ben.get_by_test_id("operator-toggle").click()
    await expect(ben.get_by_test_id("operator-status")).to_have_text("Deactivated")
    again = await new_page()
    await again.goto(live_server.url + "/console")
    await tid(again, "login-username").fill("ben")
    await tid(again, "login-password").fill("ben-secret-123")
    await tid(again, "login-submit").click()
    await expect(tid(again, "login-error")).to_be_visible()
    await expect(tid(again, "app")).to_be_hidden()


async def test_the_context_panel_shows_the_customers_orders_and_acts_on_them(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    # A customer logged in on the shop, so the conversation knows who she is.
    email, number = "emma.thompson@example.com", "A-1013"
    customer = await new_page()
    url = live_server.url + "/shop-test"
    await serve_page(customer, url, shop_page("/webchat/widget.js", **{
        "customer-email": email, "customer-name": "Emma Thompson",
        **signed_identity(IDENTITY_SECRET, email),
    }))
    await open_chat(customer, url)
    await say(customer, f"Where is my order {number}?")
    await expect(messages(customer, "bot").first).to_contain_text(f"Order {number} is confirmed")
    await say(customer, ASK_FOR_A_PERSON)
    await expect(messages(customer, "bot").nth(1)).to_contain_text("passing you to a colleague")

    operator = await new_page()
    await log_in(operator, live_server)
    await expect(waiting(operator).get_by_test_id("queue-customer")).to_have_text("Emma Thompson")
    await waiting(operator).click()
    await expect(tid(operator, "customer")).to_contain_text(email)
    order = tid(operator, "orders").locator(f'[data-number="{number}"]')
    await expect(order).to_have_attribute("open", "")  # the order the chat is about
    await expect(order).to_contain_text("HDMI cable")
    await expect(order.get_by_test_id("order-status")).to_have_text("Confirmed")
    await expect(order.get_by_test_id("order-cancel")).to_be_disabled()  # claim first

    await tid(operator, "note-input").fill("Called the warehouse, <i>no</i> news yet")
    await tid(operator, "note-add").click()
    await expect(tid(operator, "notes").get_by_test_id("note-text")).to_have_text(
        "Called the warehouse, <i>no</i> news yet")
    await expect(tid(operator, "notes-warning")).to_have_text(
        "internal — the customer never sees this")

    await tid(operator, "claim").click()
    await tid(operator, "canned").get_by_role("button", name="Greeting").click()
    await expect(tid(operator, "reply-input")).not_to_have_value("")  # filled, not sent
    await tid(operator, "reply-send").click()
    await expect(messages(customer, "operator")).to_have_count(1)

    await order.get_by_test_id("order-cancel").click()
    await tid(operator, "confirm").get_by_test_id("confirm-yes").click()  # it asks first
    await expect(order.get_by_test_id("order-result")).to_have_text(
        re.compile(f"^order {number} cancelled"))
    await expect(order.get_by_test_id("order-status")).to_have_text("Cancelled")
    await expect(messages(customer, "operator")).to_have_count(2)
    await expect(messages(customer, "operator").last).to_contain_text(number)
    await expect(order.get_by_test_id("order-cancel")).to_have_count(0)  # not offered again
    await expect(customer.get_by_text("Called the warehouse")).to_have_count(0)

    link = await tid(operator, "export").get_attribute("href")
    export = await operator.request.get(live_server.url + str(link))  # with the login cookie
    assert export.ok
    assert ASK_FOR_A_PERSON in await export.text()

    await tid(operator, "resolve").click()
    await expect(tid(operator, "conversation-status")).to_have_text("With the bot")
    await expect(messages(customer, "bot").last).to_contain_text("has closed this conversation")
