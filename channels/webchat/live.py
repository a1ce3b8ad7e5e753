"""The web chat's live frames, never stored: typing both ways (the bot's "typing" frame while
a turn takes a while, an operator's typing, the customer's typing told to the operator desk)
and an operator's arrival.

The customer's typing goes out on the pub/sub topic "webchat-typing" as
{"channel": "webchat", "chat_id"}; the desk (console) subscribes to it, in whichever process
holds the operator's socket. It is throttled per conversation here, so that a fast typist's
frames cost one publish every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from coordination.base import Listener, PubSub, Subscription
from dialog.messages import ConversationKey

T = TypeVar("T")

# A turn answered within this long shows no indicator (a flash of "typing" reads as noise);
# one that waits for a courier's or the shop's API shows it, so the bot does not look dead.
TYPING_AFTER_SECONDS = 0.4
TYPING_TOPIC = "webchat-typing"
CUSTOMER_TYPING_EVERY_SECONDS = 2.0
TYPING_FRAME = json.dumps({"type": "typing", "from": "bot"})


async def typing_while(
    work: Awaitable[T], push: Callable[[str], Awaitable[None]], after: float
) -> T:
    """Await `work`; if it is not done within `after` seconds, push a typing frame once."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=after)
    if not done:
        # A socket closing meanwhile must not abandon the turn: it is answered all the same.
        with contextlib.suppress(Exception):
            await push(TYPING_FRAME)
    return await task


class CustomerTyping:
    """Publishes that a web chat customer is typing, at most once every few seconds per
    conversation; `subscribe` is the desk's way to hear it."""

    def __init__(self, pubsub: PubSub, clock: Callable[[], float] = time.monotonic) -> None:
        self._pubsub, self._clock = pubsub, clock
        self._last: dict[str, float] = {}

    async def publish(self, key: ConversationKey) -> bool:
        now = self._clock()
        if now - self._last.get(key.chat_id, -CUSTOMER_TYPING_EVERY_SECONDS) \
                < CUSTOMER_TYPING_EVERY_SECONDS:
            return False
        self._last[key.chat_id] = now
        if len(self._last) > 10_000:  # forget the oldest conversations
            for chat_id in sorted(self._last, key=self._last.__getitem__)[:5_000]:
                del self._last[chat_id]
        await self._pubsub.publish(
            TYPING_TOPIC, json.dumps({"channel": key.channel, "chat_id": key.chat_id}))
        return True

    async def subscribe(self, listener: Listener) -> Subscription:
        """`listener` gets '{"channel", "chat_id"}' each time a customer types (throttled)."""
        return await self._pubsub.subscribe(TYPING_TOPIC, listener)


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
