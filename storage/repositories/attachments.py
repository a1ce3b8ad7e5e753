"""Customers' attachments in SQL: the rows of dialog/attachments.py's files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.attachment_values import AttachmentRef, StoredAttachment
from dialog.messages import ConversationKey
from dialog.tables import Attachment


class SqlAttachments:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, attachment: StoredAttachment) -> None:
        ref = attachment.ref
        self._session.add(Attachment(
            id=ref.id, channel=attachment.channel, chat_id=attachment.chat_id,
            conversation_id=attachment.conversation_id, transcript_id=attachment.transcript_id,
            name=ref.name, content_type=ref.content_type, size=ref.size,
            sha256=attachment.sha256, stored_path=attachment.stored_path,
            created_at=attachment.created_at,
        ))
        await self._session.flush()

    async def find(self, attachment_id: str) -> StoredAttachment | None:
        row = await self._session.get(Attachment, attachment_id)
        return None if row is None else _stored(row)

    async def join(
        self, key: ConversationKey, conversation_id: int, transcript_id: int, ids: Sequence[str]
    ) -> list[AttachmentRef]:
        if not ids:
            return []
        await self._session.execute(
            update(Attachment)
            .where(Attachment.id.in_(list(ids)), Attachment.channel == key.channel,
                   Attachment.chat_id == key.chat_id, Attachment.transcript_id.is_(None))
            .values(conversation_id=conversation_id, transcript_id=transcript_id)
        )
        joined = await self.of_entries([transcript_id])
        by_id = {ref.id: ref for ref in joined.get(transcript_id, [])}
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]

    async def of_entries(self, transcript_ids: Sequence[int]) -> dict[int, list[AttachmentRef]]:
        found: dict[int, list[AttachmentRef]] = {}
        if not transcript_ids:
            return found
        rows = await self._session.scalars(
            select(Attachment)
            .where(Attachment.transcript_id.in_(list(transcript_ids)))
            .order_by(Attachment.created_at, Attachment.id)
        )
        for row in rows:
            assert row.transcript_id is not None
            found.setdefault(row.transcript_id, []).append(_ref(row))
        return found


    async def forget_unjoined(self, before: datetime) -> int:
        result = await self._session.execute(
            delete(Attachment).where(Attachment.transcript_id.is_(None),
                                     Attachment.created_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    async def stored_paths(self) -> set[str]:
        return set(await self._session.scalars(select(Attachment.stored_path)))


def _ref(row: Attachment) -> AttachmentRef:
    return AttachmentRef(row.id, row.name, row.content_type, row.size)


def _stored(row: Attachment) -> StoredAttachment:
    return StoredAttachment(
        ref=_ref(row), channel=row.channel, chat_id=row.chat_id,
        conversation_id=row.conversation_id, transcript_id=row.transcript_id,
        sha256=row.sha256, stored_path=row.stored_path, created_at=row.created_at,
    )
