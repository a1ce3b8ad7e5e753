"""Answers a repeat GET with 304 Not Modified when the browser's copy is still current.

Starlette's StaticFiles already does this for its files; a route that returns a FileResponse
(widget.js, the console and dashboard pages) sets an ETag but would send the whole file again.
This middleware sits outside the compression, so that it compares the ETag of what would be
sent, and sends its headers (ETag, Cache-Control, Vary) without a body.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What a 304 keeps of the full answer's headers (RFC 9110 15.4.5); the rest describe a body.
_KEPT = ("etag", "cache-control", "vary", "expires", "content-location", "date",
         "last-modified")


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): W/"x" and "x" are the same entity."""
    if if_none_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag.strip().removeprefix("W/") in wanted


class ConditionalGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        if not if_none_match:
            await self.app(scope, receive, send)
            return
        unchanged = False

        async def send_or_304(message: Message) -> None:
            nonlocal unchanged
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                etag = headers.get("etag")
                if message["status"] == 200 and etag and _matches(if_none_match, etag):
                    unchanged = True
                    kept = [(name, value) for name, value in message["headers"]
                            if name.decode("latin-1").lower() in _KEPT]
                    await send({"type": "http.response.start", "status": 304,
                                "headers": kept})
                    return
                await send(message)
            elif unchanged:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b""})
            else:
                await send(message)

        await self.app(scope, receive, send_or_304)
