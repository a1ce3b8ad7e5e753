"""Web chat tokens in SQL: only a token's hash is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.messages import ConversationKey
from dialog.state import TokenRecord
from dialog.tables import Conversation, ConversationToken


class SqlTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token_hash: str, conversation_id: int, now: datetime) -> None:
        self._session.add(ConversationToken(token_hash=token_hash,
                                            conversation_id=conversation_id,
                                            created_at=now, last_used_at=now))
        await self._session.flush()

    async def find(self, token_hash: str) -> TokenRecord | None:
        found = (await self._session.execute(
            select(Conversation.channel, Conversation.chat_id, ConversationToken.conversation_id,
                   ConversationToken.created_at, ConversationToken.last_used_at)
            .join(ConversationToken, ConversationToken.conversation_id == Conversation.id)
            .where(ConversationToken.token_hash == token_hash)
        )).first()
        if found is None:
            return None
        return TokenRecord(ConversationKey(found.channel, found.chat_id),
                           found.conversation_id, found.created_at, found.last_used_at)

    async def touch(self, token_hash: str, now: datetime) -> None:
        await self._session.execute(
            update(ConversationToken)
            .where(ConversationToken.token_hash == token_hash)
            .values(last_used_at=now)
        )

    async def remove(self, token_hash: str) -> bool:
        gone = await self._session.execute(
            delete(ConversationToken).where(ConversationToken.token_hash == token_hash)
        )
        return bool(getattr(gone, "rowcount", 0) == 1)
