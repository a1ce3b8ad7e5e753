"""The HTTP server and event loop the bot runs on; the benchmark's baselines run on the same
(they import this module, not bot.py, so that they start without the bot's libraries)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import uvicorn
import uvloop

MAX_WEBSOCKET_FRAME = 64 * 1024
MAX_INCOMPLETE_HEAD = 16 * 1024
# Allocations between the collector's young passes (CPython's default: 700). A turn leaves
# ~80 objects in reference cycles (an SQLAlchemy session and connection with their event
# dispatch); at 700 the passes run mid-turn, promote the turn's live objects, and they die
# in full passes over every connection's objects (~50-150 ms each, a p99 spike). At 10,000
# more of a turn's garbage dies young: ~30 % less collector CPU (docs/performance.md).
YOUNG_COLLECTION_EVERY = 10_000


def http_server(
    app: Any, host: str, port: int, *, keep_alive_seconds: int = 5, max_connections: int = 0
) -> uvicorn.Server:
    """`keep_alive_seconds` and `max_connections` are [http]'s settings of the same names."""
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            # An idle connection between requests is closed after this. uvicorn has no timeout
            # for a request that arrives slowly (its header or body): that is the reverse
            # proxy's to cut (deploy/nginx.conf client_header_timeout, client_body_timeout).
            timeout_keep_alive=keep_alive_seconds,
            # At most this many connections and requests at once, then 503 (0: no limit).
            limit_concurrency=max_connections or None,
            # The most a request's head may take before it is complete (uvicorn's own default,
            # written down): a longer one is refused, not buffered.
            h11_max_incomplete_event_size=MAX_INCOMPLETE_HEAD,
            ws_max_size=MAX_WEBSOCKET_FRAME,
            # The websockets library's sans-I/O protocol (what "auto" picks today, pinned so
            # that an upgrade cannot switch it): the echo costs ~25 % less CPU per round
            # trip than on the library's asyncio protocol ("websockets"); wsproto is not
            # installed (docs/performance.md, "The web chat around the turn").
            ws="websockets-sansio",
            # Chat frames are short: compressing them saves little and costs each connection
            # ~45 KB of zlib state (and CPU per frame); see docs/performance.md.
            ws_per_message_deflate=False,
            lifespan="off",
            log_level="warning",
            server_header=False,
        )
    )


def settle_heap() -> None:
    """Once start-up is done: what it built lives as long as the process, so the collector
    stops walking it (gc.freeze), and collects young garbage less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)


def event_loop() -> asyncio.Runner:
    """uvloop (what uvicorn itself would pick): its I/O and scheduling cost less per message."""
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)
