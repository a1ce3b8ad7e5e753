"""Operators' tags of a conversation in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.tables import ConversationTag


class SqlConversationTags:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, conversation_id: int, tag: str, at: datetime) -> bool:
        if tag in await self.of_conversation(conversation_id):
            return False
        self._session.add(ConversationTag(conversation_id=conversation_id, tag=tag, added_at=at))
        await self._session.flush()
        return True

    async def remove(self, conversation_id: int, tag: str) -> bool:
        removed = await self._session.execute(
            delete(ConversationTag).where(ConversationTag.conversation_id == conversation_id,
                                          ConversationTag.tag == tag))
        return bool(getattr(removed, "rowcount", 0))

    async def of_conversation(self, conversation_id: int) -> list[str]:
        rows = await self._session.scalars(
            select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation_id)
            .order_by(ConversationTag.tag))
        return list(rows)
