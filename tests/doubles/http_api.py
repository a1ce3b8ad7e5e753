"""What the platform API doubles (telegram_api.py, slack_api.py) share: an aiohttp server on
127.0.0.1 that records every call, and waiting for calls without polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

WAIT_SECONDS = 10.0  # an upper bound for tests; the bot normally answers in milliseconds


class RecordedCall(Protocol):
    method: str

    @property
    def ok(self) -> bool: ...


CallT = TypeVar("CallT", bound=RecordedCall)


class HttpApiDouble(Generic[CallT]):
    """Subclasses answer at `route` (with a {method} part) in _answer(), append each call to
    `calls` and set `_changed` when a call arrives or is answered."""

    route: str

    def __init__(self) -> None:
        self.calls: list[CallT] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_route("*", self.route, self._answer)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        host, bound = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, request: web.Request) -> web.Response:
        raise NotImplementedError

    def _add_routes(self, app: web.Application) -> None:
        """More routes of a subclass (Telegram's file downloads)."""

    def successful(self, method: str) -> list[CallT]:
        return [call for call in self.calls if call.method == method and call.ok]

    async def wait_for(self, method: str, count: int = 1) -> list[CallT]:
        """Wait until `count` successful calls of `method` arrived."""
        await self.wait_until(lambda: len(self.successful(method)) >= count)
        return self.successful(method)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until the condition holds, checking it after every call (no polling)."""
        async with asyncio.timeout(WAIT_SECONDS):
            while not condition():
                await self.next_call()

    async def next_call(self) -> None:
        self._changed.clear()
        await self._changed.wait()


async def request_params(request: web.Request) -> dict[str, Any]:
    """The call's parameters, wherever the client put them: query, JSON body or form."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return params
