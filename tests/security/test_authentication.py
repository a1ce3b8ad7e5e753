"""Every entry point refuses the wrong credential, and a refused request changes nothing:
no inbox row, no reply, no order or stock change, no history shown.

Each refusal is followed by the same request with the right credential (a control), so that
"nothing happened" is not merely "nothing had happened yet".
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, select
from starlette.routing import Route

import shop_api.orders
from channels.telegram.webhook import SECRET_HEADER
from channels.webchat.identity import identity_signature
from composition.bootstrap import Orderbot
from console.live import COOKIE
from dialog.tables import Conversation, InboxRow, OutboxRow
from tests.conftest import API_KEY, BotFactory, LiveServer, serve
from tests.doubles import slack_api as slack_double
from tests.doubles.slack_api import SIGNING_SECRET, SlackApiDouble, direct_message
from tests.doubles.telegram_api import WEBHOOK_SECRET, TelegramApiDouble, text_update
from tests.e2e.test_webchat import REPLY_TIMEOUT, chat, open_session
from tests.servers import free_port

OLIVIA_EMAIL = "olivia.brown@example.com"


async def settle(bot: Orderbot) -> None:
    await bot.inbox.drain()
    await bot.outbox.drain()


async def count(bot: Orderbot, table: type[Any]) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


# Telegram: X-Telegram-Bot-Api-Secret-Token


@pytest.mark.parametrize("headers", [
    {},
    {SECRET_HEADER: ""},
    {SECRET_HEADER: "wrong"},
    {SECRET_HEADER: WEBHOOK_SECRET + "x"},
    {SECRET_HEADER: WEBHOOK_SECRET.upper()},
], ids=["missing", "empty", "wrong", "longer", "other-case"])
async def test_telegram_webhook_without_the_secret_is_refused_and_ignored(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble, headers: dict[str, str],
) -> None:
    bot = telegram_server.bot
    update = text_update(telegram_api.next_update_id(), "olivia", "where is my order A-1015?")
    async with httpx.AsyncClient(base_url=telegram_server.url) as client:
        refused = await client.post("/telegram/webhook", json=update, headers=headers)
        assert refused.status_code == 403
        await settle(bot)
        assert await count(bot, InboxRow) == 0
        assert telegram_api.sent() == []
        # control: the very same update with the secret is taken and answered
        taken = await client.post("/telegram/webhook", json=update,
                                  headers={SECRET_HEADER: WEBHOOK_SECRET})
    assert taken.status_code == 200
    await bot.inbox.drain()
    await telegram_api.wait_until(lambda: len(telegram_api.sent()) == 1)
    assert await count(bot, InboxRow) == 1


# Slack: signature and a 5-minute timestamp window


def _slack_headers(case: str, body: str) -> dict[str, str]:
    now = int(time.time())
    if case == "missing":
        return {"Content-Type": "application/json"}
    if case == "wrong-secret":
        return slack_double.signed_headers("not-the-signing-secret", body)
    if case == "stale":
        return slack_double.signed_headers(SIGNING_SECRET, body, now - 5 * 60 - 30)
    if case == "future":
        return slack_double.signed_headers(SIGNING_SECRET, body, now + 5 * 60 + 30)
    if case == "other-body":
        return slack_double.signed_headers(SIGNING_SECRET, body + " ")
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing", "wrong-secret", "stale", "future", "other-body"])
async def test_slack_event_without_a_fresh_valid_signature_is_refused_and_ignored(
    slack_server: LiveServer, slack_api: SlackApiDouble, case: str,
) -> None:
    bot = slack_server.bot
    body = json.dumps(direct_message("U0OLIVIA", "D0OLIVIA", "where is my order A-1015?"))
    async with httpx.AsyncClient(base_url=slack_server.url) as client:
        refused = await client.post("/slack/events", content=body,
                                    headers=_slack_headers(case, body))
        assert refused.status_code == 401
        await settle(bot)
        assert await count(bot, InboxRow) == 0
        assert slack_api.posted() == []
        taken = await client.post("/slack/events", content=body,
                                  headers=slack_double.signed_headers(SIGNING_SECRET, body))
    assert taken.status_code == 200
    await bot.inbox.drain()
    await slack_api.wait_until(lambda: len(slack_api.posted("D0OLIVIA")) == 1)


# Shop API: Bearer keys on every route


SHOP_ROUTES = [
    ("POST", "/api/orders"),
    ("GET", "/api/orders/A-1013"),
    ("POST", "/api/orders/A-1013/events"),
    ("PUT", "/api/stock/{sku}"),
]
BAD_AUTHORIZATIONS = {
    "missing": None,
    "empty-bearer": "Bearer",
    "wrong-key": "Bearer not-the-key",
    "prefix-of-key": f"Bearer {API_KEY[:-1]}",
    "key-plus-one": f"Bearer {API_KEY}x",
    "basic-scheme": f"Basic {API_KEY}",
    "bare-key": API_KEY,
}


def _new_order(number: str) -> dict[str, Any]:
    return {
        "number": number,
        "customer": {"name": "Mallory Example", "email": "mallory@example.com",
                     "language": "en"},
        "lines": [{"sku": "KB-001", "name": "Keyboard", "quantity": 1, "unit_price": "10.00"}],
        "currency": "EUR",
        "delivery": {"method": "courier", "address": {"street": "1 Road", "city": "Town",
                                                      "postcode": "AB1 2CD", "country": "GB"}},
        "payment": {"method": "card", "status": "pending"},
    }


async def test_every_shop_route_refuses_a_missing_or_wrong_key_and_changes_nothing(
    live_server: LiveServer,
) -> None:
    bot = live_server.bot
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "A-1013")
        assert order is not None and order.status == "confirmed"
        sku = order.lines[0].sku
        stock_before = await bot.orders.stock(session, sku)
    bodies: dict[str, Any] = {
        "/api/orders": _new_order("Z-9999"),
        "/api/orders/A-1013/events": {"type": "shipped", "carrier": "EVIL",
                                      "tracking_number": "X1"},
        "/api/stock/{sku}": {"available": 0},
    }
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        good = {"Authorization": f"Bearer {API_KEY}"}
        outbox_before = await count(bot, OutboxRow)
        before = (await client.get("/api/orders/A-1013", headers=good)).json()
        for method, path in SHOP_ROUTES:
            for name, authorization in BAD_AUTHORIZATIONS.items():
                headers = {"Authorization": authorization} if authorization is not None else {}
                response = await client.request(
                    method, path.format(sku=sku), headers=headers, json=bodies.get(path))
                assert response.status_code == 401, (method, path, name, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert "Z-9999" not in response.text and "EVIL" not in response.text
                assert "olivia" not in response.text.lower()
        after = (await client.get("/api/orders/A-1013", headers=good)).json()
        # each answer carries a newly issued chat link (README: "Order links and payment links")
        assert {**after, "links": None} == {**before, "links": None}
        assert (await client.get("/api/orders/Z-9999", headers=good)).status_code == 404
    async with bot.database.transaction() as session:
        assert await bot.orders.stock(session, sku) == stock_before
    await settle(bot)
    assert await count(bot, OutboxRow) == outbox_before


async def test_shop_keys_are_compared_in_constant_time_with_every_key(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every configured key is compared, with hmac.compare_digest, whatever is given."""
    compared: list[tuple[bytes, bytes]] = []
    real = shop_api.orders.hmac.compare_digest

    def recording(given: bytes, key: bytes) -> bool:
        compared.append((given, key))
        return real(given, key)

    monkeypatch.setattr(shop_api.orders.hmac, "compare_digest", recording)
    bot = await make_bot(http={"port": free_port()},
                         shop={"api_keys": ["first-key", "second-key"]})
    server = await serve(bot)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            for given, expected in (("first-key", 200), ("second-key", 200), ("nope", 401)):
                compared.clear()
                response = await client.get("/api/orders/A-1013",
                                            headers={"Authorization": f"Bearer {given}"})
                assert response.status_code == expected
                assert compared == [(given.encode(), b"first-key"),
                                    (given.encode(), b"second-key")]
    finally:
        await server.stop()


