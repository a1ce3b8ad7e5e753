"""Typing, both ways, in the web chat channel's own pieces: the bot's frame only for a turn
that takes a while, and the customer's typing told to the desk at most every few seconds."""

from __future__ import annotations

import asyncio
import json

from channels.webchat.live import (
    CUSTOMER_TYPING_EVERY_SECONDS,
    CustomerTyping,
    typing_while,
)
from dialog.messages import ConversationKey


async def test_a_slow_turn_shows_typing_once_and_a_quick_one_not_at_all() -> None:
    pushed: list[str] = []
    released = asyncio.Event()

    async def push(frame: str) -> None:
        pushed.append(frame)
        released.set()  # the turn finishes once the customer sees it is being answered

    async def slow() -> str:
        await released.wait()
        return "answered"

    async def quick() -> str:
        return "answered"

    assert await typing_while(slow(), push, 0.01) == "answered"
    assert [json.loads(frame) for frame in pushed] == [{"type": "typing", "from": "bot"}]
    assert await typing_while(quick(), push, 60) == "answered"
    assert len(pushed) == 1


async def test_a_closed_socket_does_not_abandon_the_turn() -> None:
    tried = asyncio.Event()

    async def broken(frame: str) -> None:
        tried.set()
        raise ConnectionError("closed")

    async def turn() -> int:
        await tried.wait()  # still working when the typing frame fails
        return 7

    assert await typing_while(turn(), broken, 0.001) == 7


async def test_the_desk_hears_a_typing_customer_at_most_every_few_seconds() -> None:
    now, heard = [100.0], []

    async def desk(key: ConversationKey) -> None:
        heard.append(key.chat_id)

    typing = CustomerTyping(desk, clock=lambda: now[0])
    key, other = ConversationKey("webchat", "abc"), ConversationKey("webchat", "def")
    assert await typing.publish(key)
    assert not await typing.publish(key)  # a keystroke later: not again
    assert await typing.publish(other)  # another customer is told apart
    now[0] += CUSTOMER_TYPING_EVERY_SECONDS
    assert await typing.publish(key)
    assert heard == ["abc", "def", "abc"]
