"""Hostile input: markup in names, messages and addresses stays text in the widget, the
console and the transcript export (real Chromium); oversized bodies and messages are refused;
malformed JSON and MIME get an answer and leave the worker serving.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiosmtplib
import httpx
import pytest
import websockets
from playwright.async_api import (
    Dialog,
    expect,
)
from sqlalchemy import func, select

from channels.webchat.identity import signed_identity
from composition.bootstrap import Orderbot
from dialog.tables import TranscriptEntry
from serving import MAX_WEBSOCKET_FRAME
from shop_api.orders import MAX_BODY_BYTES
from tests.browser.conftest import PageFactory
from tests.browser.conftest import browser as browser  # the suite's Chromium, shared
from tests.browser.conftest import new_page as new_page
from tests.browser.test_console import log_in, tid, transcript, waiting
from tests.browser.test_widget import (
    IDENTITY_SECRET,
    hook,
    messages,
    open_chat,
    say,
    serve_page,
    shop_page,
)
from tests.conftest import API_KEY, LiveServer
from tests.doubles.smtp_relay import SmtpRelayDouble, customer_mail
from tests.e2e.test_webchat import chat
from tests.security.conftest import SHOP

AUTH = {"Authorization": f"Bearer {API_KEY}"}

NAME = "<img src=x onerror=window.__pwned=1> Mallory"
STREET = "<script>window.__pwned=2</script>1 Test St"
CITY = '"><svg onload=window.__pwned=3>'
LINE = "<iframe src=javascript:window.__pwned=4></iframe>Mug"
SAID = "<img src=x onerror=window.__pwned=5> <b>help</b>"
EMAIL = "mallory@example.com"
FROM_DATA = "img, iframe, svg, [onerror], [onload], [onclick]"  # nothing the data could make


def hostile_order(number: str) -> dict[str, Any]:
    return {
        "number": number, "currency": "EUR",
        "customer": {"name": NAME, "email": EMAIL, "language": "en"},
        "lines": [{"sku": "HOSTILE-1", "name": LINE, "quantity": 1, "unit_price": "1.00"}],
        "delivery": {"method": "courier",
                     "address": {"street": STREET, "city": CITY, "postcode": "LS2 9JT"}},
        "payment": {"method": "card", "status": "pending"},
    }


async def count_entries(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(TranscriptEntry)) or 0)


# In the browser: the widget, the console, the export


@pytest.mark.browser
async def test_markup_in_names_addresses_and_messages_is_inert_everywhere(
    new_page: PageFactory, live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=AUTH) as client:
        created = await client.post("/api/orders", json=hostile_order("H-1"))
    assert created.status_code == 201, created.text
    assert created.json()["customer"]["name"] == NAME  # stored as given: escaping is output's job
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    # The customer, signed in on the shop under the hostile name, talks about the order.
    customer = await new_page()
    customer.on("dialog", on_dialog)
    url = live_server.url + "/shop-test"
    await serve_page(customer, url, shop_page(
        "/webchat/widget.js", **{"customer-email": EMAIL, "customer-name": "Mallory",
                                 **signed_identity(IDENTITY_SECRET, EMAIL)}))
    await open_chat(customer, url)
    # the shop's order message waits in her history, with the line's name as text
    await expect(messages(customer, "bot").first).to_contain_text(f"• 1 × {LINE}")
    await say(customer, "Where is my order H-1?")
    await expect(messages(customer, "bot").filter(has_text="Order H-1 is waiting")
                 ).to_have_count(1)
    await say(customer, SAID)  # shown as typed: say() checks the bubble's text
    await say(customer, "I want to talk to a person")
    await expect(messages(customer, "bot").filter(has_text="passing you to a colleague")
                 ).to_have_count(1)
    await expect(hook(customer, "messages").locator(FROM_DATA)).to_have_count(0)
    await expect(hook(customer, "messages").locator("script")).to_have_count(0)

    # The operator sees the name, the line, the address and the message as text.
    operator = await new_page()
    operator.on("dialog", on_dialog)
    await log_in(operator, live_server)
    item = waiting(operator)
    await expect(item.get_by_test_id("queue-customer")).to_have_text(NAME)
    await item.click()
    await expect(transcript(operator, "customer").filter(has_text="<b>help</b>")
                 .get_by_test_id("message-text")).to_have_text(SAID)
    order = tid(operator, "orders").locator('[data-number="H-1"]')
    await expect(order).to_contain_text(LINE)
    await expect(tid(operator, "customer")).to_contain_text(NAME)
    await expect(operator.locator(FROM_DATA)).to_have_count(0)
    await expect(tid(operator, "app").locator("script")).to_have_count(0)
    for page in (customer, operator):
        assert await page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []

    # The export is a plain-text download the browser will not render as a page.
    link = await tid(operator, "export").get_attribute("href")
    export = await operator.request.get(live_server.url + str(link))
    assert export.ok
    assert export.headers["content-type"].startswith("text/plain")
    assert export.headers["x-content-type-options"] == "nosniff"
    assert export.headers["content-disposition"].startswith("attachment")
    assert SAID in await export.text()


# Oversized bodies and messages


async def test_an_oversized_shop_api_body_is_refused_unread(live_server: LiveServer) -> None:
    big = hostile_order("BIG-1")
    big["customer"]["name"] = "x" * (MAX_BODY_BYTES + 1)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed, chunked
        body = json.dumps(big).encode()
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    async with httpx.AsyncClient(base_url=live_server.url, headers=AUTH) as client:
        declared = await client.post("/api/orders", json=big)
        streamed = await client.post("/api/orders", content=chunks(),
                                     headers={"Content-Type": "application/json"})
        for response in (declared, streamed):
            assert response.status_code == 413, response.text
            assert str(MAX_BODY_BYTES) in response.json()["detail"]
        assert (await client.get("/api/orders/BIG-1")).status_code == 404
        # just under the limit is read (and judged on its content)
        fitting = hostile_order("BIG-2")
        fitting["customer"]["name"] = "x" * 1000
        assert (await client.post("/api/orders", json=fitting)).status_code == 422


async def test_an_over_long_chat_message_is_refused_and_not_stored(
    live_server: LiveServer,
) -> None:
    limit = live_server.bot.settings.webchat.max_message_chars
    before = await count_entries(live_server.bot)
    async with chat(live_server) as conversation:
        error = await conversation.say("y" * (limit + 1))
        assert error["type"] == "error" and str(limit) in error["reason"]
        assert await count_entries(live_server.bot) == before
        assert "Hello" in (await conversation.say("hello"))["text"]  # still usable


async def test_a_websocket_frame_over_64_kb_closes_the_socket(live_server: LiveServer) -> None:
    before = await count_entries(live_server.bot)
    async with chat(live_server) as conversation:
        frame = json.dumps({"type": "message", "text": "z" * MAX_WEBSOCKET_FRAME})
        await conversation.socket.send(frame)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await conversation.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert await count_entries(live_server.bot) == before
    async with chat(live_server) as fresh:  # the server goes on serving
        assert "Hello" in (await fresh.say("hello"))["text"]


# Malformed JSON and MIME


@pytest.mark.parametrize("body", [
    b"{not json", b"", b"[]", b"null", b'"a string"', b"\xff\xfe\x00garbage",
    b'{"number": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"number": "A-1", "lines": 1e999999}',
], ids=["broken", "empty", "array", "null", "string", "binary", "deep", "huge-number"])
async def test_malformed_json_to_the_shop_api_is_a_422_with_the_reason(
    live_server: LiveServer, body: bytes,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=AUTH) as client:
        response = await client.post("/api/orders", content=body,
                                     headers={"Content-Type": "application/json"})
        # 422 for what is not JSON; 400 when the parser gives up on nesting; both say why
        assert response.status_code in (400, 422), response.text
        assert response.json()["detail"]
        assert (await client.get("/api/orders/A-1013")).status_code == 200  # still serving


async def test_malformed_frames_get_an_error_frame_and_the_socket_stays_usable(
    live_server: LiveServer,
) -> None:
    before = await count_entries(live_server.bot)
    bad_frames = ["{not json", "", "null", "[]", '"text"', "\ud800".encode("utf-8", "replace")
                  .decode(), json.dumps({"type": "message"}), json.dumps({"type": "message",
                  "text": 5}), json.dumps({"type": "action", "payload": None}),
                  json.dumps({"type": "message", "text": "   "}), "[" * 10_000 + "]" * 10_000,
                  json.dumps({"type": "message", "text": "hi", "extra": {"__proto__": 1}})]
    async with chat(live_server) as conversation:
        for bad in bad_frames[:-1]:
            await conversation.socket.send(bad)
            answer = await conversation.next()
            assert answer["type"] == "error" and answer["reason"], bad
        assert await count_entries(live_server.bot) == before
        assert "Hello" in (await conversation.say("hello"))["text"]


MALFORMED_MAIL = [
    b"\x00\xff\xfe garbage with no headers at all\r\n",
    b"From: olivia.brown@example.com\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
    b"From: olivia.brown@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    + b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" * 300 + b"--b--\r\n",
    b"From: =?utf-8?b?!!!notbase64?= <olivia.brown@example.com>\r\nSubject: =?x-unknown?q?"
    b"=FF?=\r\nContent-Type: text/plain; charset=no-such-charset\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n%%%% not base64 %%%%\r\n",
    b"From: <>\r\nMessage-ID: <<<>>>\r\nReferences: " + b"<a@b> " * 5000 + b"\r\n\r\nhi\r\n",
    b"From: olivia.brown@example.com\r\nContent-Type: text/html\r\n\r\n"
    + b"<div>" * 20000 + b"where is my order",
]


async def test_malformed_mime_is_answered_and_the_listener_keeps_serving(
    mail_bot: Orderbot, relay: SmtpRelayDouble,
) -> None:
    port = mail_bot.settings.email.listen_port
    for raw in MALFORMED_MAIL:
        try:
            errors, answer = await aiosmtplib.send(
                raw, sender="someone@example.net", recipients=[SHOP],
                hostname="127.0.0.1", port=port)
        except aiosmtplib.SMTPResponseException as refused:
            assert 500 <= refused.code < 600, refused  # refused with a reason, not dropped
        else:
            assert errors == {} and answer.startswith("2"), answer
    await mail_bot.inbox.drain()
    await mail_bot.outbox.drain()
    before = len(relay.to("olivia.brown@example.com"))
    good = customer_mail("olivia.brown@example.com", "where is my order A-1015?", to=SHOP)
    await aiosmtplib.send(good, hostname="127.0.0.1", port=port)
    await mail_bot.inbox.drain()
    replies = await relay.wait_for(before + 1, "olivia.brown@example.com")
    assert any("A-1015" in mail.text for mail in replies[before:]), [m.text for m in replies]
