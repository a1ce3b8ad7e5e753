"""deploy/nginx.conf cuts what would hold a bot process: a request whose head or body stops
arriving (slowloris) is closed by nginx and never reaches the bot; a body over nginx's limit
is refused by nginx, one between the bot's limit and nginx's by the bot (its reason); and
password guesses at the console login are rate-limited per address before the bot.

nginx runs the example file with the changes docs/deploy.md lists (tests/reliability/
test_deploy.py's), and shorter client timeouts, so that the test waits 1 s and not 10.
"""

from __future__ import annotations

import asyncio
import io
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import BotFactory, LiveServer, serve
from tests.reliability.test_deploy import (
    DEPLOY,
    NGINX,
    Nginx,
    nginx_main,
    nginx_site,
    render,
    self_signed_certificate,
)
from tests.servers import free_port

TIMEOUT = 20.0  # only a hang fails
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


class Proxy:
    def __init__(self, url: str, port: int, trust: ssl.SSLContext, bot: LiveServer) -> None:
        self.url, self.port, self.trust, self.bot = url, port, trust, bot

    def client(self, address: str | None = None) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(verify=self.trust, local_address=address)
        return httpx.AsyncClient(base_url=self.url, transport=transport, timeout=TIMEOUT)

    async def half_sent(self, head: bytes) -> bytes:
        """Send part of a request, then wait: what nginx answers before it closes."""
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.port, ssl=self.trust, server_hostname="127.0.0.1")
        try:
            writer.write(head)
            await writer.drain()
            answer = b""
            async with asyncio.timeout(TIMEOUT):
                while chunk := await reader.read(65536):  # until nginx closes
                    answer += chunk
            return answer
        finally:
            writer.close()


@pytest.fixture
async def proxy(make_bot: BotFactory, tmp_path: Path) -> AsyncIterator[Proxy]:
    http_port, https_port = free_port(), free_port()
    bot = await make_bot(http={"port": free_port(),
                               "public_url": f"https://127.0.0.1:{https_port}"})
    server = await serve(bot)
    certificate, key = self_signed_certificate(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    site = tmp_path / "orderbot.conf"
    port = int(server.url.rsplit(":", 1)[1])
    example = nginx_site(http_port, https_port, [port, free_port()], certificate, key, logs)
    site.write_text(render(example, {"client_header_timeout 10s;": "client_header_timeout 1s;",
                                     "client_body_timeout 10s;": "client_body_timeout 1s;"}))
    main = tmp_path / "nginx.conf"
    main.write_text(nginx_main(tmp_path, site))
    nginx = Nginx(tmp_path, main, [http_port, https_port])
    await nginx.start()
    trust = ssl.create_default_context(cafile=str(certificate))
    try:
        yield Proxy(f"https://127.0.0.1:{https_port}", https_port, trust, server)
    finally:
        await nginx.stop()
        await server.stop()


async def test_a_request_whose_head_stops_arriving_is_closed_by_nginx(proxy: Proxy) -> None:
    answer = await proxy.half_sent(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert b"200 OK" not in answer  # closed (408 or nothing), never passed to the bot


async def test_a_body_that_stops_arriving_is_closed_by_nginx(proxy: Proxy) -> None:
    answer = await proxy.half_sent(
        b"POST /webchat/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
        b"\r\nContent-Length: 1000\r\n\r\n{\"language\":")
    assert b"200 OK" not in answer  # closed (408 or nothing), the bot never saw it


async def test_oversized_bodies_get_413_from_nginx_or_from_the_bot(proxy: Proxy) -> None:
    async with proxy.client() as client:
        over_nginx = await client.post("/webchat/session", content=b" " * (3 * 1024 * 1024),
                                       headers={"Content-Type": "application/json"})
        assert over_nginx.status_code == 413 and "nginx" in over_nginx.text
        over_bot = await client.post("/webchat/session", content=b" " * (1536 * 1024),
                                     headers={"Content-Type": "application/json"})
        assert over_bot.status_code == 413
        assert over_bot.json() == {"detail": "the body is larger than 1048576 bytes"}


async def test_a_photo_of_several_megabytes_passes_nginx_to_the_bot(proxy: Proxy) -> None:
    """The upload path has its own limit ([attachments] max_bytes, 10 MB): a 6 MB photo
    reaches the bot, a file over 11 MB is cut by nginx."""
    noise = Image.frombytes("RGB", (1500, 1400), os.urandom(1500 * 1400 * 3))
    photo = io.BytesIO()
    noise.save(photo, format="PNG")
    assert photo.tell() > 5 * 1024 * 1024
    async with proxy.client() as client:
        session = await client.post("/webchat/session", json={"language": "en"})
        token = session.json()["token"]
        kept = await client.post("/webchat/attachments", headers={"X-Chat-Token": token},
                                 files={"file": ("parcel.png", photo.getvalue(), "image/png")})
        huge = await client.post("/webchat/attachments", headers={"X-Chat-Token": token},
                                 files={"file": ("big.png", b"\0" * (12 * 1024 * 1024))})
    assert kept.status_code == 201, kept.text
    assert kept.json()["attachment"]["type"] == "image/png"
    assert huge.status_code == 413 and "nginx" in huge.text


async def test_console_logins_are_rate_limited_per_address_by_nginx(proxy: Proxy) -> None:
    """Right passwords, so that the bot's own throttle never refuses: the 429s are nginx's."""
    async with proxy.client("127.0.0.9") as client:
        answers = [await client.post("/console/api/login",
                                     json={"username": "demo", "password": "demo"},
                                     headers={"Origin": proxy.url})
                   for _ in range(16)]
    statuses = [a.status_code for a in answers]
    assert statuses[:11] == [200] * 11  # one, and a burst of ten
    limited = [a for a in answers if a.status_code == 429]
    assert limited and all("nginx" in a.text for a in limited)
    async with proxy.client("127.0.0.10") as other:  # another address is not held back
        assert (await other.post("/console/api/login",
                                 json={"username": "demo", "password": "demo"},
                                 headers={"Origin": proxy.url})).status_code == 200


def test_the_example_sets_every_slow_client_timeout() -> None:
    example = (DEPLOY / "nginx.conf").read_text()
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout",
                      "client_max_body_size", "limit_conn orderbot_connections",
                      "limit_req zone=orderbot_logins", "limit_req zone=orderbot_sessions",
                      "proxy_read_timeout 1h"):
        assert directive in example, directive
