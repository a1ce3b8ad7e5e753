"""Operators' notes on a conversation in SQL (the customer never sees them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.desk_values import Note
from dialog.tables import OperatorNote


class SqlOperatorNotes:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, conversation_id: int, author: str, text: str, at: datetime) -> Note:
        row = OperatorNote(conversation_id=conversation_id, author=author, text=text, at=at)
        self._session.add(row)
        await self._session.flush()
        return _note(row)

    async def of_conversation(self, conversation_id: int) -> list[Note]:
        rows = await self._session.scalars(
            select(OperatorNote).where(OperatorNote.conversation_id == conversation_id)
            .order_by(OperatorNote.id)
        )
        return [_note(row) for row in rows]


def _note(row: OperatorNote) -> Note:
    return Note(row.id, row.conversation_id, row.author, row.text, row.at)
