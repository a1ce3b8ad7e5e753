"""The web chat widget in a real Chromium, on the demo shop page, against the real server.

Everything is asserted as the customer sees it: bubbles, buttons, links, the unread badge and
the status line, found through the widget's data-ob hooks inside its open shadow root (which
Playwright's locators pierce).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Dialog, Locator, Page, Route, WebSocket, expect

from channels.webchat.identity import signed_identity
from tests.conftest import API_KEY, LiveServer

pytestmark = pytest.mark.browser

IDENTITY_SECRET = "test-identity-secret"  # what tests/conftest.make_settings configures


def hook(page: Page, name: str) -> Locator:
    return page.locator(f'[data-ob="{name}"]')


def messages(page: Page, sender: str) -> Locator:
    return page.locator(f'[data-ob="message"][data-from="{sender}"]')


async def open_chat(page: Page, url: str) -> None:
    await page.goto(url)
    await hook(page, "launcher").click()
    await expect(hook(page, "panel")).to_be_visible()


async def say(page: Page, text: str) -> None:
    """Type into the chat and press Enter; the customer's own bubble appears at once."""
    before = await messages(page, "customer").count()
    await hook(page, "input").fill(text)
    await hook(page, "input").press("Enter")
    await expect(messages(page, "customer")).to_have_count(before + 1)
    await expect(messages(page, "customer").last.locator('[data-ob="text"]')).to_have_text(text)


