"""The console's HTTP API over the real server (docs/console.md), with web chat customers on
real WebSockets."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from console.live import COOKIE
from console.tables import OperatorSession
from storage.clock import utcnow
from tests.conftest import BotFactory, LiveServer, serve
from tests.console.conftest import (
    ASK_FOR_A_PERSON,
    EMMA,
    LogIn,
    escalated,
    is_operator_message,
    live,
)
from tests.e2e.test_webchat import chat
from tests.servers import free_port

# Logging in


async def test_login_gives_a_strict_http_only_cookie_and_me_names_the_operator(
    console_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as client:
        response = await client.post("/console/api/login",
                                     json={"username": "demo", "password": "demo"})
        assert response.status_code == 200
        operator = response.json()["operator"]
        assert operator["username"] == "demo" and operator["role"] == "admin"
        assert operator["display_name"] == "Demo Operator"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/console", "Max-Age=43200"):
            assert attribute.lower() in cookie.lower(), attribute
        assert "secure" not in cookie.lower()  # plain http on loopback
        me = await client.get("/console/api/me")
        assert me.json() == {"operator": operator}


async def test_a_wrong_password_is_refused(console_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as client:
        response = await client.post("/console/api/login",
                                     json={"username": "demo", "password": "Demo"})
        assert response.status_code == 401
        assert response.json() == {"detail": "wrong username or password"}
        assert COOKIE not in response.cookies
        unknown = await client.post("/console/api/login",
                                    json={"username": "nobody", "password": "demo"})
        assert unknown.json() == {"detail": "wrong username or password"}


def from_address(server: LiveServer, address: str) -> httpx.AsyncClient:
    """A client connecting from its own address (all of 127.0.0.0/8 is this host). It waits
    as long as the server takes: sixty password checks at once take more than httpx's default
    5 s on a slow machine, and the tests are about the answers, not their speed."""
    return httpx.AsyncClient(base_url=server.url, timeout=60,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


async def log_in_as(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/console/api/login",
                             json={"username": username, "password": password})


async def test_failed_logins_lock_out_the_address_not_the_operator(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Guessing an operator's password locks out the guesser's address for that username;
    the operator logs in from their own address all the same."""
    bot = await make_bot(http={"port": free_port()},
                         operators={"login_failures_per_user_and_address": 3})
    server = await serve(bot)
    try:
        async with from_address(server, "127.0.0.2") as guesser:
            for n in range(3):
                assert (await log_in_as(guesser, "demo", f"guess-{n}")).status_code == 401
            refused = await log_in_as(guesser, "DEMO", "demo")  # even the right password
            assert refused.status_code == 429
            assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
            assert "too many failed logins" in refused.json()["detail"]
        async with from_address(server, "127.0.0.3") as operator:
            assert (await log_in_as(operator, "demo", "demo")).status_code == 200
        async with httpx.AsyncClient() as monitor:
            metrics = (await monitor.get(f"{server.url}/metrics")).text
    finally:
        await server.stop()
    assert 'orderbot_refused_requests_total{reason="login_lockout"} 1.0' in metrics
    [line] = [r.getMessage() for r in caplog.records
              if r.levelno == logging.WARNING and "console login refused" in r.getMessage()]
    assert "demo" not in line.lower() and "guess" not in line and "127.0.0.2" not in line


async def test_guesses_sent_at_once_do_not_slip_past_the_limit(make_bot: BotFactory) -> None:
    """Each attempt is counted before its password is checked, in one step."""
    bot = await make_bot(http={"port": free_port()},
                         operators={"login_failures_per_user_and_address": 3})
    server = await serve(bot)
    try:
        async with from_address(server, "127.0.0.4") as client:
            answers = await asyncio.gather(*(log_in_as(client, "demo", f"guess-{n}")
                                             for n in range(8)))
        assert sorted(a.status_code for a in answers) == [401] * 3 + [429] * 5
    finally:
        await server.stop()


