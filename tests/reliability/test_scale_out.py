"""Two and four real bot processes behind a round-robin proxy, one PostgreSQL, one Redis.

All of them start at once on an empty database (migrations and the demo seed race). Then,
through the proxy, where every new connection goes to the next process: web chat customers
talk over WebSockets spread over the processes; the shop API creates their orders, whose
"please confirm" message is carried to the process holding each customer's WebSocket; the
reminders fall due and are run once among all the job runners; an operator logs in (the
session is in the database), claims a conversation and writes to the customer; Telegram
customers write through the webhook. In the end every reply in the database reached its
customer exactly once, and every recorded message was answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from channels.webchat.identity import signed_identity
from console.live import COOKIE
from tests.conftest import API_KEY
from tests.doubles.telegram_api import USERS, WEBHOOK_SECRET, TelegramApiDouble, text_update
from tests.proxy import RoundRobinProxy
from tests.reliability.bot_process import BotProcess, execute, query, wait_for_rows
from tests.servers import free_port

TIMEOUT = 20.0  # an upper bound; the job runners look for due jobs every 5 seconds
CUSTOMERS = 6
SETTLED = (
    "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL),"
    " (SELECT count(*) FROM outbox WHERE sent_at IS NULL)"
)
Frame = dict[str, Any]


class Client:
    """A web chat widget: every frame the server sends is kept, in order."""

    def __init__(self, email: str, socket: ClientConnection, chat_id: str) -> None:
        self.email, self.socket, self.chat_id = email, socket, chat_id
        self.frames: list[Frame] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for data in self.socket:
            self.frames.append(json.loads(data))
            self._changed.set()

    @property
    def messages(self) -> list[Frame]:
        return [f for f in self.frames if f.get("type") == "message"]

    async def say(self, text: str) -> None:
        await self.socket.send(json.dumps({"type": "message", "text": text}))

    async def until(self, condition: Callable[[list[Frame]], bool]) -> None:
        try:
            async with asyncio.timeout(TIMEOUT):
                while not condition(self.messages):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            texts = [(m["from"], m["text"][:60]) for m in self.messages]
            raise AssertionError(f"{self.email} did not get it; got {texts}") from None

    async def count(self, start: str, expected: int) -> None:
        await self.until(lambda ms: sum(start in m["text"] for m in ms) >= expected)

    async def close(self) -> None:
        await self.socket.close()
        await asyncio.gather(self._reader, return_exceptions=True)


def one_connection_each(proxy: RoundRobinProxy, **options: Any) -> httpx.AsyncClient:
    """A client that opens a connection per request: the proxy spreads its requests."""
    return httpx.AsyncClient(base_url=proxy.url, limits=httpx.Limits(max_keepalive_connections=0),
                             timeout=TIMEOUT, **options)


def order_body(number: str, email: str) -> dict[str, Any]:
    return {
        "number": number,
        "customer": {"name": "Scale Customer", "email": email, "phone": "+44 20 7946 0000",
                     "language": "en", "preferred_channel": "webchat"},
        "lines": [{"sku": "KB-100", "name": "Mechanical keyboard", "quantity": 1,
                   "unit_price": "89.00"}],
        "currency": "EUR",
        "delivery": {"method": "courier", "address": {"city": "London", "postcode": "SW1A 1AA"}},
        "payment": {"method": "card", "status": "pending"},
    }



async def open_chat(proxy: RoundRobinProxy, http: httpx.AsyncClient, email: str) -> Client:
    session = await http.post("/webchat/session", json={
        "customer": {"email": email}, **signed_identity("test-identity-secret", email)})
    assert session.status_code == 200, session.text
    body = session.json()
    socket = await websockets.connect(f"{proxy.ws_url}/webchat/ws?token={body['token']}",
                                      origin=proxy.url)
    client = Client(email, socket, body["conversation_id"])
    await client.until(lambda _: any(f["type"] == "history" for f in client.frames))
    return client


async def greet(client: Client) -> None:
    await client.say("hello")
    await client.count("Hello", 1)
    await client.say("thanks")
    await client.count("You're welcome", 1)


@pytest.mark.parametrize("processes", [2, 4])
async def test_processes_behind_a_round_robin_proxy_lose_and_repeat_nothing(
    processes: int, postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble,
    tmp_path: Path,
) -> None:
    proxy_port = free_port()
    public_url = f"http://127.0.0.1:{proxy_port}"
    bots = [
        BotProcess.make(
            postgres_url, tmp_path / f"bot-{n}.log",
            http={"public_url": public_url}, redis={"url": redis_url},
            telegram=telegram_api.bot_settings(mode="webhook"),
        )
        for n in range(processes)
    ]
    proxy = RoundRobinProxy([("127.0.0.1", bot.port) for bot in bots])
    await proxy.start(proxy_port)
    async with AsyncExitStack() as cleanup:
        for bot in bots:
            cleanup.push_async_callback(bot.kill)
        cleanup.push_async_callback(proxy.stop)
        # All at once on an empty database: one migrates and seeds, the others wait for it.
        await asyncio.gather(*(bot.start() for bot in bots))
        http = await cleanup.enter_async_context(one_connection_each(proxy))
        shop = await cleanup.enter_async_context(
            one_connection_each(proxy, headers={"Authorization": f"Bearer {API_KEY}"}))

        # Web chat customers, their sockets spread over the processes.
        clients = []
        for n in range(CUSTOMERS):
            client = await open_chat(proxy, http, f"scale{n}@example.com")
            cleanup.push_async_callback(client.close)
            clients.append(client)
        await asyncio.gather(*(greet(client) for client in clients))

        # The shop creates their orders; "please confirm" reaches each socket.
        for n, client in enumerate(clients):
            created = await shop.post("/api/orders", json=order_body(f"S-{n}", client.email))
            assert created.status_code == 201, created.text
        for n, client in enumerate(clients):
            await client.count(f"Thank you for your order S-{n}", 1)

        # The reminders fall due (as if an hour had passed): each is sent once.
        await execute(postgres_url, "UPDATE jobs SET due_at = due_at - interval '1 day'"
                    " WHERE key LIKE '%remind' AND done_at IS NULL")
        for n, client in enumerate(clients):
            await client.count(f"Your order S-{n}", 1)
        await wait_for_rows(postgres_url, "SELECT count(*) FROM jobs WHERE key LIKE '%remind'"
                            " AND done_at IS NULL", [(0,)], TIMEOUT)

        # An operator across processes: login, live console, claim, a message both ways.
        operator = await cleanup.enter_async_context(
            one_connection_each(proxy, headers={"Origin": proxy.url}))
        login = await operator.post("/console/api/login",
                                    json={"username": "demo", "password": "demo"})
        assert login.status_code == 200, login.text
        console = await websockets.connect(
            f"{proxy.ws_url}/console/ws", origin=proxy.url,
            additional_headers={"Cookie": f"{COOKIE}={operator.cookies[COOKIE]}"})
        cleanup.push_async_callback(console.close)
        assert json.loads(await asyncio.wait_for(console.recv(), TIMEOUT))["type"] == "queue"
        helped = clients[0]
        await helped.say("I want to talk to a person")
        await helped.count("Expected wait", 1)
        queue = (await operator.get("/console/api/conversations")).json()["conversations"]
        [conversation] = [c for c in queue if c["customer"]["email"] == helped.email]
        claim = await operator.post(f"/console/api/conversations/{conversation['id']}/claim")
        assert claim.status_code == 200, claim.text
        sent = await operator.post(f"/console/api/conversations/{conversation['id']}/messages",
                                   json={"text": "Hello, this is Demo from the shop."})
        assert sent.status_code < 300, sent.text
        await helped.until(lambda ms: any(m["from"] == "operator" for m in ms))
        await helped.say("thank you, operator")

        async def customer_line_on_console() -> None:
            while True:
                event = json.loads(await console.recv())
                if event["type"] == "message" and event["message"]["text"] == (
                        "thank you, operator"):
                    return

        await asyncio.wait_for(customer_line_on_console(), TIMEOUT)

        # Telegram customers through the webhook, several messages each.
        async def write(user: str) -> None:
            for text in ("hello", "thanks", "bye"):
                update = text_update(telegram_api.next_update_id(), user, text)
                answer = await http.post("/telegram/webhook", json=update,
                                         headers={"X-Telegram-Bot-Api-Secret-Token":
                                                  WEBHOOK_SECRET})
                assert answer.status_code == 200, answer.text

        await asyncio.gather(*(write(user) for user in USERS))
        await wait_for_rows(postgres_url, SETTLED, [(0, 0)], TIMEOUT)

        # Every reply in the database reached its customer once: no loss, no duplicate.
        for client in clients:
            expected = sorted(
                entry_id for (entry_id,) in await query(
                    postgres_url, "SELECT t.id FROM transcript t JOIN conversations c"
                    " ON c.id = t.conversation_id WHERE c.chat_id = :chat"
                    " AND t.sender IN ('bot', 'operator')", chat=client.chat_id))
            await client.until(lambda ms, n=len(expected): len(ms) >= n)
            received = [m["id"] for m in client.messages]
            assert sorted(received) == expected, client.email
        for user in USERS.values():
            expected_texts = [text for (text,) in await query(
                postgres_url, "SELECT t.text FROM transcript t JOIN conversations c"
                " ON c.id = t.conversation_id WHERE c.channel = 'telegram' AND c.chat_id = :chat"
                " AND t.sender = 'bot' ORDER BY t.id", chat=str(user["id"]))]
            assert len(expected_texts) >= 3
            said = await query(
                postgres_url, "SELECT t.text FROM transcript t JOIN conversations c"
                " ON c.id = t.conversation_id WHERE c.channel = 'telegram' AND c.chat_id = :chat"
                " AND t.sender = 'customer' ORDER BY t.id", chat=str(user["id"]))
            assert [text for (text,) in said] == ["hello", "thanks", "bye"]  # arrival order
            assert [m["text"] for m in telegram_api.sent(user["id"])] == expected_texts
        # Every customer message recorded once in the inbox, whichever channel it came by
        # (the web chat's are recorded in the turn that answers them).
        assert await query(
            postgres_url, "SELECT count(*) FROM inbox WHERE channel = 'telegram'"
        ) == [(3 * len(USERS),)]
        assert await query(postgres_url, "SELECT count(*) FROM inbox") == await query(
            postgres_url, "SELECT count(*) FROM transcript WHERE sender = 'customer'")
        assert all(proxy.connections[("127.0.0.1", bot.port)] > 0 for bot in bots)
    for bot in bots:
        assert "Traceback" not in bot.log(), bot.log()
