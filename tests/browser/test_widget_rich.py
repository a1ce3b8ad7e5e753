"""Rich messages in the widget, in a real Chromium: the order card with its tracking button,
the rating as one row of five radio stars, day separators, order numbers kept whole, typing
both ways and a reconnecting bar that leaves the last buttons in view."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from tests.browser.accessibility import serious_violations
from tests.browser.conftest import PageFactory
from tests.browser.test_widget import hook, messages, open_chat, say, shop_api
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

# Looked at by people, not compared: docs/screenshots/widget-*.png are copies of these.
SCREENSHOTS = Path("/tmp/widget-screens")
SIZES = [("desktop", {"width": 1366, "height": 768}), ("phone", {"width": 390, "height": 844})]


@pytest.mark.parametrize(("size", "viewport"), SIZES, ids=[size for size, _ in SIZES])
async def test_the_status_comes_as_an_order_card_with_a_tracking_button(
    new_page: PageFactory, live_server: LiveServer, size: str, viewport: dict[str, int]
) -> None:
    order = await shop_api(live_server, "GET", "/orders/A-1015")
    page = await new_page(viewport=viewport)
    await open_chat(page, live_server.url + "/")
    await say(page, "Where is my order A-1015?")
    await expect(messages(page, "bot")).to_have_count(1)
    await say(page, "olivia.brown@example.com")

    card = messages(page, "bot").last.locator('[data-ob="card"]')
    await expect(card.locator('[data-ob="card-number"]')).to_have_text("Order A-1015")
    await expect(card.locator('[data-ob="card-status"]')).to_have_text("shipped")
    await expect(card.locator('[data-ob="card-item"]')).to_have_count(len(order["lines"]))
    track = card.locator('[data-ob="track"]')
    await expect(track).to_have_text("Track parcel (DHL)")
    await expect(track).to_have_attribute("href", order["tracking"]["tracking_url"])
    # the text stays (email and the platforms get only it), its order number in one piece
    text = messages(page, "bot").last.locator('[data-ob="text"]')
    await expect(text).to_contain_text("Order A-1015 is on its way with DHL")
    await expect(text.locator(".nowrap").first).to_have_text("A-1015")
    assert await serious_violations(page, "#orderbot-widget") == []
    await card.evaluate("card => card.scrollIntoView({block: 'start'})")  # the card in view
    await page.screenshot(path=SCREENSHOTS / f"widget-order-card-{size}.png")


async def test_the_rating_is_one_row_of_five_stars_chosen_like_radio_buttons(
    page: Page, live_server: LiveServer
) -> None:
    await open_chat(page, live_server.url + "/")
    await say(page, "Where is my order A-1015?")
    await expect(messages(page, "bot")).to_have_count(1)
    await say(page, "thanks, bye")
    group = page.get_by_role("radiogroup", name="Rate this conversation")
    await expect(group).to_be_visible()
    stars = group.get_by_role("radio")
    await expect(stars).to_have_count(5)
    for score in range(1, 6):
        await expect(group.get_by_role("radio", name=f"{score} of 5")).to_have_attribute(
            "aria-checked", "false")
    tops = {round((await stars.nth(i).bounding_box() or {"y": -1})["y"]) for i in range(5)}
    assert len(tops) == 1, f"the stars wrap onto {len(tops)} lines"

    await stars.first.focus()  # the keyboard: arrows move, Enter chooses
    for _ in range(3):
        await page.keyboard.press("ArrowRight")
    await expect(group.get_by_role("radio", name="4 of 5")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(group.get_by_role("radio", name="4 of 5")).to_have_attribute(
        "aria-checked", "true")
    await expect(messages(page, "bot").last).to_contain_text("Thank you for your rating!")
    await expect(stars.first).to_be_disabled()
    assert await serious_violations(page, "#orderbot-widget") == []
    await page.reload()  # the choice stays shown after a reload (the panel stays open)
    await expect(group.get_by_role("radio", name="4 of 5")).to_have_attribute(
        "aria-checked", "true")


def _history(now: datetime) -> list[dict[str, Any]]:
    older, yesterday = now - timedelta(days=5), now - timedelta(days=1)
    said = [(older, "customer", "Where is my order A-1009?"),
            (older, "bot", "Order A-1009 is confirmed and will ship soon.")]
    said += [(yesterday, "customer" if i % 2 else "bot", f"Question {i} about A-1009")
             for i in range(8)]
    said += [(now, "bot", "Anything else about order A-1009?")]
    history = [{"id": i + 1, "from": who, "text": text, "buttons": [], "at": at.isoformat()}
               for i, (at, who, text) in enumerate(said)]
    history[-1]["buttons"] = [{"title": "Track my order", "payload": "status:start"},
                              {"title": "Talk to a person", "payload": "human"}]
    return history


async def test_days_typing_and_reconnecting_as_the_customer_sees_them(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = await new_page(viewport={"width": 390, "height": 844})
    now = datetime.now().astimezone()
    typed: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    sockets: list[WebSocketRoute] = []

    def heard(raw: str | bytes) -> None:
        frame = json.loads(raw)
        if frame["type"] == "typing" and not typed.done():
            typed.set_result(frame)

    def served(socket: WebSocketRoute) -> None:  # the bot's side of the socket, played here
        sockets.append(socket)
        socket.on_message(heard)
        socket.send(json.dumps({"type": "history", "messages": _history(now)}))

    await page.route_web_socket(re.compile(r"/webchat/ws"), served)
    await open_chat(page, live_server.url + "/")
    older = now - timedelta(days=5)
    older_label = f"{older:%B} {older.day}" + (f", {older.year}" if older.year != now.year else "")
    await expect(hook(page, "day")).to_have_text([older_label, "Yesterday", "Today"])
    await expect(hook(page, "messages").locator(".nowrap").first).to_have_text("A-1009")

    sockets[-1].send(json.dumps({"type": "typing", "from": "bot"}))
    await expect(hook(page, "typing")).to_have_text("Assistant is typing…")
    await hook(page, "input").press_sequentially("where")
    assert await asyncio.wait_for(typed, 10) == {"type": "typing"}  # told to the desk

    last_button = messages(page, "bot").last.locator('[data-ob="button"]').last
    await expect(last_button).to_be_in_viewport()
    await sockets[-1].close()
    await expect(hook(page, "status")).to_have_text("Reconnecting…")
    await expect(page.locator(".head .dot")).to_have_attribute("data-state", "reconnecting")
    await expect(last_button).to_be_in_viewport()  # the bar does not cover the last row
