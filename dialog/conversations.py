"""The Conversations seam (dialog/seam.py) over the inbox and the DialogManager: what the
channels get, built once in the composition root."""

from __future__ import annotations

from dialog.inbox import Inbox
from dialog.manager import DialogManager
from dialog.messages import Button, ConversationKey, Inbound
from dialog.state import HistoryEntry
from dialog.texts import Texts


class DialogConversations:
    def __init__(self, manager: DialogManager, inbox: Inbox) -> None:
        self._manager = manager
        self._inbox = inbox

    @property
    def texts(self) -> Texts:
        return self._manager.texts

    async def accept(self, inbound: Inbound) -> bool:
        return await self._inbox.accept(inbound)

    async def accept_answered(self, inbound: Inbound) -> None:
        await self._inbox.answer(inbound)

    async def answer(self, inbound: Inbound) -> None:
        if inbound.message_id is None:
            raise ValueError("an inbox message needs the platform's message id")
        await self._manager.handle(inbound, record=True)

    async def history(
        self, key: ConversationKey, limit: int = 200
    ) -> tuple[str, list[HistoryEntry]]:
        return await self._manager.history(key, limit)

    async def last_buttons(self, key: ConversationKey) -> list[Button]:
        return await self._manager.last_buttons(key)

    async def open_session(
        self, channel: str, chat_id: str, language: str | None,
        verified_email: str | None = None, customer_name: str | None = None,
        link_token: str | None = None,
    ) -> tuple[str, ConversationKey] | None:
        return await self._manager.open_session(
            channel, chat_id, language, verified_email=verified_email,
            customer_name=customer_name, link_token=link_token)

    async def resume_session(self, token: str) -> tuple[str, ConversationKey] | None:
        return await self._manager.resume_session(token)

    async def resolve_token(self, token: str) -> ConversationKey | None:
        return await self._manager.resolve_token(token)

    async def mark_undeliverable(self, channel: str, address: str) -> bool:
        return await self._manager.mark_undeliverable(channel, address)
