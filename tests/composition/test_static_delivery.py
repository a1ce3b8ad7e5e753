"""Static files as a browser fetches them from the running app: compressed when it says it
accepts gzip, and on a repeat load an empty 304 while its copy is current (ETag)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.conftest import BotFactory, LiveServer, free_port, serve

ROOT = Path(__file__).resolve().parents[2]
# path, the file it serves, how long a browser may keep it unasked
FILES = [
    ("/webchat/widget.js", ROOT / "channels/webchat/static/widget.js", "public, max-age=300"),
    ("/console/static/console/main.js", ROOT / "console/static/console/main.js", "no-cache"),
    ("/console/static/console.css", ROOT / "console/static/console.css", "no-cache"),
    ("/console/static/dashboard.js", ROOT / "console/static/dashboard.js", "no-cache"),
    ("/console", ROOT / "console/static/console.html", "no-cache"),
    ("/console/dashboard", ROOT / "console/static/dashboard.html", "no-cache"),
]


@pytest.fixture
async def server(make_bot: BotFactory) -> LiveServer:
    bot = await make_bot(http={"port": free_port()})
    live = await serve(bot)
    yield live  # type: ignore[misc]
    await live.stop()


@pytest.mark.parametrize(("path", "file", "cache"), FILES, ids=[f[0] for f in FILES])
async def test_a_static_file_is_gzipped_and_revalidated_by_its_etag(
    server: LiveServer, path: str, file: Path, cache: str
) -> None:
    source = await asyncio.to_thread(file.read_bytes)
    async with httpx.AsyncClient(base_url=server.url) as browser:
        full = await browser.get(path, headers={"Accept-Encoding": "gzip"})
        assert full.status_code == 200
        assert full.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in full.headers["vary"].lower()
        assert full.content == source  # the same file, decompressed
        assert full.num_bytes_downloaded < len(source) / 2
        assert full.headers["cache-control"] == cache
        etag = full.headers["etag"]

        again = await browser.get(path, headers={"Accept-Encoding": "gzip",
                                                 "If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == cache

        changed = await browser.get(path, headers={"If-None-Match": '"an-older-copy"'})
        assert changed.status_code == 200 and changed.content == source

        plain = await browser.get(path, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers  # a client that cannot unzip
        assert plain.content == source


async def test_small_answers_and_api_errors_are_sent_as_they_are(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        health = await client.get("/health", headers={"Accept-Encoding": "gzip"})
        assert health.status_code == 200 and "content-encoding" not in health.headers
        refused = await client.get("/console/api/me", headers={"If-None-Match": "*"})
        assert refused.status_code == 401  # only a 200 with an ETag becomes a 304
