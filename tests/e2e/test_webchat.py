"""The web chat over the real server: HTTP session, a real WebSocket, the protocol of DESIGN.md."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from channels.webchat.identity import signed_identity
from tests.conftest import API_KEY, LiveServer

REPLY_TIMEOUT = 10  # generous upper bound; a reply normally takes milliseconds


class Chat:
    def __init__(self, socket: ClientConnection, history: list[dict[str, Any]]) -> None:
        self.socket = socket
        self.history = history

    async def say(self, text: str) -> dict[str, Any]:
        await self.socket.send(json.dumps({"type": "message", "text": text}))
        return await self.next()

    async def press(self, payload: str) -> dict[str, Any]:
        await self.socket.send(json.dumps({"type": "action", "payload": payload}))
        return await self.next()

    async def next(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.socket.recv(), REPLY_TIMEOUT))


async def open_session(server: LiveServer, **body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.post("/webchat/session", json=body)


async def post_event(server: LiveServer, number: str, **event: Any) -> None:
    """The shop tells the bot about an order (shipped, ...), as its API client would."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            f"/api/orders/{number}/events",
            headers={"Authorization": f"Bearer {API_KEY}"},
            json=event,
        )
    assert response.status_code == 200, response.text


@asynccontextmanager
async def chat(server: LiveServer, token: str | None = None, **body: Any) -> AsyncIterator[Chat]:
    if token is None:
        response = await open_session(server, **body)
        assert response.status_code == 200, response.text
        token = response.json()["token"]
    async with websockets.connect(
        f"{server.ws_url}/webchat/ws?token={token}", origin=server.url
    ) as socket:
        first = json.loads(await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT))
        assert first["type"] == "history"
        yield Chat(socket, first["messages"])


async def test_status_conversation_over_a_real_websocket(live_server: LiveServer) -> None:
    async with chat(live_server, language="en") as conversation:
        assert conversation.history == []
        asked = await conversation.say("Where is my order A-1015?")
        assert asked["type"] == "message" and asked["from"] == "bot"
        assert "postcode" in asked["text"]
        answer = await conversation.say("olivia.brown@example.com")
        assert "on its way with DHL" in answer["text"]
        assert answer["buttons"][0] == {"title": "Another order", "payload": "status:another"}
        assert isinstance(answer["id"], int) and answer["at"]


async def test_history_comes_first_after_reconnecting(live_server: LiveServer) -> None:
    response = await open_session(live_server)
    token = response.json()["token"]
    async with chat(live_server, token) as conversation:
        await conversation.say("hello")
    async with chat(live_server, token) as again:
        assert [m["from"] for m in again.history] == ["customer", "bot"]
        assert again.history[0]["text"] == "hello"
        assert again.history[1]["buttons"][0]["title"] == "Track my order"


async def test_buttons_are_actions(live_server: LiveServer) -> None:
    async with chat(live_server) as conversation:
        greeting = await conversation.say("hi")
        payload = greeting["buttons"][0]["payload"]
        assert "order number" in (await conversation.press(payload))["text"]


