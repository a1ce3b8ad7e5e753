"""A round-robin TCP proxy on 127.0.0.1: the "any HTTP load balancer" in front of N bot
processes in the scale-out tests.

Each client connection goes to the next backend and bytes are piped both ways until either
side closes, so HTTP keep-alive, WebSocket upgrades and WebSocket frames all pass untouched.
A client that wants its requests spread must open a connection per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter

CHUNK = 64 * 1024


class RoundRobinProxy:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self._backends = itertools.cycle(backends)
        self.connections: Counter[tuple[str, int]] = Counter()  # per backend, for assertions
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.url = ""

    async def start(self, port: int = 0) -> str:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        bound = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{bound}"
        return self.url

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, client_in: asyncio.StreamReader,
                      client_out: asyncio.StreamWriter) -> None:
        backend = next(self._backends)
        self.connections[backend] += 1
        try:
            backend_in, backend_out = await asyncio.open_connection(*backend)
        except OSError:  # a backend that is down: the client sees the connection close
            client_out.close()
            return
        pipes = [asyncio.create_task(_pipe(client_in, backend_out)),
                 asyncio.create_task(_pipe(backend_in, client_out))]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._pipes.difference_update(pipes)


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then pass the end on (half-close), and close."""
    try:
        while data := await source.read(CHUNK):
            target.write(data)
            await target.drain()
        if target.can_write_eof():
            target.write_eof()
    except (ConnectionError, OSError):
        pass
    finally:
        target.close()
        with contextlib.suppress(ConnectionError, OSError):
            await target.wait_closed()