async def test_sixty_guesses_at_once_from_one_address_get_ten_tries(
    make_bot: BotFactory,
) -> None:
    """One address trying one password against many usernames (the default limits)."""
    bot = await make_bot(http={"port": free_port()})
    server = await serve(bot)
    try:
        async with from_address(server, "127.0.0.5") as sprayer:
            answers = await asyncio.gather(*(log_in_as(sprayer, f"user{n}", "Summer2026!")
                                             for n in range(60)))
            assert (await log_in_as(sprayer, "demo", "demo")).status_code == 429
        assert sorted(a.status_code for a in answers) == [401] * 10 + [429] * 50
        async with from_address(server, "127.0.0.6") as operator:
            assert (await log_in_as(operator, "demo", "demo")).status_code == 200
    finally:
        await server.stop()


async def test_a_right_password_forgives_its_address(make_bot: BotFactory) -> None:
    """A team behind one address logs in at the start of a shift, typos and all."""
    bot = await make_bot(http={"port": free_port()},
                         operators={"login_failures_per_address": 3})
    server = await serve(bot)
    try:
        async with from_address(server, "127.0.0.7") as office:
            for _ in range(3):
                assert (await log_in_as(office, "demo", "typo")).status_code == 401
                assert (await log_in_as(office, "demo", "demo")).status_code == 200
            for name in ("anna", "boris", "carl"):
                assert (await log_in_as(office, name, "guess")).status_code == 401
            assert (await log_in_as(office, "demo", "demo")).status_code == 429
    finally:
        await server.stop()