async def shop_api(server: LiveServer, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        response = await client.request(method, "/api" + path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


async def serve_page(page: Page, url: str, html: str) -> None:
    """Answer the browser's request for `url` with a shop page of our own (page.route).

    Chromium cannot tell where a routed page came from, so its Local Network Access checks treat
    it as a public site and block its requests to the loopback bot; a real shop page and bot
    are both public. Granting the permission puts the page back where it stands in real life.
    """

    async def fulfil(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    await page.context.grant_permissions(["local-network-access"])
    await page.route(url, fulfil)


def shop_page(script_src: str, **data: str) -> str:
    attributes = "".join(f' data-{name}="{value}"' for name, value in data.items())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>My account</title>'
        "</head><body><h1>My account</h1>"
        f'<script src="{script_src}"{attributes} async></script></body></html>'
    )


def history_arrived(page: Page) -> asyncio.Future[None]:
    """Resolves when the widget's WebSocket got its first frame (the history): it is online."""
    arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda _: arrived.done() or arrived.set_result(None))

    page.on("websocket", on_socket)
    return arrived


async def test_order_status_in_english(page: Page, live_server: LiveServer) -> None:
    tracking = (await shop_api(live_server, "GET", "/orders/A-1015"))["tracking"]
    assert tracking["carrier"] == "DHL"  # the demo data this test is written for
    await open_chat(page, live_server.url + "/")

    await say(page, "Where is my order A-1015?")
    await expect(messages(page, "bot")).to_have_count(1)
    await expect(messages(page, "bot").last).to_contain_text(re.compile("email.*postcode"))

    await say(page, "olivia.brown@example.com")
    await expect(messages(page, "bot")).to_have_count(2)
    reply = messages(page, "bot").last
    await expect(reply).to_contain_text("Order A-1015 is on its way with DHL")
    await expect(reply).to_contain_text(tracking["tracking_number"])
    link = reply.locator('[data-ob="text"] a')
    await expect(link).to_have_attribute("href", re.compile(r"^https://"))
    await expect(link).to_have_attribute("href", tracking["tracking_url"])


@pytest.mark.parametrize(
    ("question", "proof", "asks", "answer"),
    [
        ("Gdzie jest moje zamówienie A-1017?", "00-950", "kod pocztowy",
         "Zamówienie A-1017 jest w drodze"),
        ("Где мой заказ A-1021?", "101000", "почтовый индекс", "Заказ A-1021 в пути"),
    ],
    ids=["polish", "russian"],
)
async def test_order_status_in_the_customers_language(
    page: Page, live_server: LiveServer, question: str, proof: str, asks: str, answer: str
) -> None:
    number = re.search(r"A-\d+", question)[0]  # type: ignore[index]
    tracking = (await shop_api(live_server, "GET", f"/orders/{number}"))["tracking"]
    await open_chat(page, live_server.url + "/")  # the browser itself speaks English

    await say(page, question)
    await expect(messages(page, "bot").last).to_contain_text(asks)
    await say(page, proof)
    await expect(messages(page, "bot")).to_have_count(2)
    await expect(messages(page, "bot").last).to_contain_text(answer)
    await expect(messages(page, "bot").last).to_contain_text(tracking["tracking_number"])


async def test_greeting_buttons_start_order_tracking(page: Page, live_server: LiveServer) -> None:
    await open_chat(page, live_server.url + "/")
    await say(page, "hello")
    greeting = messages(page, "bot").nth(0)
    await expect(greeting).to_contain_text("Hello!")
    await expect(greeting.locator('[data-ob="button"]')).to_have_text(
        ["Track my order", "Talk to a person"]
    )

    await greeting.get_by_role("button", name="Track my order").click()
    await expect(messages(page, "customer").last).to_have_text(re.compile("Track my order"))
    await expect(messages(page, "bot")).to_have_count(2)
    await expect(messages(page, "bot").last).to_contain_text("What is your order number?")
    await expect(greeting.locator('[data-ob="button"]').first).to_be_disabled()


async def test_history_is_shown_again_after_a_reload(page: Page, live_server: LiveServer) -> None:
    await open_chat(page, live_server.url + "/")
    await say(page, "Where is my order A-1015?")
    await expect(messages(page, "bot")).to_have_count(1)
    asked = await messages(page, "bot").last.locator('[data-ob="text"]').inner_text()

    await page.reload()
    await expect(hook(page, "panel")).to_be_visible()  # it was open before the reload
    everything = page.locator('[data-ob="message"]')
    await expect(everything).to_have_count(2)
    await expect(everything.nth(0)).to_have_attribute("data-from", "customer")
    await expect(everything.nth(0)).to_contain_text("Where is my order A-1015?")
    await expect(everything.nth(1)).to_have_attribute("data-from", "bot")
    await expect(everything.nth(1).locator('[data-ob="text"]')).to_have_text(asked)

    await say(page, "olivia.brown@example.com")  # the conversation goes on where it was
    await expect(messages(page, "bot").last).to_contain_text("Order A-1015 is on its way")


async def test_shipping_news_reaches_a_logged_in_customer_with_the_panel_closed(
    page: Page, live_server: LiveServer
) -> None:
    # Verifying an order by email in an anonymous chat does not tie the chat to the customer
    # (the status flow only records the order as proven), so the shop page logs her in.
    email, number = "emma.thompson@example.com", "A-1013"
    assert (await shop_api(live_server, "GET", f"/orders/{number}"))["status"] == "confirmed"
    url = live_server.url + "/shop-test"
    html = shop_page("/webchat/widget.js", **{
        "customer-email": email, "customer-name": "Emma Thompson",
        **signed_identity(IDENTITY_SECRET, email),
    })
    await serve_page(page, url, html)
    online = history_arrived(page)
    await page.goto(url)
    await expect(hook(page, "launcher")).to_be_visible()
    await asyncio.wait_for(online, 10)
    await expect(hook(page, "panel")).to_be_hidden()
    await expect(hook(page, "badge")).to_be_hidden()

    await shop_api(live_server, "POST", f"/orders/{number}/events", json={
        "type": "shipped", "carrier": "DPD", "tracking_number": "DPD5550001",
        "tracking_url": "https://tracking.dpd.example/DPD5550001",
    })
    await expect(hook(page, "badge")).to_be_visible()
    await expect(hook(page, "badge")).to_have_text("1")

    await hook(page, "launcher").click()
    news = messages(page, "bot").last
    await expect(news).to_contain_text(f"your order {number} is on its way with DPD")
    await expect(news).to_contain_text("DPD5550001")
    await expect(news.locator("a")).to_have_attribute(
        "href", "https://tracking.dpd.example/DPD5550001"
    )
    await expect(hook(page, "badge")).to_be_hidden()


async def test_markup_typed_by_a_customer_stays_text(page: Page, live_server: LiveServer) -> None:
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    attack = "<img src=x onerror=alert(1)>"
    await open_chat(page, live_server.url + "/")
    await say(page, attack)  # asserts the bubble's text is exactly what was typed
    await expect(messages(page, "bot")).to_have_count(1)  # the server answered it
    await expect(hook(page, "messages").locator("img")).to_have_count(0)

    await page.reload()  # and again when it comes back from the server as history
    await expect(messages(page, "customer").locator('[data-ob="text"]')).to_have_text(attack)
    await expect(hook(page, "messages").locator("img")).to_have_count(0)
    assert dialogs == []


def foreign_shop(server: LiveServer) -> str:
    """The same server under another name: http://localhost:<port> is not an allowed origin."""
    return "http://localhost:" + server.url.rsplit(":", 1)[1] + "/shop"


async def test_a_site_that_is_not_allowed_cannot_chat(page: Page, live_server: LiveServer) -> None:
    # A token made elsewhere (e.g. copied from the real shop) gets as far as the WebSocket,
    # which the server closes with 4403 because of the page's origin.
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        session = await client.post("/webchat/session", json={})
    token_key = f"orderbot:token:{live_server.url}"
    await page.add_init_script(f"localStorage.setItem({token_key!r}, {session.json()['token']!r})")
    await serve_page(page, foreign_shop(live_server),
                     shop_page(f"{live_server.url}/webchat/widget.js"))
    await page.goto(foreign_shop(live_server))
    await hook(page, "launcher").click()
    await expect(hook(page, "status")).to_have_text("Chat unavailable on this site")
    await expect(hook(page, "input")).to_be_disabled()
    await expect(hook(page, "send")).to_be_disabled()


async def test_a_new_visitor_on_a_site_that_is_not_allowed_is_told_so(
    page: Page, live_server: LiveServer
) -> None:
    await serve_page(page, foreign_shop(live_server),
                     shop_page(f"{live_server.url}/webchat/widget.js"))
    await page.goto(foreign_shop(live_server))
    await hook(page, "launcher").click()
    await expect(hook(page, "status")).to_have_text("Chat unavailable on this site")
    await expect(hook(page, "input")).to_be_disabled()
