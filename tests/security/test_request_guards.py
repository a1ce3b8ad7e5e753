"""Guards of the HTTP app against abuse, over the real server: bodies over the limit are
refused before they are read (declared) or as they pass it (streamed), a 422 does not echo
a huge input back, the console accepts changes only from its own origin (scheme included),
and the console, dashboard and demo pages carry their security headers. Each refusal leaves
one WARNING line and a count in /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from composition.bootstrap import Orderbot
from tests.conftest import API_KEY, BotFactory, LiveServer, serve
from tests.servers import free_port

LIMIT = 64 * 1024
TIMEOUT = 20.0  # only a hang fails


@pytest.fixture
async def server(make_bot: BotFactory) -> AsyncIterator[LiveServer]:
    bot = await make_bot(http={"port": free_port(), "max_body_bytes": LIMIT})
    live = await serve(bot)
    yield live
    await live.stop()


def refused(bot: Orderbot, reason: str) -> float:
    return bot.metrics.registry.get_sample_value(
        "orderbot_refused_requests_total", {"reason": reason}) or 0


async def raw_exchange(server: LiveServer, head: str, body: bytes = b"") -> bytes:
    """Send a request's head (and some body) on a plain socket; the whole answer."""
    port = int(server.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(TIMEOUT):
            return await reader.read(65536)
    finally:
        writer.close()


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    """60 MB announced, none of it sent: the answer comes at once, the body never read."""
    answer = await raw_exchange(server, (
        "POST /webchat/session HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
        f"Content-Length: {60 * 1024 * 1024}\n"))
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 413 ")
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1]) == {
        "detail": f"the body is larger than {LIMIT} bytes"}
    assert refused(server.bot, "body_too_large") == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"request body refused (413): declared {60 * 1024 * 1024} bytes to "
                        "POST /webchat/session"]


async def test_a_streamed_body_is_cut_where_it_passes_the_limit(server: LiveServer) -> None:
    """Chunked, no length announced: read up to the limit, then 413 (and nothing parsed)."""
    chunk = b"x" * 4096
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // 4096 + 1))
    for path in ("/console/api/login", "/api/orders", "/webchat/session"):
        answer = await raw_exchange(server, (
            f"POST {path} HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
            f"Authorization: Bearer {API_KEY}\nTransfer-Encoding: chunked\n"), body)
        assert answer.startswith(b"HTTP/1.1 413 "), (path, answer[:200])
    assert refused(server.bot, "body_too_large") == 3


async def test_a_body_under_the_limit_is_served(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        login = await client.post("/console/api/login",
                                  json={"username": "demo", "password": "demo"})
    assert login.status_code == 200
    assert refused(server.bot, "body_too_large") == 0


async def test_a_422_does_not_echo_a_huge_input_back(server: LiveServer) -> None:
    huge = "x" * (LIMIT - 100)
    async with httpx.AsyncClient(base_url=server.url,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        for path, body in (("/webchat/session", {"language": huge}),
                           ("/webchat/session", {huge: 1}),
                           ("/api/orders", {"number": huge})):
            answer = await client.post(path, json=body)
            assert answer.status_code == 422, answer.text[:200]
            assert len(answer.content) < 3000, (path, len(answer.content))
            details = answer.json()["detail"]
            assert any(str(d.get("input", "")).startswith("x" * 200) for d in details) or any(
                str(part).startswith("x" * 200) for d in details for part in d["loc"]), details


async def test_the_console_accepts_changes_only_from_its_own_origin_scheme_included(
    make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """public_url is https: a page on http:// of the same host is another origin (a
    network attacker can serve one), and may not log in or act."""
    bot = await make_bot(http={"port": free_port(), "public_url": "https://bot.shop.example"},
                         demo={"enabled": False})
    await bot.console.accounts.create("anna", "Anna K.", "a long operator password")
    server = await serve(bot)
    credentials = {"username": "anna", "password": "a long operator password"}
    try:  # as behind the proxy: the Host the browser asked for
        async with httpx.AsyncClient(base_url=server.url,
                                     headers={"Host": "bot.shop.example"}) as client:
            for origin in ("http://bot.shop.example", "https://bot.shop.example:8443",
                           "https://evil.example", "null"):
                answer = await client.post("/console/api/login", json=credentials,
                                           headers={"Origin": origin})
                assert answer.status_code == 403, origin
            own = await client.post("/console/api/login", json=credentials,
                                    headers={"Origin": "https://bot.shop.example"})
            assert own.status_code == 200
    finally:
        await server.stop()
    assert refused(bot, "cross_origin") == 4
    assert "console request refused: origin 'http://bot.shop.example' is not the console's" in [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_on_this_machine_the_console_origin_is_http_at_its_port(
    server: LiveServer,
) -> None:
    port = server.url.rsplit(":", 1)[1]
    async with httpx.AsyncClient(base_url=server.url) as client:
        for origin, status in ((f"https://127.0.0.1:{port}", 403), ("http://127.0.0.1:1", 403),
                               (f"http://localhost:{port}", 200), (server.url, 200)):
            answer = await client.post("/console/api/login",
                                       json={"username": "demo", "password": "demo"},
                                       headers={"Origin": origin})
            assert answer.status_code == status, origin


async def test_pages_carry_their_security_headers(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in ("/console", "/console/dashboard", "/console/api/me"):
            answer = await client.get(path)
            policy = answer.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "script-src 'self';" in policy and "unsafe-inline" not in policy
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "same-origin"
        for path in ("/", "/webchat/chat"):  # inline scripts allowed by their hash only
            policy = (await client.get(path)).headers["content-security-policy"]
            assert "script-src 'self' 'sha256-" in policy and "frame-ancestors 'none'" in policy
        widget = await client.get("/webchat/widget.js")  # runs on the shop's pages
        assert "content-security-policy" not in widget.headers
        assert widget.headers["x-content-type-options"] == "nosniff"