# Operator console: a session cookie on every API route and on the live socket


PLACEHOLDERS = {"conversation_id": "1", "number": "A-1001", "reply_id": "1", "operator_id": "1",
                "customer_id": "1", "table": "channels", "task_id": "1",
                "delivery_id": "1", "message_id": "1",
                "attachment_id": "AAAAAAAAAAAAAAAAAAAAAA", "tag": "vip"}
OPEN_ROUTES = {"/console/api/login"}


def _console_routes(bot: Orderbot) -> list[tuple[str, str]]:
    routes = []
    for route in bot.console.router().routes:
        if not isinstance(route, Route) or not route.path.startswith("/console/api"):
            continue
        if route.path in OPEN_ROUTES:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], route.path)
        routes.extend((method, path) for method in sorted(route.methods or ()) if method != "HEAD")
    return routes


@pytest.mark.parametrize("cookie", [None, "forged-session"], ids=["no-session", "forged"])
async def test_every_console_route_needs_an_operator_session(
    live_server: LiveServer, cookie: str | None,
) -> None:
    routes = _console_routes(live_server.bot)
    assert len(routes) >= 15  # the sweep sees the whole API, not a stale list
    cookies = {COOKIE: cookie} if cookie else {}
    async with httpx.AsyncClient(base_url=live_server.url, cookies=cookies) as client:
        for method, path in routes:
            body = None if method in ("GET", "DELETE") else {}
            response = await client.request(method, path, json=body)
            assert response.status_code == 401, (method, path, response.text)
            assert "log in" in response.json()["detail"]


