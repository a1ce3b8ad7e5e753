"""A channel that keeps what it is given to send (Rasa's CollectingOutputChannel), for tests."""

from __future__ import annotations

import asyncio

from dialog.messages import Delivery


class CollectingChannel:
    def __init__(self) -> None:
        self.sent: list[Delivery] = []
        self._changed = asyncio.Event()

    async def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery)
        self._changed.set()

    async def wait_for(self, count: int, deadline: float = 10.0) -> list[Delivery]:
        """The first `count` messages sent, once they are; fails after `deadline` seconds."""
        async with asyncio.timeout(deadline):
            while len(self.sent) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.sent[:count]

    @property
    def texts(self) -> list[str]:
        return [delivery.outbound.text for delivery in self.sent]
