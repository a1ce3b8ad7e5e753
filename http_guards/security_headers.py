"""Security headers of the bot's own web pages (the console, its dashboard, the demo shop and
the chat-link page), set on the way out unless a route set its own (the payment page does).

- Every answer: `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` (not
  "no-referrer": with it a browser sends a same-origin POST with "Origin: null", which the
  console's origin check would refuse).
- The console and its dashboard have no inline script or style: a strict policy, and never in
  a frame (clickjacking of an operator's buttons).
- The demo shop and /webchat/chat have inline blocks: those are allowed by their hashes,
  taken from the files when the app is built. Inline styles stay allowed there: the widget
  draws its panel with <style> elements in its Shadow DOM. Neither page is meant to be framed
  (a shop embeds the widget's script, not a page: widget.js itself gets no policy).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
_NO_FRAMES = {"x-frame-options": "DENY"}
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def page_policy(page: Path) -> str:
    """The policy of a page whose inline scripts are allowed by their SHA-256 hashes."""
    text = page.read_text(encoding="utf-8") if page.is_file() else ""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in _INLINE_SCRIPT.findall(text))
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Pure ASGI middleware; `pages` maps an exact path to its page's policy."""

    def __init__(self, app: ASGIApp, pages: Mapping[str, str]) -> None:
        self.app = app
        self._pages = dict(pages)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._headers(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)

    def _headers(self, path: str) -> dict[str, str]:
        if path == "/console" or path.startswith("/console/"):
            return {**_COMMON, **_NO_FRAMES, "content-security-policy": CONSOLE_POLICY}
        policy = self._pages.get(path)
        if policy is not None:
            return {**_COMMON, **_NO_FRAMES, "content-security-policy": policy}
        return dict(_COMMON)