async def test_console_socket_without_a_session_is_closed(live_server: LiveServer) -> None:
    for headers in ({}, {"Cookie": f"{COOKIE}=forged-session"}):
        async with websockets.connect(f"{live_server.ws_url}/console/ws",
                                      origin=live_server.url,
                                      additional_headers=headers) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


# Web chat: a token is bound to one conversation; the identity is signed


async def _closed_with(server: LiveServer, token: str) -> int | None:
    async with websockets.connect(f"{server.ws_url}/webchat/ws?token={token}",
                                  origin=server.url) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_webchat_tokens_open_their_own_conversation_only(live_server: LiveServer) -> None:
    first = (await open_session(live_server)).json()
    second = (await open_session(live_server)).json()
    async with chat(live_server, first["token"]) as mine:
        await mine.say("where is my order A-1015?")
        await mine.say("EH1 1YZ")
    async with chat(live_server, second["token"]) as other:
        assert other.history == []
    token = first["token"]
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    for forged in (first["conversation_id"], second["conversation_id"], flipped,
                   token + "0", token[:-1], "0" * len(token), "made-up"):
        assert await _closed_with(live_server, forged) == 4401, forged
    async with chat(live_server, token) as again:  # the real token still works
        assert [m["from"] for m in again.history] == ["customer", "bot", "customer", "bot"]


async def test_webchat_identity_with_a_wrong_signature_is_refused_and_stores_nothing(
    live_server: LiveServer,
) -> None:
    bot = live_server.bot
    before = await count(bot, Conversation)
    at = int(time.time())
    right = identity_signature("test-identity-secret", OLIVIA_EMAIL, at)
    for signature in (identity_signature("wrong-secret", OLIVIA_EMAIL, at),
                      identity_signature("test-identity-secret", "someone@example.com", at),
                      identity_signature("test-identity-secret", OLIVIA_EMAIL, at + 1),
                      right[:-1], "", "zz" * 32):
        response = await open_session(
            live_server, customer={"email": OLIVIA_EMAIL}, signature=signature, timestamp=at)
        assert response.status_code in (403, 422), signature
        assert "token" not in response.json()
    assert (await open_session(live_server, customer={"email": OLIVIA_EMAIL})).status_code == 422
    assert await count(bot, Conversation) == before
    ok = await open_session(live_server, customer={"email": OLIVIA_EMAIL}, signature=right,
                            timestamp=at)
    assert ok.status_code == 200 and ok.json()["token"]
