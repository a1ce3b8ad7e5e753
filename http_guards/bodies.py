"""A request body read no further than a limit: declared (Content-Length) or streamed.

The one reader of the endpoints that take bodies from outside (the shop API, the Telegram and
Slack webhooks), so that none of them holds more than its limit in memory.
"""

from __future__ import annotations

from starlette.requests import Request


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
