"""The web chat's live frames, never stored: typing both ways (the bot's "typing" frame while
a turn takes a while, an operator's typing, the customer's typing told to the operator desk)
and an operator's arrival.

The customer's typing goes to the desk (OperatorDesk.customer_typing), which tells every
console over its pub/sub topic; it is throttled per conversation here, so that a fast
typist's frames cost one look-up and one publish every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from coordination.base import Listener
from dialog.messages import ConversationKey

T = TypeVar("T")

# A turn answered within this long shows no indicator (a flash of "typing" reads as noise);
# one that waits for a courier's or the shop's API shows it, so the bot does not look dead.
TYPING_AFTER_SECONDS = 0.4
CUSTOMER_TYPING_EVERY_SECONDS = 2.0
TYPING_FRAME = json.dumps({"type": "typing", "from": "bot"})


async def typing_while(
    work: Awaitable[T], push: Callable[[str], Awaitable[None]], after: float
) -> T:
    """Await `work`; if it is not done within `after` seconds, push a typing frame once.

    One timer per turn, cancelled when the turn ends: a quick turn (most) costs no task."""
    pushed: list[asyncio.Task[None]] = []
    timer = asyncio.get_running_loop().call_later(
        after, lambda: pushed.append(asyncio.ensure_future(_typing(push))))
    try:
        return await work
    finally:
        timer.cancel()
        for task in pushed:  # the frame goes before the answer
            await task


async def _typing(push: Callable[[str], Awaitable[None]]) -> None:
    # A socket closing meanwhile must not abandon the turn: it is answered all the same.
    with contextlib.suppress(Exception):
        await push(TYPING_FRAME)


class CustomerTyping:
    """Tells the desk that a web chat customer is typing, at most once every few seconds per
    conversation (in this process: the customer's socket is here)."""

    def __init__(
        self, notify: Callable[[ConversationKey], Awaitable[None]] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._notify, self._clock = notify, clock
        self._last: dict[str, float] = {}

    async def publish(self, key: ConversationKey) -> bool:
        now = self._clock()
        if self._notify is None or now - self._last.get(
                key.chat_id, -CUSTOMER_TYPING_EVERY_SECONDS) < CUSTOMER_TYPING_EVERY_SECONDS:
            return False
        self._last[key.chat_id] = now
        if len(self._last) > 10_000:  # forget the oldest conversations
            for chat_id in sorted(self._last, key=self._last.__getitem__)[:5_000]:
                del self._last[chat_id]
        await self._notify(key)
        return True


def operator_typing_frames(push: Callable[[str], Awaitable[None]]) -> Listener:
    """The desk's '{"author"}' (an operator typing) as the widget's typing frame."""

    async def forward(data: str) -> None:
        author = json.loads(data).get("author") or ""
        await push(json.dumps({"type": "typing", "from": "operator", "author": author}))

    return forward


def presence_frames(push: Callable[[str], Awaitable[None]]) -> Listener:
    """The desk's '{"event": "joined", "name"}' as the widget's operator frame."""

    async def forward(data: str) -> None:
        event = json.loads(data)
        await push(json.dumps({"type": "operator", "event": event.get("event") or "",
                               "name": event.get("name") or ""}))

    return forward
