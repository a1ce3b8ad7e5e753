"""Capabilities, not master keys: each token opens one thing, for a while.

- The payment page's token pays and opens no chat; an order's chat link opens no payment page.
- A chat link works for [security] link_token_days from its issue; each answer of the shop API
  issues a new one and the older ones keep working until their own expiry.
- A web chat token ends when idle too long or too old (close 4401), and a resumed token ends
  the moment its replacement is issued.
- A shop's identity signature covers "email:timestamp" and expires; the email-only form is
  refused unless [webchat] identity_legacy is on.
- One conversation takes at most [webchat] max_sockets_per_conversation sockets (4429).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, select, update

from channels.webchat.identity import (
    identity_signature,
    legacy_identity_signature,
    signed_identity,
)
from composition.bootstrap import Orderbot
from dialog.tables import ConversationToken
from orders.tables import ChatLink, Order
from storage.clock import utcnow
from tests.conftest import API_KEY, BotFactory, LiveServer, serve
from tests.doubles.telegram_api import TelegramApiDouble
from tests.e2e.test_webchat import REPLY_TIMEOUT, chat, open_session
from tests.security.test_isolation import _telegram_say

UNPAID = "A-1041"  # Sophie Turner's unpaid order (LS1 1UR)
SECRET = "test-identity-secret"  # what tests/conftest.make_settings configures
OLIVIA = "olivia.brown@example.com"
LINK_INVALID = "This link is not valid any more."


async def shop_get(server: LiveServer, number: str) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        response = await client.get(f"/api/orders/{number}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def link_token(answer: dict[str, Any]) -> str:
    return str(httpx.URL(answer["links"]["webchat"]).params["link"])


async def pay_token(bot: Orderbot, number: str = UNPAID) -> str:
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, number)
    assert order is not None
    return order.pay_token


async def payment_status(bot: Orderbot, number: str = UNPAID) -> str:
    async with bot.database.transaction() as session:
        return str(await session.scalar(
            select(Order.payment_status).where(Order.number == number)))


async def close_code(server: LiveServer, token: str) -> tuple[int, str]:
    """How the server ends a socket opened with `token` before it sends anything."""
    async with websockets.connect(
        f"{server.ws_url}/webchat/ws?token={token}", origin=server.url
    ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


# The payment page's token and the chat link are different keys


async def test_the_payment_token_opens_no_web_chat(live_server: LiveServer) -> None:
    token = await pay_token(live_server.bot)
    refused = await open_session(live_server, link=token)
    assert refused.status_code == 404
    assert refused.json()["detail"] == "this chat link is not valid"


async def test_the_payment_token_links_no_telegram_chat(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble,
) -> None:
    token = await pay_token(telegram_server.bot)
    answer = await _telegram_say(telegram_server, telegram_api, "olivia", f"/start {token}")
    assert answer[0]["text"].startswith(LINK_INVALID)
    asked = await _telegram_say(telegram_server, telegram_api, "olivia",
                                f"where is my order {UNPAID}?")
    assert "Turner" not in asked[0]["text"] and "postcode" in asked[0]["text"]


async def test_the_chat_link_opens_no_payment_page(live_server: LiveServer) -> None:
    chat_link = link_token(await shop_get(live_server, UNPAID))
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        page = await client.get(f"/pay/{chat_link}")
        assert page.status_code == 404
        paid = await client.post(f"/pay/{chat_link}", headers={"Origin": live_server.url})
        assert paid.status_code == 404
        assert await payment_status(live_server.bot) != "paid"
        # the payment link the customer is sent still works, and pays
        own = await client.get(f"/pay/{await pay_token(live_server.bot)}")
        assert own.status_code == 200 and UNPAID in own.text
    async with chat(live_server, link=chat_link) as conversation:  # and the link still chats
        reply = await conversation.say("where is my order?")
        assert UNPAID in reply["text"]


async def test_the_payment_link_in_the_chat_is_the_payment_token(
    live_server: LiveServer,
) -> None:
    async with chat(live_server, customer={"email": "sophie.turner@example.com"},
                    **signed_identity(SECRET, "sophie.turner@example.com")) as conversation:
        answer = await conversation.say(f"I need to pay for order {UNPAID}")
        pay = next(b for b in answer["buttons"] if b["title"] == "Pay now")
        link = (await conversation.press(pay["payload"]))["text"].split()[-1]
    token = httpx.URL(link).path.rsplit("/", 1)[-1]
    assert token == await pay_token(live_server.bot)
    assert (await open_session(live_server, link=token)).status_code == 404


# Chat links expire and rotate


async def test_each_answer_issues_a_new_chat_link_and_the_old_ones_keep_working(
    live_server: LiveServer,
) -> None:
    first = link_token(await shop_get(live_server, UNPAID))
    second = link_token(await shop_get(live_server, UNPAID))
    assert first != second
    for token in (first, second):
        async with chat(live_server, link=token) as conversation:
            assert UNPAID in (await conversation.say("where is my order?"))["text"]


async def test_fetching_an_order_without_links_issues_none(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(
        base_url=live_server.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        polled = await client.get(f"/api/orders/{UNPAID}", params={"links": "false"})
    assert polled.status_code == 200 and "links" not in polled.json()
    async with live_server.bot.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ChatLink)) == 0


async def test_a_chat_link_works_for_link_token_days_and_then_not(
    live_server: LiveServer,
) -> None:
    bot = live_server.bot
    token = link_token(await shop_get(live_server, UNPAID))
    issued = utcnow()
    bot.orders.clock = lambda: issued + timedelta(days=29)
    assert (await open_session(live_server, link=token)).status_code == 200
    bot.orders.clock = lambda: issued + timedelta(days=30, minutes=1)
    refused = await open_session(live_server, link=token)
    assert refused.status_code == 404
    assert refused.json()["detail"] == "this chat link is not valid"


async def test_link_token_days_is_the_setting(make_bot: BotFactory) -> None:
    bot = await make_bot(security={"link_token_days": 2})
    server = await serve(bot)
    try:
        token = link_token(await shop_get(server, UNPAID))
        bot.orders.clock = lambda: utcnow() + timedelta(days=2, minutes=1)
        assert (await open_session(server, link=token)).status_code == 404
    finally:
        await server.stop()


async def test_an_expired_link_is_refused_in_telegram(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble,
) -> None:
    bot = telegram_server.bot
    token = link_token(await shop_get(telegram_server, UNPAID))
    async with bot.database.transaction() as session:  # its expiry has passed
        await session.execute(update(ChatLink).values(expires_at=utcnow() - timedelta(days=1)))
    answer = await _telegram_say(telegram_server, telegram_api, "olivia", f"/start {token}")
    assert answer[0]["text"].startswith(LINK_INVALID)


# Web chat tokens expire and rotate


@pytest.mark.parametrize("age", ["idle", "absolute"])
async def test_an_expired_chat_token_is_closed_with_4401_and_a_new_session_works(
    live_server: LiveServer, age: str,
) -> None:
    opened = (await open_session(live_server)).json()
    async with chat(live_server, opened["token"]) as conversation:
        await conversation.say("hello")
    now = utcnow()
    old = ({"last_used_at": now - timedelta(days=30, minutes=1)} if age == "idle"
           else {"created_at": now - timedelta(days=90, minutes=1), "last_used_at": now})
    async with live_server.bot.database.transaction() as session:
        await session.execute(update(ConversationToken).values(**old))
    assert await close_code(live_server, opened["token"]) == (4401, "unknown session")
    resumed = await open_session(live_server, resume=opened["token"])
    assert resumed.status_code == 404
    async with chat(live_server) as fresh:  # what the widget does next
        assert fresh.history == []
        assert "Hello" in (await fresh.say("hello"))["text"]


async def test_a_token_in_use_does_not_go_idle(live_server: LiveServer) -> None:
    opened = (await open_session(live_server)).json()
    async with live_server.bot.database.transaction() as session:
        await session.execute(update(ConversationToken).values(
            last_used_at=utcnow() - timedelta(days=29)))
    async with chat(live_server, opened["token"]) as conversation:  # used now
        await conversation.say("hello")
    async with chat(live_server, opened["token"]) as again:
        assert [m["from"] for m in again.history] == ["customer", "bot"]


async def test_a_resumed_token_is_replaced_and_ends(live_server: LiveServer) -> None:
    opened = (await open_session(live_server)).json()
    async with chat(live_server, opened["token"]) as conversation:
        await conversation.say("hello")
    resumed = await open_session(live_server, resume=opened["token"])
    assert resumed.status_code == 200
    new = resumed.json()
    assert new["conversation_id"] == opened["conversation_id"]
    assert new["token"] != opened["token"]
    assert (await close_code(live_server, opened["token"]))[0] == 4401
    assert (await open_session(live_server, resume=opened["token"])).status_code == 404
    async with chat(live_server, new["token"]) as again:  # the same conversation goes on
        assert again.history[0]["text"] == "hello"


async def test_resume_goes_alone(live_server: LiveServer) -> None:
    opened = (await open_session(live_server)).json()
    mixed = await open_session(live_server, resume=opened["token"],
                               customer={"email": OLIVIA}, **signed_identity(SECRET, OLIVIA))
    assert mixed.status_code == 422
    assert (await open_session(live_server, resume="forged")).status_code == 404
    async with chat(live_server, opened["token"]) as still:  # a refused resume ends nothing
        assert still.history == []


# Identity signatures with a timestamp


async def test_a_fresh_signature_is_accepted(live_server: LiveServer) -> None:
    ok = await open_session(live_server, customer={"email": OLIVIA},
                            **signed_identity(SECRET, OLIVIA))
    assert ok.status_code == 200 and ok.json()["token"]
    recent = int(time.time()) - 86400 + 600  # signed almost a day ago
    assert (await open_session(live_server, customer={"email": OLIVIA},
                               **signed_identity(SECRET, OLIVIA, recent))).status_code == 200


async def test_an_old_signature_has_expired(live_server: LiveServer) -> None:
    old = int(time.time()) - 86400 - 600
    refused = await open_session(live_server, customer={"email": OLIVIA},
                                 **signed_identity(SECRET, OLIVIA, old))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "the signature has expired"


async def test_a_signature_from_the_future_is_refused(live_server: LiveServer) -> None:
    ahead = int(time.time()) + 3600
    refused = await open_session(live_server, customer={"email": OLIVIA},
                                 **signed_identity(SECRET, OLIVIA, ahead))
    assert refused.status_code == 403
    assert "future" in refused.json()["detail"]


async def test_a_timestamp_moved_by_the_client_does_not_match(live_server: LiveServer) -> None:
    """The timestamp is signed: an old signature with today's timestamp matches nothing."""
    old = int(time.time()) - 86400 - 600
    refused = await open_session(live_server, customer={"email": OLIVIA},
                                 signature=identity_signature(SECRET, OLIVIA, old),
                                 timestamp=int(time.time()))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "the signature does not match the customer's email"


