"""A conversation you can talk to: say something, read what the bot answered (Errbot style)."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.messages import Button, ConversationKey, Inbound, Outbound
from dialog.tables import Conversation as ConversationRow
from dialog.tables import TranscriptEntry
from tests.conftest import BotFactory


class Conversation:
    """answers_codes: a customer who, asked for the one-time code of an order (the strong
    proof a change needs), reads it where it was sent and types it at once; the replies
    returned are then those to the code."""

    def __init__(self, bot: Orderbot, channel: str = "webchat", customer_id: int | None = None,
                 answers_codes: bool = False):
        self.bot = bot
        self.key = ConversationKey(channel, secrets.token_hex(8))
        self.customer_id = customer_id
        self.answers_codes = answers_codes
        self.replies: list[Outbound] = []

    async def say(self, text: str, message_id: str | None = None) -> str:
        """Send text; return the bot's replies joined by newlines ("" when it stays silent)."""
        return await self._send(
            Inbound(key=self.key, text=text, message_id=message_id, customer_id=self.customer_id)
        )

    async def press(self, title: str) -> str:
        """Press the button with this title on the last reply."""
        button = next(b for b in self.buttons if b.title == title)
        return await self._send(
            Inbound(key=self.key, action=button.payload, customer_id=self.customer_id)
        )

    async def _send(self, inbound: Inbound) -> str:
        self.replies = await self.bot.manager.handle(inbound)
        if self.answers_codes:
            await self._type_code()
        return "\n".join(reply.text for reply in self.replies)

    async def _type_code(self) -> None:
        async with self.bot.units() as uow:
            state = await self.bot.store.load(uow, self.key)
        if state.step == "need_code":
            code, _ = await sent_code(self.bot, str(state.slots["number"]))
            self.replies = await self.bot.manager.handle(
                Inbound(key=self.key, text=code, customer_id=self.customer_id))

    @property
    def buttons(self) -> list[Button]:
        return [button for reply in self.replies for button in reply.buttons]


@pytest.fixture
async def bot(make_bot: BotFactory) -> Orderbot:
    return await make_bot()


@pytest.fixture
def conversation(bot: Orderbot) -> Conversation:
    return Conversation(bot)


async def sent_code(bot: Orderbot, number: str) -> tuple[str, ConversationKey]:
    """The latest one-time code for the order, as the customer received it, and where."""
    async with bot.database.transaction() as session:
        rows = (await session.execute(
            select(TranscriptEntry.text, ConversationRow.channel, ConversationRow.chat_id)
            .join(ConversationRow, ConversationRow.id == TranscriptEntry.conversation_id)
            .where(TranscriptEntry.text.like(f"%{number}%"), TranscriptEntry.sender == "bot")
            .order_by(TranscriptEntry.id.desc())
        )).all()
    for text, channel, chat_id in rows:
        code = code_in(bot, text)
        if code is not None:
            return code, ConversationKey(channel, chat_id)
    raise AssertionError(f"no code was sent for {number}")


def code_in(bot: Orderbot, text: str) -> str | None:
    """The one-time code in a message, if it is the code message (in any language)."""
    for language in ("en", "pl", "ru"):
        template = re.escape(bot.texts.get(language, "code_message"))
        pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: r"(\d{6})" if m.group(1) == "code"
                         else ".+?", template)
        found = re.search(pattern, text)
        if found is not None:
            return found.group(1)
    return None


async def texts_in(bot: Orderbot, key: ConversationKey) -> list[str]:
    """Every message of a conversation, oldest first."""
    _, history = await bot.manager.history(key)
    return [entry.text for entry in history]
