"""A simulated customer: sends the conversation's messages and matches each reply to its turn.

Closed loop: the next message leaves as soon as the previous one is answered. Open loop: the
customer writes at random (Poisson) moments whatever the bot is doing, so a slow bot meets a
growing queue instead of fewer messages (no coordinated omission). Idle: one message, then
the connection stays open and quiet. Replies are matched to turns in order: the bot answers a
conversation's turns one at a time, in arrival order, one message each.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from bench.conversation import Step
from bench.tally import Tally

REPLY_TIMEOUT = 15.0  # after the run: a turn still unanswered this long is an error
Mode = Literal["closed", "open", "idle"]


@dataclass(frozen=True)
class Load:
    mode: Mode
    customers: int
    warmup: float = 0.0
    duration: float = 0.0
    think_seconds: float = 0.0  # open loop: mean time between one customer's messages


class Transport(Protocol):
    async def open(self) -> None: ...

    async def send(self, text: str) -> None: ...

    async def receive(self) -> str | None:
        """The next reply's text; None once the connection is closed."""
        ...

    async def close(self) -> None: ...


class Customer:
    def __init__(self, transport: Transport, steps: Iterator[Step], tally: Tally,
                 rng: random.Random) -> None:
        self._transport = transport
        self._steps = steps
        self._tally = tally
        self._rng = rng
        self._pending: deque[tuple[float, Step]] = deque()
        self._answered = asyncio.Event()
        self._receiver: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self._transport.open()
        self._receiver = asyncio.create_task(self._receive())

    async def say_once(self) -> None:
        """One turn, answered (the idle customers' only message)."""
        await self._send()
        await self._drain()

    async def run(self, load: Load, start: float, end: float) -> None:
        await _sleep_until(start)
        if load.mode == "closed":
            while time.time() < end:
                await self._send()
                await self._wait_answered(end + REPLY_TIMEOUT)
        else:
            moment = start + self._rng.expovariate(1 / load.think_seconds)
            while moment < end:
                await _sleep_until(moment)
                await self._send()
                moment += self._rng.expovariate(1 / load.think_seconds)
        await self._drain()

    async def close(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
        await self._transport.close()

    async def _send(self) -> None:
        step = next(self._steps)
        self._pending.append((time.time(), step))
        self._answered.clear()
        self._tally.sent += 1
        try:
            await self._transport.send(step.text)
        except Exception as error:
            self._tally.error(f"send failed: {error!r}")

    async def _wait_answered(self, deadline: float) -> None:
        while self._pending and time.time() < deadline:
            try:
                async with asyncio.timeout(deadline - time.time()):
                    await self._answered.wait()
            except TimeoutError:
                break
            self._answered.clear()

    async def _drain(self) -> None:
        await self._wait_answered(time.time() + REPLY_TIMEOUT)
        for _sent_at, step in self._pending:
            self._tally.error(f"no reply to {step.text!r}")
        self._pending.clear()

    async def _receive(self) -> None:
        while True:
            try:
                reply = await self._transport.receive()
            except Exception as error:
                self._tally.error(f"receive failed: {error!r}")
                return
            if reply is None:
                return
            now = time.time()
            if not self._pending:
                self._tally.error(f"a reply nobody waited for: {reply[:80]!r}")
                continue
            sent_at, step = self._pending.popleft()
            if step.accepts(reply):
                self._tally.answered(sent_at, now)
            else:
                self._tally.error(f"{step.text!r} answered {reply[:120]!r}")
            self._answered.set()


async def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
