"""The bot processes' heartbeats in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.tables import BotProcessRow


class SqlBotProcesses:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def beat(self, name: str, now: datetime) -> None:
        changed = await self._session.execute(
            update(BotProcessRow).where(BotProcessRow.name == name).values(seen_at=now))
        if not changed.rowcount:  # type: ignore[attr-defined]
            self._session.add(BotProcessRow(name=name, seen_at=now))
            await self._session.flush()

    async def mark_stopped(self, name: str, at: datetime) -> None:
        await self._session.execute(
            update(BotProcessRow).where(BotProcessRow.name == name).values(seen_at=at))
