"""A request body longer than `[http] max_body_bytes` is refused with 413, in the app itself
(a reverse proxy's client_max_body_size is the first line, not the only one).

A declared body (Content-Length) over the limit is refused before anything runs or reads it;
a streamed one (chunked) is counted as it arrives and refused as soon as it passes the limit,
so that no endpoint holds more than the limit in memory. Endpoints that read their body
themselves (http_guards/bodies.py) keep their own, equal, limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
REFUSED = "body_too_large"  # the reason counted in orderbot_refused_requests_total


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit: an HTTPException, so
    that FastAPI's body parsing passes it on and its handlers answer 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


class BodyLimit:
    """Pure ASGI middleware (it must see the body's chunks, not a parsed request)."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 refused: Callable[[str], None] | None = None,
                 paths: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._refused = refused or (lambda _reason: None)
        # Exact paths with a limit of their own (the web chat's file upload).
        self._paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._paths.get(str(scope.get("path", "")), self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            self._refuse(scope, f"declared {declared} bytes")
            await self._answer(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    self._refuse(scope, f"streamed past {limit} bytes")
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:  # raised where no handler turned it into an answer
            if started:
                raise
            await self._answer(scope, receive, send, limit)

    def _refuse(self, scope: Scope, how: str) -> None:
        self._refused(REFUSED)
        log.warning("request body refused (413): %s to %s %s", how, scope.get("method"),
                    str(scope.get("path", ""))[:100])

    async def _answer(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # No "Connection: close": uvicorn then reads the unread rest and drops it, so that a
        # proxy still sending it gets the answer (with close it got a reset: its 502).
        response = JSONResponse({"detail": f"the body is larger than {limit} bytes"},
                                status_code=413)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None
