"""Pending inbox and outbox rows change owner when their process stopped (dialog/takeover.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.tables import BotProcessRow, InboxRow, OutboxRow


async def adopt(
    session: AsyncSession, table: type[InboxRow] | type[OutboxRow],
    unfinished: ColumnElement[bool], owner: str, alive_since: datetime, unowned_only: bool,
) -> list[int]:
    """One conditional UPDATE, so that exactly one process gets each row. Never the rows of
    `owner` itself: a live process has its own pending rows in hand already (queued, or being
    sent), however late its own heartbeat (a sweep that waited long for its transaction);
    taking them "over" would send them a second time. A restarted process resumes its own
    rows itself (OutboxSender.start, Inbox.start)."""
    orphaned: ColumnElement[bool] = table.owner.is_(None)
    if not unowned_only:
        alive = select(BotProcessRow.name).where(BotProcessRow.seen_at >= alive_since)
        orphaned = or_(orphaned, and_(table.owner != owner, table.owner.not_in(alive)))
    rows = await session.scalars(
        update(table).where(unfinished, orphaned).values(owner=owner).returning(table.id))
    return sorted(rows)
