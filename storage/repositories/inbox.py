"""The inbox in SQL: platform messages recorded before they are acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.messages import ConversationKey, Inbound
from dialog.tables import InboxRow
from dialog.unit_of_work import AlreadyRecorded
from storage.clock import utcnow
from storage.prepared import Prepared
from storage.repositories.columns import bound_values
from storage.repositories.ownership import adopt

# Compiled once (storage/prepared.py): the web chat records every message in its turn.
INBOX_ADD = insert(InboxRow).values(
    bound_values(InboxRow.__table__, "channel", "chat_id", "platform_id", "text", "action",
                 "language", "customer_id", "sender", "context", "attachments", "received_at",
                 "processed_at", "owner"))
_ADD = Prepared(INBOX_ADD.returning(InboxRow.id))


class SqlInbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, inbound: Inbound, *, processed: bool, owner: str | None) -> int:
        try:
            inbox_id = await _ADD.scalar(self._session, **inbox_values(inbound, processed, owner))
        except IntegrityError as error:  # the unique (channel, platform_id)
            raise AlreadyRecorded from error
        assert inbox_id is not None
        return int(inbox_id)

    async def claim(self, inbox_id: int) -> bool:
        result = await self._session.execute(
            update(InboxRow)
            .where(InboxRow.id == inbox_id, InboxRow.processed_at.is_(None))
            .values(processed_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0))

    async def unprocessed(self, ids: list[int] | None, owner: str | None) -> list[Inbound]:
        mine = InboxRow.id.in_(ids) if ids is not None else InboxRow.owner == owner
        rows = await self._session.scalars(
            select(InboxRow).where(InboxRow.processed_at.is_(None), mine).order_by(InboxRow.id)
        )
        return [_inbound(row) for row in rows]

    async def adopt(self, owner: str, alive_since: datetime, unowned_only: bool) -> list[int]:
        return await adopt(self._session, InboxRow, InboxRow.processed_at.is_(None), owner,
                           alive_since, unowned_only)


def inbox_values(inbound: Inbound, processed: bool, owner: str | None) -> dict[str, Any]:
    """The bind values of INBOX_ADD for the message, received (and processed) now."""
    now = utcnow()
    return {"v_channel": inbound.key.channel, "v_chat_id": inbound.key.chat_id,
            "v_platform_id": inbound.message_id, "v_text": inbound.text,
            "v_action": inbound.action, "v_language": inbound.language,
            "v_customer_id": inbound.customer_id, "v_sender": inbound.sender,
            "v_context": inbound.context, "v_attachments": list(inbound.attachments) or None,
            "v_received_at": now, "v_processed_at": now if processed else None,
            "v_owner": owner}


def _inbound(row: InboxRow) -> Inbound:
    return Inbound(
        key=ConversationKey(row.channel, row.chat_id),
        text=row.text,
        action=row.action,
        message_id=row.platform_id,
        language=row.language,
        customer_id=row.customer_id,
        inbox_id=row.id,
        sender=row.sender,
        context=row.context,
        attachments=tuple(row.attachments or ()),
    )
