"""The HTTP server and event loop the bot runs on; the benchmark's baselines run on the same
(they import this module, not bot.py, so that they start without the bot's libraries)."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
import uvloop

MAX_WEBSOCKET_FRAME = 64 * 1024


def http_server(app: Any, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            ws_max_size=MAX_WEBSOCKET_FRAME,
            # Chat frames are short: compressing them saves little and costs each connection
            # ~45 KB of zlib state (and CPU per frame); see docs/performance.md.
            ws_per_message_deflate=False,
            lifespan="off",
            log_level="warning",
            server_header=False,
        )
    )


def event_loop() -> asyncio.Runner:
    """uvloop (what uvicorn itself would pick): its I/O and scheduling cost less per message."""
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)
