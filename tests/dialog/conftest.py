"""A conversation you can talk to: say something, read what the bot answered (Errbot style)."""

from __future__ import annotations

import secrets

import pytest

from bot import Orderbot
from dialog.messages import Button, ConversationKey, Inbound, Outbound
from tests.conftest import BotFactory


class Conversation:
    def __init__(self, bot: Orderbot, channel: str = "webchat", customer_id: int | None = None):
        self.bot = bot
        self.key = ConversationKey(channel, secrets.token_hex(8))
        self.customer_id = customer_id
        self.replies: list[Outbound] = []

    async def say(self, text: str, message_id: str | None = None) -> str:
        """Send text; return the bot's replies joined by newlines ("" when it stays silent)."""
        self.replies = await self.bot.manager.handle(
            Inbound(key=self.key, text=text, message_id=message_id, customer_id=self.customer_id)
        )
        return "\n".join(reply.text for reply in self.replies)

    async def press(self, title: str) -> str:
        """Press the button with this title on the last reply."""
        button = next(b for b in self.buttons if b.title == title)
        self.replies = await self.bot.manager.handle(
            Inbound(key=self.key, action=button.payload, customer_id=self.customer_id)
        )
        return "\n".join(reply.text for reply in self.replies)

    @property
    def buttons(self) -> list[Button]:
        return [button for reply in self.replies for button in reply.buttons]


@pytest.fixture
async def bot(make_bot: BotFactory) -> Orderbot:
    return await make_bot()


@pytest.fixture
def conversation(bot: Orderbot) -> Conversation:
    return Conversation(bot)
