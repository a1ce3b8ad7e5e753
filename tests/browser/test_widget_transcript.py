""""Email me this conversation" in a real Chromium: a customer the shop signed in gets the
chat in their mailbox, through the bot's email channel and its relay (the SMTP double)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page, expect

from channels.webchat.identity import signed_identity
from tests.browser.test_widget import (
    IDENTITY_SECRET,
    hook,
    messages,
    say,
    serve_page,
    shop_page,
)
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble
from tests.servers import free_port

pytestmark = pytest.mark.browser

SHOP = "orders@shop.example"
EMMA = "emma.thompson@example.com"


@pytest.fixture
async def mailing_server(make_bot: BotFactory, relay: SmtpRelayDouble) -> AsyncIterator[LiveServer]:
    bot = await make_bot(
        http={"port": free_port()},
        email={"enabled": True, "listen_port": free_port(), "address": SHOP,
               "relay_host": "127.0.0.1", "relay_port": relay.port, "authserv_id": MTA},
    )
    live = await serve(bot)
    yield live
    await live.stop()


async def test_a_signed_in_customer_gets_the_conversation_by_email(
    page: Page, mailing_server: LiveServer, relay: SmtpRelayDouble
) -> None:
    url = mailing_server.url + "/my-account"
    await serve_page(page, url, shop_page("/webchat/widget.js", **{
        "customer-email": EMMA, "customer-name": "Emma Thompson",
        **signed_identity(IDENTITY_SECRET, EMMA)}))
    await page.goto(url)
    await hook(page, "launcher").click()
    await say(page, "Where is my order A-1013?")
    await expect(messages(page, "bot").last).to_contain_text("A-1013")

    await hook(page, "more").click()
    await hook(page, "email-transcript").click()
    await expect(hook(page, "note").last).to_have_text(
        "We have sent this conversation to your email address.")
    mail = (await relay.wait_for(1, EMMA))[-1]
    assert "Here is your conversation with" in mail.text
    assert "You:\nWhere is my order A-1013?" in mail.text
    assert "Assistant:\n" in mail.text

    # once a minute at most; a forged token is refused; nothing more is mailed
    token = await page.evaluate("key => localStorage.getItem(key)",
                                f"orderbot:token:{mailing_server.url}")
    async with httpx.AsyncClient(base_url=mailing_server.url) as client:
        again = await client.post("/webchat/transcript", json={"token": token})
        assert again.status_code == 429
        forged = await client.post("/webchat/transcript", json={"token": "forged"})
        assert forged.status_code == 404
        bad = await client.post("/webchat/transcript", json={"token": ""})
        assert bad.status_code == 422
    # pressed again within the minute: said in the customer's words, not the server's
    await hook(page, "more").click()
    await hook(page, "email-transcript").click()
    await expect(hook(page, "note").last).to_have_text(
        "This conversation was emailed a moment ago.")
    assert len(relay.to(EMMA)) == 1


async def test_an_anonymous_chat_has_no_email_option_and_the_endpoint_refuses_it(
    page: Page, mailing_server: LiveServer, relay: SmtpRelayDouble
) -> None:
    await page.goto(mailing_server.url + "/")
    await hook(page, "launcher").click()
    await say(page, "hello")
    await expect(messages(page, "bot")).to_have_count(1)
    await hook(page, "more").click()
    await expect(hook(page, "new-conversation")).to_be_visible()
    await expect(hook(page, "email-transcript")).to_have_count(0)
    token = await page.evaluate("key => localStorage.getItem(key)",
                                f"orderbot:token:{mailing_server.url}")
    async with httpx.AsyncClient(base_url=mailing_server.url) as client:
        refused = await client.post("/webchat/transcript", json={"token": token})
    assert refused.status_code == 409
    assert refused.json() == {"detail": "we do not know your email address in this chat"}
    assert relay.received == []