async def test_the_email_only_signature_is_refused_by_default(live_server: LiveServer) -> None:
    refused = await open_session(live_server, customer={"email": OLIVIA},
                                 signature=legacy_identity_signature(SECRET, OLIVIA))
    assert refused.status_code == 403
    assert "timestamp" in refused.json()["detail"]


async def test_the_email_only_signature_works_while_identity_legacy_is_on(
    make_bot: BotFactory,
) -> None:
    server = await serve(await make_bot(webchat={"identity_legacy": True}))
    try:
        legacy = await open_session(server, customer={"email": OLIVIA},
                                    signature=legacy_identity_signature(SECRET, OLIVIA))
        assert legacy.status_code == 200
        wrong = await open_session(server, customer={"email": OLIVIA},
                                   signature=legacy_identity_signature("wrong", OLIVIA))
        assert wrong.status_code == 403
        fresh = await open_session(server, customer={"email": OLIVIA},
                                   **signed_identity(SECRET, OLIVIA))
        assert fresh.status_code == 200
    finally:
        await server.stop()


# Sockets per conversation


async def test_the_sixth_socket_on_one_conversation_is_refused(live_server: LiveServer) -> None:
    token = (await open_session(live_server)).json()["token"]
    async with AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(chat(live_server, token)) for _ in range(5)]
        assert await close_code(live_server, token) == (4429, "too many open chats")
        # the five open ones still work
        assert "Hello" in (await opened[-1].say("hello"))["text"]
    async with chat(live_server, token) as again:  # closed ones make room again
        assert [m["from"] for m in again.history] == ["customer", "bot"]
