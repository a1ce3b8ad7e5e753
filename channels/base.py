"""The Channel protocol: what every customer channel does for the rest of the bot."""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter

from dialog.messages import Capabilities, Delivery
from dialog.proactive import Contact


class Channel(Protocol):
    name: str
    capabilities: Capabilities  # what the dialog may count on (registered with the channel)

    async def start(self) -> None:
        """Begin receiving (listeners, polling, webhook registration)."""

    async def stop(self) -> None: ...

    async def send(self, delivery: Delivery) -> None:
        """Deliver one reply; raise dialog.messages.DeliveryFailed to have it retried."""

    def router(self) -> APIRouter | None:
        """The HTTP endpoints (webhooks) this channel adds to the app, if any."""

    async def open_conversation(self, contact: Contact) -> tuple[str, dict[str, Any]] | None:
        """A new conversation with a customer for a proactive message, if reachable here."""
