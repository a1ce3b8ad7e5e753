"""The order conversations of issue 4 in the web chat widget, as a customer does them.

A customer on the demo shop page confirms a pending order by pressing buttons (and typing a
voucher), and a Polish customer on a phone returns a delivered item (typing the one-time code
sent to her). Along the way: the PDF
links work, multi-line texts keep their lines, answered buttons cannot be pressed again while
an open question's buttons stay usable, nothing overflows the panel, and markup in an order's
line names stays text. Screenshots of the key moments go to /tmp/widget-orders/.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Dialog, Locator, Page, WebSocketRoute, expect

from channels.webchat.identity import signed_identity
from tests.browser.conftest import PageFactory
from tests.browser.test_widget import (
    IDENTITY_SECRET,
    hook,
    messages,
    open_chat,
    say,
    serve_page,
    shop_api,
    shop_page,
)
from tests.conftest import API_KEY, LiveServer
from tests.dialog.conftest import sent_code

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp/widget-orders")
PHONE = {"width": 390, "height": 844}


async def screenshot(page: Page, name: str) -> None:
    await page.mouse.move(0, 0)  # no hover effect on a button that scrolled under the pointer
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled")


def buttons(message: Locator) -> Locator:
    return message.locator('[data-ob="button"]')


async def bot_says(page: Page, text: str | re.Pattern[str]) -> Locator:
    """Waits for the bot's latest message to contain `text`; that message, pinned (not `.last`,
    which would move on to later messages)."""
    await expect(messages(page, "bot").last).to_contain_text(text)
    return messages(page, "bot").nth(await messages(page, "bot").count() - 1)


async def press(page: Page, title: str) -> Locator:
    """Press a button of the bot's latest message (wait for that message first); the
    customer's bubble and the pressed button show the choice.

    Returns the message that asked, for checks on its (now answered) buttons."""
    question = messages(page, "bot").nth(await messages(page, "bot").count() - 1)
    before = await messages(page, "customer").count()
    button = question.get_by_role("button", name=title, exact=True)
    await button.click()
    await expect(messages(page, "customer")).to_have_count(before + 1)
    await expect(messages(page, "customer").last.locator('[data-ob="text"]')).to_have_text(title)
    await expect(button).to_have_attribute("aria-pressed", "true")
    await expect(question.locator('[data-ob="button"]:enabled')).to_have_count(0)
    return question


async def expect_answered(question: Locator, chosen: str | None) -> None:
    """An answered question: every button disabled, the chosen one (if any) marked."""
    await expect(question.locator('[data-ob="button"]:enabled')).to_have_count(0)
    marked = question.locator('[data-ob="button"][aria-pressed="true"]')
    if chosen is None:
        await expect(marked).to_have_count(0)
    else:
        await expect(marked).to_have_text([chosen])


async def expect_lines(bubble: Locator, lines: list[str]) -> None:
    """The text is shown as these lines: each starts a line of its own at the bubble's left
    edge, one under the other (not one run-on line that merely wraps)."""
    await expect(bubble).to_have_text("\n".join(lines))
    starts = await bubble.evaluate(
        """(bubble, lines) => {
            const nodes = [], walk = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT);
            while (walk.nextNode()) nodes.push(walk.currentNode);
            return lines.map(line => {
                for (const node of nodes) {
                    const at = node.data.indexOf(line);
                    if (at < 0) continue;
                    const range = document.createRange();
                    range.setStart(node, at); range.setEnd(node, at + 1);
                    const rect = range.getClientRects()[0];
                    return [rect.left, rect.top];
                }
                return null;
            });
        }""",
        [line[:12] for line in lines],
    )
    assert None not in starts, starts
    lefts, tops = [left for left, _ in starts], [top for _, top in starts]
    assert max(lefts) - min(lefts) < 1, f"a line does not start at the left edge: {lefts}"
    assert all(a < b for a, b in zip(tops, tops[1:], strict=False)), tops


async def expect_nothing_overflows(page: Page) -> None:
    """No bubble or button is wider than its box and none sticks out of the message list."""
    problems = await hook(page, "messages").evaluate(
        """list => {
            const box = list.getBoundingClientRect(), found = [];
            if (list.scrollWidth > list.clientWidth) found.push("the list scrolls sideways");
            list.querySelectorAll('[data-ob="text"], [data-ob="button"]').forEach(el => {
                const r = el.getBoundingClientRect();
                if (el.scrollWidth > el.clientWidth + 1) found.push("cut: " + el.textContent);
                if (r.left < box.left - 1 || r.right > box.right + 1)
                    found.push("outside: " + el.textContent);
            });
            return found;
        }"""
    )
    assert problems == []


async def expect_pdf_link(page: Page, message: Locator, server: LiveServer) -> None:
    """The message offers a PDF on the bot's /documents/ as a download button (its raw,
    unreadable link left out of the text), which opens in a new tab."""
    await expect(message.locator('[data-ob="text"] a')).to_have_count(0)
    await expect(message.locator('[data-ob="text"]')).not_to_contain_text("/documents/")
    link = message.locator('[data-ob="document"]')
    await expect(link).to_have_count(1)
    await expect(link).to_have_attribute("href", re.compile("^" + re.escape(server.url)
                                                            + r"/documents/[\w-]{20,}$"))
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    await expect(link).to_contain_text("PDF")
    href = await link.get_attribute("href")
    assert href is not None
    response = await page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert (await response.body()).startswith(b"%PDF-")


async def test_a_customer_confirms_a_pending_order_by_pressing_buttons(
    page: Page, live_server: LiveServer
) -> None:
    assert (await shop_api(live_server, "GET", "/orders/A-1001"))["status"] \
        == "pending_confirmation"
    await open_chat(page, live_server.url + "/")
    await say(page, "Where is my order A-1001?")
    await expect(messages(page, "bot").last).to_contain_text("postcode")
    await say(page, "SW1A 1AA")
    await expect(messages(page, "bot").last).to_contain_text(
        "Order A-1001 is waiting for your confirmation")
    await screenshot(page, "confirm-01-status")

    status = await press(page, "Confirm my order")
    await expect_answered(status, "Confirm my order")
    summary = await bot_says(page, "Here is your order A-1001")
    await expect_lines(summary.locator('[data-ob="text"]'), [
        "Here is your order A-1001:",
        "• 1 × Mechanical keyboard — 89.00 EUR",
        "Total: 89.00 EUR",
        "Shall we go through delivery and payment and confirm it?",
    ])
    await expect(buttons(summary)).to_have_text(["Yes, let's confirm", "Cancel the order"])
    await screenshot(page, "confirm-02-summary")

    await press(page, "Yes, let's confirm")
    await expect(messages(page, "bot").last).to_contain_text("How would you like to receive")
    await press(page, "Courier to your door")
    days = await bot_says(page, "Which day?")
    await expect(buttons(days)).not_to_have_count(0)
    day = (await buttons(days).first.inner_text()).strip()
    await screenshot(page, "confirm-03-days")
    await press(page, day)
    slots = await bot_says(page, f"At what time on {day}?")
    slot = (await buttons(slots).first.inner_text()).strip()
    await press(page, slot)
    await expect(messages(page, "bot").last).to_contain_text("How would you like to pay?")
    await press(page, "Card")

    voucher = await bot_says(page, "voucher or loyalty code")
    await say(page, "WELCOME10")
    await expect_answered(voucher, None)  # typing the code answered it: "No code" is off
    await expect(messages(page, "bot").last).to_contain_text("It goes well with your order")
    applied = messages(page, "bot").nth(await messages(page, "bot").count() - 2)
    await expect(applied).to_have_text(re.compile(r"Code WELCOME10 takes 8\.90 EUR off\. "
                                                  r"New total: 80\.10 EUR\."))
    await screenshot(page, "confirm-04-voucher-and-accessory")
    await press(page, "No, thanks")

    final = await bot_says(page, "Please check your order A-1001")
    await expect_lines(final.locator('[data-ob="text"]'), [
        "Please check your order A-1001:",
        "• 1 × Mechanical keyboard — 89.00 EUR",
        f"Delivery: courier on {day}, {slot}",
        "Payment: Card",
        "Code WELCOME10: -8.90 EUR",
        "Total: 80.10 EUR",
        "Shall I confirm it?",
    ])
    await screenshot(page, "confirm-05-check")
    await press(page, "Confirm the order")
    await expect_answered(final, "Confirm the order")

    done = await bot_says(page, "Your order A-1001 is confirmed (80.10 EUR)")
    await expect_pdf_link(page, done, live_server)
    await expect_nothing_overflows(page)
    await screenshot(page, "confirm-06-done")
    order = await shop_api(live_server, "GET", "/orders/A-1001")
    assert order["status"] == "confirmed"


async def test_a_polish_customer_returns_a_delivered_item_on_a_phone(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    # A-1029: Anna Kowalska (Polish), delivered 9 days ago: 1 laptop sleeve and 2 desk lamps.
    order = await shop_api(live_server, "GET", "/orders/A-1029")
    assert order["status"] == "delivered"
    page = await new_page(locale="pl-PL", viewport=PHONE, is_mobile=True, has_touch=True)
    await open_chat(page, live_server.url + "/")
    await expect(hook(page, "input")).to_have_attribute("placeholder", "Napisz wiadomość…")

    await say(page, "Chcę zwrócić zamówienie A-1029")
    await expect(messages(page, "bot").last).to_contain_text("kod pocztowy")
    await say(page, "00-950")
    # a return needs the strong level (docs/security.md): the code sent to her, typed here
    await expect(messages(page, "bot").last).to_contain_text("6-cyfrowy kod")
    code, _ = await sent_code(live_server.bot, "A-1029")
    await say(page, code)
    choose = await bot_says(page, "Które chcesz odesłać?")
    text = await choose.locator('[data-ob="text"]').inner_text()
    await expect_lines(choose.locator('[data-ob="text"]'), text.split("\n"))
    assert [line for line in text.split("\n") if re.match(r"\d\. ", line)] == [
        '1. Etui na laptopa 14" × 1, 25,00 EUR za sztukę',
        "2. Lampka biurkowa × 2, 39,00 EUR za sztukę",
    ]
    await expect(buttons(choose)).to_have_text(
        ['Etui na laptopa 14"', "Lampka biurkowa", "Wszystkie produkty"])
    await expect_nothing_overflows(page)
    await screenshot(page, "return-01-lines-phone")

    await press(page, "Lampka biurkowa")
    await expect(messages(page, "bot").last).to_contain_text("Ile sztuk produktu Lampka biurkowa")
    await press(page, "1")
    await expect(messages(page, "bot").last).to_contain_text("Na razie: 1 × Lampka biurkowa")
    await press(page, "Dalej")
    reasons = await bot_says(page, "Dlaczego zwracasz")
    await expect(buttons(reasons)).to_have_count(4)
    await expect_nothing_overflows(page)
    await screenshot(page, "return-02-reasons-phone")

    await say(page, "Lampa miga po kilku minutach")
    await expect_answered(reasons, None)
    await expect(messages(page, "bot").last).to_contain_text("Jak chcesz odesłać produkty?")
    await press(page, "Punkt nadania")

    done = await bot_says(page, re.compile(
        r"Twój zwrot R-\d{4}-\d{6} do zamówienia A-1029 został zarejestrowany: "
        r"1 × Lampka biurkowa"))
    await expect(done).to_contain_text("zwrócimy Ci 39,00 EUR")
    await expect_pdf_link(page, done, live_server)
    await expect_nothing_overflows(page)
    await screenshot(page, "return-03-done-phone")
    assert (await shop_api(live_server, "GET", "/orders/A-1029"))["status"] \
        == "return_requested"


async def test_answered_buttons_stay_answered_after_a_reload(
    page: Page, live_server: LiveServer
) -> None:
    await open_chat(page, live_server.url + "/")
    await say(page, "Where is my order A-1001?")
    await say(page, "emma.thompson@example.com")
    await expect(messages(page, "bot").last).to_contain_text("waiting for your confirmation")
    await press(page, "Confirm my order")
    await expect(messages(page, "bot").last).to_contain_text("Here is your order A-1001")
    await say(page, "yes, let's confirm")  # typed, in other words than the button's
    await expect(messages(page, "bot").last).to_contain_text("How would you like to receive")

    await page.reload()  # e.g. the customer opens another page of the shop
    await expect(messages(page, "bot")).to_have_count(4)
    await expect(messages(page, "customer").locator('[data-ob="text"]')).to_have_text([
        "Where is my order A-1001?", "emma.thompson@example.com", "Confirm my order",
        "yes, let's confirm",
    ])
    status, summary, method = (messages(page, "bot").nth(i) for i in (1, 2, 3))
    await expect_answered(status, "Confirm my order")
    await expect_answered(summary, "Yes, let's confirm")  # the same words, any case
    await expect(method.locator('[data-ob="button"]:enabled')).to_have_count(3)
    await screenshot(page, "buttons-after-reload")

    await press(page, "Pickup point")  # the open question still works after the reload
    await expect(messages(page, "bot").last).to_have_text(re.compile("Which pickup point?"))


async def test_news_without_buttons_leaves_the_open_question_usable(
    page: Page, live_server: LiveServer
) -> None:
    # Emma is logged in on the shop page, so news about her other order reaches this chat.
    email = "emma.thompson@example.com"
    url = live_server.url + "/account"
    await serve_page(page, url, shop_page("/webchat/widget.js", **{
        "customer-email": email, "customer-name": "Emma Thompson",
        **signed_identity(IDENTITY_SECRET, email), "open": "true",
    }))
    await page.goto(url)
    await expect(hook(page, "panel")).to_be_visible()
    await say(page, "Where is my order A-1001?")
    await expect(messages(page, "bot").last).to_contain_text("A-1001")
    await press(page, "Confirm my order")
    await bot_says(page, "Here is your order A-1001")
    await press(page, "Yes, let's confirm")
    question = await bot_says(page, "How would you like to receive")

    await shop_api(live_server, "POST", "/orders/A-1013/events", json={
        "type": "shipped", "carrier": "DPD", "tracking_number": "DPD5550001",
        "tracking_url": "https://tracking.dpd.example/DPD5550001",
    })
    await expect(messages(page, "bot").last).to_contain_text("A-1013 is on its way with DPD")
    await expect(question.locator('[data-ob="button"]:enabled')).to_have_count(3)
    await screenshot(page, "buttons-open-after-news")

    await question.get_by_role("button", name="Courier to your door").click()
    await expect(messages(page, "bot").last).to_contain_text("Which day?")
    await expect_answered(question, "Courier to your door")


async def test_markup_in_an_order_line_is_shown_as_text(
    page: Page, live_server: LiveServer
) -> None:
    names = [
        "<script>window.__pwned = 1</script>Mug",
        '<img src=x onerror="window.__pwned = 2">Plate',
        "Poster javascript:window.__pwned=3",
        'Sticker https://evil.example/x"onclick="window.__pwned=4',
    ]
    async with httpx.AsyncClient(
        base_url=live_server.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        created = await client.post("/api/orders", json={
            "number": "A-9001", "currency": "EUR",
            "customer": {"name": "Mallory Test", "email": "mallory@example.com"},
            "lines": [{"sku": f"X-{i}", "name": name, "quantity": 1, "unit_price": "1.00"}
                      for i, name in enumerate(names)],
            "delivery": {"address": {"street": "1 Test St", "city": "Leeds",
                                     "postcode": "LS2 9JT"}},
        })
    assert created.status_code == 201, created.text
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    await open_chat(page, live_server.url + "/")
    await say(page, "Where is my order A-9001?")
    await say(page, "LS2 9JT")
    await bot_says(page, "Order A-9001 is waiting for your confirmation")
    await press(page, "Confirm my order")
    summary = await bot_says(page, "Here is your order A-9001")
    for name in names:
        await expect(summary).to_contain_text(f"• 1 × {name} — 1.00 EUR")
    await screenshot(page, "markup-in-line-names")

    log = hook(page, "messages")
    await expect(log.locator("script, img, [onclick], [onerror]")).to_have_count(0)
    links = log.locator("a")
    await expect(links).to_have_count(1)  # only the https address is a link
    await expect(links).to_have_attribute("href", "https://evil.example/x")
    assert await page.evaluate("window.__pwned") is None
    assert dialogs == []


async def test_long_messages_wrap_inside_the_panel_on_a_phone(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await open_chat(page, live_server.url + "/")
    unbroken = "A-1001" * 40
    link = "https://shop.example/account/orders/A-1001/documents/" + "x" * 60
    await say(page, unbroken)
    await say(page, f"Is this my invoice? {link}")
    await expect(messages(page, "bot")).to_have_count(2)

    bubble = messages(page, "customer").nth(0).locator('[data-ob="text"]')
    line_height = await bubble.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)")
    assert (await bubble.bounding_box() or {"height": 0})["height"] > 3 * line_height
    shown = messages(page, "customer").nth(1).locator("a")
    await expect(shown).to_have_attribute("href", link)
    await expect(shown).to_have_text(link)  # the customer's own words are shown as typed
    await expect_nothing_overflows(page)
    await screenshot(page, "long-messages-phone")


async def test_messages_written_while_the_chat_connects_keep_their_order(
    page: Page, live_server: LiveServer
) -> None:
    """A customer types at once, before the chat has its history: the messages wait, then go
    in the order written, and stay on screen when the history arrives."""
    held: list[str | bytes] = []
    history_held = asyncio.Event()
    sockets: list[WebSocketRoute] = []

    def hold_the_history(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        sockets.append(socket)

        def from_server(frame: str | bytes) -> None:
            if history_held.is_set():
                socket.send(frame)
            else:
                held.append(frame)
                history_held.set()

        server.on_message(from_server)

    await page.route_web_socket(re.compile(r"/webchat/ws"), hold_the_history)
    await open_chat(page, live_server.url + "/")
    await asyncio.wait_for(history_held.wait(), 10)
    await say(page, "Where is my order A-1015?")
    await say(page, "olivia.brown@example.com")
    await expect(messages(page, "customer").first).to_have_class(re.compile(r"\bpending\b"))

    for frame in held:
        sockets[0].send(frame)
    await expect(messages(page, "customer").locator('[data-ob="text"]')).to_have_text(
        ["Where is my order A-1015?", "olivia.brown@example.com"])
    await expect(messages(page, "bot")).to_have_count(2)
    await expect(messages(page, "bot").first).to_contain_text("email address or the delivery")
    await expect(messages(page, "bot").last).to_contain_text("Order A-1015 is on its way")
    await expect(page.locator('[data-ob="message"].pending')).to_have_count(0)