async def test_bad_token_is_closed_with_4401(live_server: LiveServer) -> None:
    async with websockets.connect(
        f"{live_server.ws_url}/webchat/ws?token=forged", origin=live_server.url
    ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_foreign_origin_is_closed_with_4403(live_server: LiveServer) -> None:
    token = (await open_session(live_server)).json()["token"]
    async with websockets.connect(
        f"{live_server.ws_url}/webchat/ws?token={token}", origin="https://evil.example"
    ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_malformed_frames_get_an_error_and_the_chat_goes_on(
    live_server: LiveServer,
) -> None:
    async with chat(live_server) as conversation:
        for bad in ("{not json", json.dumps({"type": "shout"}), json.dumps([1, 2])):
            await conversation.socket.send(bad)
            error = await conversation.next()
            assert error == {"type": "error", "reason": "I couldn't read that message."}
        assert "Hello" in (await conversation.say("hello"))["text"]


async def test_oversized_message_is_refused_politely(live_server: LiveServer) -> None:
    async with chat(live_server) as conversation:
        error = await conversation.say("x" * 2001)
        assert error["type"] == "error" and "2000" in error["reason"]
        assert "Hello" in (await conversation.say("hello"))["text"]


async def test_a_frame_beyond_the_protocol_limit_closes_the_socket(
    live_server: LiveServer,
) -> None:
    async with chat(live_server) as conversation:
        await conversation.socket.send("x" * 200_000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await conversation.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_verified_identity_sees_own_orders(live_server: LiveServer) -> None:
    email = "olivia.brown@example.com"
    signed = signed_identity("test-identity-secret", email)
    body = {"customer": {"email": email, "name": "Olivia"}, **signed}
    async with chat(live_server, **body) as conversation:
        choice = await conversation.say("where is my order?")
        assert choice["text"] == "Which order do you mean?"
        assert "A-1015" in [b["title"] for b in choice["buttons"]]


async def test_bad_signature_is_refused(live_server: LiveServer) -> None:
    response = await open_session(
        live_server,
        customer={"email": "olivia.brown@example.com"},
        **signed_identity("wrong-secret", "olivia.brown@example.com"),
    )
    assert response.status_code == 403
    assert "signature" in response.json()["detail"]


async def test_proactive_shipped_message_reaches_an_open_widget_at_once(
    live_server: LiveServer,
) -> None:
    email = "emma.thompson@example.com"  # owns confirmed order A-1013
    body = {"customer": {"email": email}, **signed_identity("test-identity-secret", email)}
    async with chat(live_server, **body) as conversation:
        await conversation.say("hello")
        await post_event(live_server, "A-1013", type="shipped", carrier="DPD",
                         tracking_number="DPD123", tracking_url="https://dpd.example/DPD123")
        pushed = await conversation.next()
        assert pushed["from"] == "bot"
        assert "A-1013 is on its way with DPD" in pushed["text"]
        assert "https://dpd.example/DPD123" in pushed["text"]


async def link_token(server: LiveServer, number: str) -> str:
    """A chat link token of the order, as POST /api/orders and GET /api/orders/N issue them."""
    async with server.bot.database.transaction() as session:
        return await server.bot.orders.issue_link_token(session, number)


async def test_news_of_an_order_reach_an_anonymous_chat_opened_with_its_link(
    live_server: LiveServer,
) -> None:
    """The link proves the order at the strong level (docs/security.md): the chat gets a copy
    of its news. A chat that proved it by its postcode only does not (test_proofs.py)."""
    token = await link_token(live_server, "A-1014")
    async with chat(live_server, link=token) as conversation:  # nobody signed in
        assert "A-1014 is confirmed" in (await conversation.say("where is my order A-1014?"))[
            "text"]
        await post_event(live_server, "A-1014", type="shipped", carrier="DHL",
                         tracking_number="DHL77")
        pushed = await conversation.next()
        assert "A-1014 is on its way with DHL" in pushed["text"]
    async with chat(live_server) as stranger:  # a chat that proved nothing hears nothing
        assert stranger.history == []


async def test_news_without_buttons_leaves_the_open_questions_options_answerable(
    live_server: LiveServer,
) -> None:
    async with chat(live_server, link=await link_token(live_server, "A-1014")) as conversation:
        proven = await conversation.say("where is my order A-1014?")
        assert proven["buttons"][2]["title"] == "Talk to a person"
        await post_event(live_server, "A-1014", type="shipped", carrier="DHL",
                         tracking_number="DHL78")
        assert (await conversation.next())["buttons"] == []
        assert "passing you to a colleague" in (await conversation.say("3"))["text"]


async def test_proactive_message_waits_in_history_when_nobody_is_connected(
    live_server: LiveServer,
) -> None:
    email = "james.wilson@example.com"  # owns confirmed order A-1014
    signed = signed_identity("test-identity-secret", email)
    await post_event(live_server, "A-1014", type="shipped", carrier="DHL", tracking_number="DHL42")
    async with chat(live_server, customer={"email": email}, **signed) as later:
        assert any("A-1014 is on its way with DHL" in m["text"] for m in later.history)


async def test_an_orders_chat_link_opens_a_chat_that_knows_the_order(
    live_server: LiveServer,
) -> None:
    """The shop creates an order; the chat link it gets back needs no further proof."""
    order = {
        "number": "W-5001",
        "customer": {"name": "Jan Kowalski", "email": "jan@example.com", "language": "pl"},
        "lines": [{"sku": "KB-100", "name": "Klawiatura", "quantity": 1, "unit_price": 89.0}],
        "currency": "PLN",
        "delivery": {"method": "courier", "address": {"postcode": "00-001", "city": "Warszawa"}},
    }
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        created = await client.post(
            "/api/orders", headers={"Authorization": f"Bearer {API_KEY}"}, json=order
        )
        assert created.status_code == 201, created.text
        link = httpx.URL(created.json()["links"]["webchat"])
        assert link.path == "/webchat/chat"
        page = await client.get(link.path)
        assert page.status_code == 200 and "/webchat/widget.js" in page.text
    async with chat(live_server, link=link.params["link"]) as conversation:
        reply = await conversation.say("gdzie jest moje zamówienie?")
        assert reply["text"] == "Zamówienie W-5001 czeka na Twoje potwierdzenie."


async def test_an_unknown_chat_link_is_refused(live_server: LiveServer) -> None:
    response = await open_session(live_server, link="not-a-real-link")
    assert response.status_code == 404
    assert response.json()["detail"] == "this chat link is not valid"


async def test_a_session_from_a_foreign_site_is_refused_readably(live_server: LiveServer) -> None:
    """403 with CORS headers, so the widget there can tell the customer the chat is off."""
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            "/webchat/session", json={}, headers={"Origin": "https://evil.example"}
        )
    assert response.status_code == 403
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["detail"] == "the chat is not enabled for this site"
