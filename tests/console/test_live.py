"""WS /console/ws over the real server: who may listen, the queue first, then live events -
also from a customer whose WebSocket is on another bot process."""

from __future__ import annotations

import httpx
import websockets

from orders.demo import seed
from tests.conftest import BotFactory, LiveServer, serve
from tests.console.conftest import EMMA, JAMES, LogIn, escalated, live
from tests.servers import free_port


async def test_without_a_login_the_socket_is_closed_with_4401(
    console_server: LiveServer,
) -> None:
    async with live(console_server, None) as anonymous:
        assert await anonymous.closed_with() == 4401
    async with httpx.AsyncClient(base_url=console_server.url,
                                 cookies={"orderbot_console": "forged"}) as forged, \
            live(console_server, forged) as socket:
        assert await socket.closed_with() == 4401


async def test_a_page_of_another_site_cannot_listen(
    console_server: LiveServer, log_in: LogIn
) -> None:
    admin = await log_in()
    token = admin.cookies["orderbot_console"]
    async with websockets.connect(
        f"{console_server.ws_url}/console/ws", origin="https://evil.example",
        additional_headers={"Cookie": f"orderbot_console={token}"},
    ) as socket:
        try:
            await socket.recv()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403
        else:
            raise AssertionError("a foreign page got console events")


async def test_the_queue_comes_first_then_new_escalations_and_their_messages(
    console_server: LiveServer, log_in: LogIn
) -> None:
    admin = await log_in()
    async with escalated(console_server, EMMA) as emma:
        await admin.post(f"/console/api/conversations/{emma.conversation}/claim")
        async with live(console_server, admin) as console:
            queue = await console.next()
            assert queue["type"] == "queue"
            assert [(c["id"], c["status"]) for c in queue["conversations"]] == [
                (emma.conversation, "claimed")]
            assert queue["conversations"][0]["last_message"]["from"] == "bot"
            async with escalated(console_server, JAMES) as james:
                event = await console.until(lambda f: f["type"] == "conversation")
                assert event["conversation"]["id"] == james.conversation
                assert event["conversation"]["status"] == "escalated"
                assert event["conversation"]["customer"]["email"] == JAMES
                # while he waits the bot still answers, and the operators see both sides
                first = await console.until(lambda f: f["type"] == "message")
                assert first["message"]["text"] == "I want to talk to a person"
                await james.send("where is my order A-1002?")
                asked = await console.until(
                    lambda f: f["type"] == "message" and f["message"]["from"] == "customer")
                assert asked["conversation_id"] == james.conversation
                assert asked["message"]["text"] == "where is my order A-1002?"
                answered = await console.until(lambda f: f["type"] == "message")
                assert answered["message"]["from"] == "bot"
                assert "A-1002" in answered["message"]["text"]


async def test_logging_out_closes_the_console_socket(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with live(console_server, anna) as console:
        assert (await console.next())["type"] == "queue"
        assert (await anna.post("/console/api/logout")).status_code == 204
        assert await console.closed_with() == 4401


async def test_an_operator_on_one_process_talks_to_a_customer_on_another(
    make_bot: BotFactory, postgres_url: str, redis_url: str
) -> None:
    """The customer's WebSocket is on bot A, the operator's console on bot B."""
    settings = {"redis": {"url": redis_url}, "demo": {"enabled": False},
                "operators": {"business_hours": []}}
    bot_a = await make_bot(postgres_url, http={"port": free_port()}, **settings)
    bot_b = await make_bot(postgres_url, http={"port": free_port()}, **settings)
    async with bot_a.database.transaction() as session:
        await seed(session, bot_a.orders)
    await bot_b.console.accounts.create("anna", "Anna K.", "anna-password")
    server_a, server_b = await serve(bot_a), await serve(bot_b)
    try:
        async with httpx.AsyncClient(base_url=server_b.url) as anna:
            login = await anna.post("/console/api/login",
                                    json={"username": "anna", "password": "anna-password"})
            assert login.status_code == 200
            async with live(server_b, anna) as console:
                assert (await console.next())["type"] == "queue"
                async with escalated(server_a, EMMA) as emma:
                    event = await console.until(lambda f: f["type"] == "conversation")
                    assert event["conversation"]["id"] == emma.conversation
                    path = f"/console/api/conversations/{emma.conversation}"
                    assert (await anna.post(f"{path}/claim")).status_code == 200
                    await emma.send("Is anyone there?")
                    heard = await console.until(
                        lambda f: f["type"] == "message"
                        and f["message"]["text"] == "Is anyone there?")
                    assert heard["conversation_id"] == emma.conversation
                    assert heard["message"]["from"] == "customer"
                    await anna.post(f"{path}/messages", json={"text": "Yes, Anna here."})
                    answer = await emma.hears(lambda f: f.get("from") == "operator")
                    assert answer["text"] == "Yes, Anna here." and answer["author"] == "Anna K."
    finally:
        await server_a.stop()
        await server_b.stop()
