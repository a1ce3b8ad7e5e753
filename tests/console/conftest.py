"""The console against the real server: operators' HTTP clients and live sockets, and web chat
customers who ask for a person."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from channels.webchat.identity import signed_identity
from console.live import COOKIE
from tests.conftest import BotFactory, LiveServer, serve
from tests.e2e.test_webchat import Chat, chat
from tests.servers import free_port

TIMEOUT = 10  # generous upper bound; events normally take milliseconds
EMMA = "emma.thompson@example.com"  # owns A-1001 (pending), A-1013 (confirmed), A-1025 (delivered)
JAMES = "james.wilson@example.com"  # owns A-1002 (pending)
ASK_FOR_A_PERSON = "I want to talk to a person"

Frame = dict[str, Any]


def verified(email: str) -> dict[str, Any]:
    """A web chat session body of a customer the shop has logged in."""
    return {"customer": {"email": email},
            **signed_identity("test-identity-secret", email)}


async def until(receive: Callable[[], Awaitable[Frame]], wanted: Callable[[Frame], bool],
                ) -> Frame:
    """The next frame that is `wanted` (frames before it are skipped), within TIMEOUT."""
    async def scan() -> Frame:
        while True:
            frame = await receive()
            if wanted(frame):
                return frame

    return await asyncio.wait_for(scan(), TIMEOUT)


def is_operator_message(frame: Frame) -> bool:
    """A web chat frame with a message from an operator."""
    return frame.get("type") == "message" and frame.get("from") == "operator"


class Live:
    """An operator's console socket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def next(self) -> Frame:
        return json.loads(await asyncio.wait_for(self.socket.recv(), TIMEOUT))

    async def until(self, wanted: Callable[[Frame], bool]) -> Frame:
        return await until(self.next, wanted)

    async def closed_with(self) -> int | None:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(self.socket.recv(), TIMEOUT)
        return closed.value.rcvd.code if closed.value.rcvd else None


@asynccontextmanager
async def live(server: LiveServer, client: httpx.AsyncClient | None) -> AsyncIterator[Live]:
    """The console socket, with the client's login cookie (none: without one)."""
    token = client.cookies.get(COOKIE) if client is not None else None
    headers = {"Cookie": f"{COOKIE}={token}"} if token else {}
    async with websockets.connect(f"{server.ws_url}/console/ws", origin=server.url,
                                  additional_headers=headers) as socket:
        yield Live(socket)


@dataclass
class Customer:
    """A web chat customer who has asked for a person."""

    chat: Chat
    conversation: int  # the conversation's id in the console
    token: str  # the web chat session, to come back to it

    async def hears(self, wanted: Callable[[Frame], bool]) -> Frame:
        return await until(self.chat.next, wanted)

    async def send(self, text: str) -> None:
        await self.chat.socket.send(json.dumps({"type": "message", "text": text}))


@asynccontextmanager
async def escalated(server: LiveServer, email: str | None = EMMA) -> AsyncIterator[Customer]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session = await client.post("/webchat/session", json=verified(email) if email else {})
    token = session.json()["token"]
    async with chat(server, token) as customer:
        answer = await customer.say(ASK_FOR_A_PERSON)
        assert "passing you to a colleague" in answer["text"]
        assert "Expected wait" in (await customer.next())["text"]
        queue = await server.bot.desk.queue("escalated")
        yield Customer(customer, queue[-1].conversation_id, token)


@pytest.fixture
async def console_server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    """The demo bot (with its demo/demo admin) on a real port; operators always at work."""
    bot = await make_bot(http={"port": free_port()}, operators={"business_hours": []})
    server = await serve(bot)
    yield server
    await server.stop()


LogIn = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def log_in(console_server: LiveServer) -> AsyncIterator[LogIn]:
    """Log in as an operator (made first unless it is demo/demo): their browser's client."""
    clients: list[httpx.AsyncClient] = []

    async def open_console(username: str = "demo", password: str | None = None, *,
                           display_name: str | None = None, admin: bool = False,
                           ) -> httpx.AsyncClient:
        if username != "demo":
            password = password or f"{username}-password"
            await console_server.bot.console.accounts.create(
                username, display_name or username.title(), password,
                "admin" if admin else "operator")
        client = httpx.AsyncClient(base_url=console_server.url)
        clients.append(client)
        response = await client.post("/console/api/login", json={
            "username": username, "password": password or "demo"})
        assert response.status_code == 200, response.text
        return client

    yield open_console
    for client in clients:
        await client.aclose()
