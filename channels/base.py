"""The Channel protocol: what every customer channel does for the rest of the bot."""

from __future__ import annotations

from typing import Protocol

from dialog.messages import Delivery


class Channel(Protocol):
    name: str

    async def start(self) -> None:
        """Begin receiving (listeners, polling, webhook registration)."""

    async def stop(self) -> None: ...

    async def send(self, delivery: Delivery) -> None:
        """Deliver one reply; raise dialog.messages.DeliveryFailed to have it retried."""
