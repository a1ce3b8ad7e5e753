"""A shop that takes the bot's webhooks on 127.0.0.1: it verifies every request with the
standardwebhooks package (as a shop would) and records what it got. It can be told to answer
an error, or to keep a request waiting, for a while."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

WAIT_SECONDS = 15.0  # an upper bound for tests; a webhook normally leaves in milliseconds
SECRET = "whsec_" + base64.b64encode(b"orderbot-test-webhook-key-32byte").decode()


@dataclass(frozen=True)
class Received:
    webhook_id: str
    status: int  # what the shop answered
    body: bytes
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    @property
    def type(self) -> str:
        return str(self.payload["type"])


class WebhookShop:
    def __init__(self, secret: str = SECRET) -> None:
        self.received: list[Received] = []
        self._verifier = Webhook(secret)
        self._failures: list[tuple[int, Callable[[dict[str, Any]], bool]]] = []
        self._hold: asyncio.Event | None = None
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/hooks", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        host, bound = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{bound}/hooks"
        return self.url

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, times: int, status: int = 500,
             when: Callable[[dict[str, Any]], bool] = lambda payload: True) -> None:
        """Answer `status` to the next `times` requests whose payload is `when` (then 200)."""
        self._failures.extend([(status, when)] * times)

    def stop_failing(self) -> None:
        self._failures.clear()

    def hold(self) -> None:
        """Keep requests waiting (the bot's timeout runs out) until release()."""
        self._hold = asyncio.Event()

    def release(self) -> None:
        if self._hold is not None:
            self._hold.set()
            self._hold = None

    @property
    def delivered(self) -> list[Received]:
        """Verified requests answered 2xx, in the order they came."""
        return [r for r in self.received if r.verified and 200 <= r.status < 300]

    def types(self) -> list[str]:
        return [r.type for r in self.delivered]

    def of_order(self, number: str) -> list[Received]:
        return [r for r in self.delivered
                if (r.payload["data"].get("order") or {}).get("number") == number]

    async def wait_until(self, condition: Callable[[], bool],
                         seconds: float = WAIT_SECONDS) -> None:
        """Wait until the condition holds, checking it after every request (no polling)."""
        async with asyncio.timeout(seconds):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def wait_for(self, count: int) -> list[Received]:
        await self.wait_until(lambda: len(self.delivered) >= count)
        return self.delivered

    def _status_for(self, payload: dict[str, Any]) -> int:
        for index, (status, when) in enumerate(self._failures):
            if when(payload):
                del self._failures[index]
                return status
        return 200

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            self._verifier.verify(body, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            verified = False
        if self._hold is not None:  # recorded as no answer (0): the bot gives up first
            self.received.append(Received(request.headers.get("webhook-id", ""), 0, body,
                                          verified))
            self._changed.set()
            await self._hold.wait()
            return web.Response(status=504, text="too late")
        status = 401 if not verified else self._status_for(json.loads(body))
        self.received.append(Received(request.headers.get("webhook-id", ""), status, body,
                                      verified))
        self._changed.set()
        return web.Response(status=status, text="ok" if status < 300 else "not now")