async def test_an_expired_login_is_refused(console_server: LiveServer, log_in: LogIn) -> None:
    client = await log_in()
    assert (await client.get("/console/api/me")).status_code == 200
    async with console_server.bot.database.transaction() as session:
        await session.execute(update(OperatorSession).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    response = await client.get("/console/api/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "log in first"}


async def test_logout_ends_the_login(console_server: LiveServer, log_in: LogIn) -> None:
    client = await log_in()
    token = client.cookies[COOKIE]
    response = await client.post("/console/api/logout")
    assert response.status_code == 204
    assert f'{COOKIE}=""' in response.headers["set-cookie"] or \
        "max-age=0" in response.headers["set-cookie"].lower()
    async with httpx.AsyncClient(base_url=console_server.url,
                                 cookies={COOKIE: token}) as stolen:
        assert (await stolen.get("/console/api/me")).status_code == 401


# Who may call what

ENDPOINTS = [
    ("POST", "/console/api/logout", None),
    ("GET", "/console/api/me", None),
    ("GET", "/console/api/conversations?state=all", None),
    ("GET", "/console/api/conversations/1", None),
    ("POST", "/console/api/conversations/1/claim", None),
    ("POST", "/console/api/conversations/1/messages", {"text": "hi"}),
    ("POST", "/console/api/conversations/1/release", None),
    ("POST", "/console/api/conversations/1/resolve", None),
    ("POST", "/console/api/conversations/1/notes", {"text": "hi"}),
    ("POST", "/console/api/conversations/1/actions", {"action": "cancel", "order": "A-1001"}),
    ("GET", "/console/api/conversations/1/export", None),
    ("GET", "/console/api/orders/A-1001/slots", None),
    ("GET", "/console/api/canned?language=en", None),
    ("POST", "/console/api/canned", {"language": "en", "title": "t", "text": "x"}),
    ("DELETE", "/console/api/canned/1", None),
    ("GET", "/console/api/operators", None),
    ("POST", "/console/api/operators",
     {"username": "x", "display_name": "X", "password": "x", "role": "admin"}),
    ("PATCH", "/console/api/operators/1", {"role": "admin"}),
]
ADMIN_ONLY = [e for e in ENDPOINTS if "/operators" in e[1] or
              (e[1].startswith("/console/api/canned") and e[0] != "GET")]


async def test_every_endpoint_needs_a_login(console_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as client:
        for method, path, body in ENDPOINTS:
            response = await client.request(method, path, json=body)
            assert response.status_code == 401, (method, path)
            assert response.json() == {"detail": "log in first"}, (method, path)
    async with httpx.AsyncClient(base_url=console_server.url,
                                 cookies={COOKIE: "forged"}) as forged:
        assert (await forged.get("/console/api/me")).status_code == 401


async def test_a_page_of_another_site_cannot_act_for_the_operator(
    console_server: LiveServer, log_in: LogIn
) -> None:
    admin = await log_in()
    async with escalated(console_server) as emma:
        path = f"/console/api/conversations/{emma.conversation}/claim"
        forged = await admin.post(path, headers={"Origin": "http://127.0.0.1:1"})
        assert forged.status_code == 403
        assert forged.json() == {"detail": "requests from other sites are refused"}
        assert (await admin.get("/console/api/conversations")).json()["conversations"][0][
            "status"] == "escalated"
        own = await admin.post(path, headers={"Origin": console_server.url})
        assert own.status_code == 200


async def test_admin_endpoints_refuse_an_operator(log_in: LogIn) -> None:
    anna = await log_in("anna")
    for method, path, body in ADMIN_ONLY:
        response = await anna.request(method, path, json=body)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"detail": "only an admin may do that"}
    assert (await anna.get("/console/api/canned?language=en")).status_code == 200


# Conversations


def from_bot(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "message" and frame.get("from") == "bot"


async def test_two_operators_claim_at_once_and_exactly_one_wins(
    make_bot: BotFactory, database_url: str
) -> None:
    bot = await make_bot(database_url, http={"port": free_port()},
                         operators={"business_hours": []})
    server = await serve(bot)
    clients = []
    try:
        for name, display in (("anna", "Anna K."), ("boris", "Boris B.")):
            await bot.console.accounts.create(name, display, f"{name}-password")
            client = httpx.AsyncClient(base_url=server.url)
            clients.append(client)
            login = await client.post("/console/api/login",
                                      json={"username": name, "password": f"{name}-password"})
            assert login.status_code == 200
        async with escalated(server) as emma:
            anna, boris = await asyncio.gather(*(
                client.post(f"/console/api/conversations/{emma.conversation}/claim")
                for client in clients))
            assert sorted([anna.status_code, boris.status_code]) == [200, 409]
            won, lost = (anna, boris) if anna.status_code == 200 else (boris, anna)
            winner = won.json()["conversation"]["operator"]["name"]
            assert lost.json() == {"detail": f"already taken by {winner}"}
            claimed = await clients[0].get("/console/api/conversations?state=claimed")
            assert [c["operator"]["name"] for c in claimed.json()["conversations"]] == [winner]
    finally:
        for client in clients:
            await client.aclose()
        await server.stop()


async def test_operator_and_customer_talk_live(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    async with escalated(console_server) as emma, live(console_server, anna) as console:
        queue = await console.next()
        assert queue["type"] == "queue"
        assert [c["id"] for c in queue["conversations"]] == [emma.conversation]
        assert queue["conversations"][0]["customer"]["email"] == EMMA
        assert queue["conversations"][0]["reason"] == "customer_asked"
        claimed = await anna.post(f"/console/api/conversations/{emma.conversation}/claim")
        assert claimed.status_code == 200
        event = await console.until(lambda f: f["type"] == "conversation")
        assert event["conversation"]["status"] == "claimed"
        assert event["conversation"]["operator"]["name"] == "Anna K."

        sent = await anna.post(f"/console/api/conversations/{emma.conversation}/messages",
                               json={"text": "Hello Emma, Anna here. How can I help?"})
        assert sent.status_code == 201
        assert sent.json()["message"]["from"] == "operator"
        heard = await emma.hears(is_operator_message)
        assert heard["text"] == "Hello Emma, Anna here. How can I help?"
        assert heard["author"] == "Anna K."
        shown = await console.until(
            lambda f: f["type"] == "message" and f["message"]["from"] == "operator")
        assert shown["message"]["text"] == "Hello Emma, Anna here. How can I help?"
        assert shown["message"]["author"] == "Anna K."

        await emma.send("Where is my parcel?")
        reply = await console.until(
            lambda f: f["type"] == "message" and f["message"]["text"] == "Where is my parcel?")
        assert reply["conversation_id"] == emma.conversation
        assert reply["message"]["from"] == "customer"


async def test_writing_needs_the_conversation_claimed_and_some_text(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna, boris = await log_in("anna"), await log_in("boris", display_name="Boris B.")
    async with escalated(console_server) as emma:
        path = f"/console/api/conversations/{emma.conversation}"
        unclaimed = await anna.post(f"{path}/messages", json={"text": "hi"})
        assert unclaimed.status_code == 409
        assert unclaimed.json() == {"detail": "claim the conversation first"}
        await boris.post(f"{path}/claim")
        taken = await anna.post(f"{path}/messages", json={"text": "hi"})
        assert taken.status_code == 409
        assert taken.json() == {"detail": "held by Boris B., not by you"}
        for bad in ({"text": "   "}, {"text": "x" * 4001}, {}):
            refused = await boris.post(f"{path}/messages", json=bad)
            assert refused.status_code == 422
            assert refused.json()["detail"].startswith("text: ")
        assert (await anna.post(f"{path}/release")).status_code == 409
        missing = await anna.post("/console/api/conversations/999999/claim")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "no conversation 999999"}


async def test_release_gives_the_customer_back_to_the_bot(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    async with escalated(console_server) as emma:
        path = f"/console/api/conversations/{emma.conversation}"
        await anna.post(f"{path}/claim")
        await emma.send("hello")
        # While Anna holds it the bot is silent: her message is the next the customer gets.
        await anna.post(f"{path}/messages", json={"text": "One moment please."})
        following = await emma.chat.next()
        assert following["from"] == "operator" and following["text"] == "One moment please."
        released = await anna.post(f"{path}/release")
        assert released.status_code == 200
        assert released.json()["conversation"]["status"] == "bot"
        goodbye = await emma.hears(from_bot)
        assert "Anna K." in goodbye["text"]
        assert goodbye["operator"] == {"event": "left", "name": "Anna K."}
        answer = await emma.chat.say("hello")
        assert answer["from"] == "bot" and "Hello" in answer["text"]


async def test_resolve_closes_the_matter_on_every_console(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna, admin = await log_in("anna", display_name="Anna K."), await log_in()
    async with escalated(console_server) as emma, live(console_server, admin) as watching:
        await watching.next()  # the queue
        path = f"/console/api/conversations/{emma.conversation}"
        await anna.post(f"{path}/claim")
        resolved = await anna.post(f"{path}/resolve")
        assert resolved.status_code == 200
        event = await watching.until(
            lambda f: f["type"] == "conversation" and f["conversation"]["status"] == "bot")
        assert event["conversation"]["id"] == emma.conversation
        told = await emma.hears(lambda f: from_bot(f) and "Anna K." in f["text"])
        # nothing left to resume: the stars of the one-tap rating instead
        assert [b["payload"] for b in told["buttons"]] == [f"rating:{n}" for n in range(1, 6)]
        queue = await anna.get("/console/api/conversations")
        assert queue.json() == {"conversations": []}
        again = await anna.post(f"{path}/resolve")
        assert again.status_code == 409


async def test_an_admin_may_release_a_conversation_someone_else_holds(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna, admin = await log_in("anna"), await log_in()
    async with escalated(console_server) as emma:
        path = f"/console/api/conversations/{emma.conversation}"
        await anna.post(f"{path}/claim")
        released = await admin.post(f"{path}/release")
        assert released.status_code == 200
        assert released.json()["conversation"]["status"] == "bot"


async def test_notes_stay_with_the_operators(console_server: LiveServer, log_in: LogIn) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    async with escalated(console_server) as emma:
        path = f"/console/api/conversations/{emma.conversation}"
        added = await anna.post(f"{path}/notes", json={"text": "Asked twice about A-1001."})
        assert added.status_code == 201
        assert added.json()["note"]["author"] == "Anna K."
        detail = await anna.get(path)
        assert [n["text"] for n in detail.json()["notes"]] == ["Asked twice about A-1001."]
    async with chat(console_server, emma.token) as again:  # the customer comes back
        assert [m["text"] for m in again.history][:1] == [ASK_FOR_A_PERSON]
        assert all("Asked twice" not in m["text"] for m in again.history)


async def test_the_detail_shows_the_customer_their_orders_and_everything_said(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma:
        detail = (await anna.get(f"/console/api/conversations/{emma.conversation}")).json()
    assert detail["conversation"]["status"] == "escalated"
    assert detail["customer"] == {"id": detail["customer"]["id"], "name": "Emma Thompson",
                                  "email": EMMA, "phone": None, "language": "en"}
    orders = {order["number"]: order for order in detail["orders"]}
    assert {"A-1001", "A-1013", "A-1025"} <= set(orders)
    pending = orders["A-1001"]
    assert pending["status"] == "pending_confirmation" and pending["currency"] == "EUR"
    assert pending["lines"][0].keys() == {"sku", "name", "quantity", "unit_price"}
    assert pending["total"] == sum(line["quantity"] * line["unit_price"]
                                   for line in pending["lines"])
    delivered = orders["A-1025"]
    assert [h["status"] for h in delivered["history"]] == [
        "pending_confirmation", "confirmed", "shipped", "delivered"]
    assert delivered["tracking_url"].startswith("https://")
    said = [(m["from"], m["text"]) for m in detail["transcript"]]
    assert said[0] == ("customer", ASK_FOR_A_PERSON)
    assert said[1][0] == "bot" and "passing you to a colleague" in said[1][1]
    assert detail["notes"] == []


async def test_html_is_text_everywhere(console_server: LiveServer, log_in: LogIn) -> None:
    markup = "<b>Hi</b> & <script>alert('x')</script>"
    anna = await log_in("anna")
    async with escalated(console_server) as emma, live(console_server, anna) as console:
        path = f"/console/api/conversations/{emma.conversation}"
        await anna.post(f"{path}/claim")
        sent = await anna.post(f"{path}/messages", json={"text": markup})
        assert sent.headers["content-type"] == "application/json"
        assert sent.json()["message"]["text"] == markup
        assert (await emma.hears(is_operator_message))["text"] == markup
        await emma.send("<img src=x onerror=alert(1)>")
        shown = await console.until(lambda f: f["type"] == "message"
                                    and f["message"]["from"] == "customer")
        assert shown["message"]["text"] == "<img src=x onerror=alert(1)>"
        detail = (await anna.get(path)).json()
        assert [m["text"] for m in detail["transcript"]][-2:] == [
            markup, "<img src=x onerror=alert(1)>"]
        export = await anna.get(f"{path}/export")
        assert markup in export.text


async def test_the_export_is_a_plain_text_file_of_the_whole_transcript(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    async with escalated(console_server) as emma:
        path = f"/console/api/conversations/{emma.conversation}"
        await anna.post(f"{path}/claim")
        await anna.post(f"{path}/messages", json={"text": "Hello, Anna here."})
        await emma.hears(is_operator_message)
        export = await anna.get(f"{path}/export")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/plain; charset=utf-8"
    assert export.headers["content-disposition"] == (
        f'attachment; filename="conversation-{emma.conversation}.txt"')
    lines = export.text.splitlines()
    assert re.fullmatch(
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d UTC\] webchat customer: I want to talk to a person",
        lines[0])
    assert "] webchat bot: I'm passing you to a colleague." in lines[1]
    assert lines[-1].endswith("] webchat operator (Anna K.): Hello, Anna here.")


async def test_the_page_and_its_files_are_served(console_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as browser:
        page = await browser.get("/console")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/console/static/console/main.js">' in page.text
        script = await browser.get("/console/static/console/main.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        outside = await browser.get("/console/static/%2e%2e/api.py")
        assert outside.status_code == 404
        assert "make_router" not in outside.text
