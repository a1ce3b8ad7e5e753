"""The reports' events in SQL (dialog/events.py says which and why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.events import RATING, RATING_OFFERED, PendingEvent, RatingOffer, check_kinds
from dialog.tables import Event
from storage.prepared import Prepared
from storage.repositories.columns import bound_values

EVENT_COLUMNS = ("kind", "handoff_id", "subject", "value", "at")  # besides conversation_id
_ADD = Prepared(insert(Event).values(
    bound_values(Event.__table__, "conversation_id", *EVENT_COLUMNS)))


def event_values(event: PendingEvent, at: datetime, prefix: str = "v_") -> dict[str, Any]:
    """The bind values of an event's EVENT_COLUMNS, named <prefix><column> (exchanges.py
    writes a turn's events inside its statement with the same values)."""
    return {f"{prefix}kind": event.kind, f"{prefix}handoff_id": event.handoff_id,
            f"{prefix}subject": event.subject[:64] if event.subject else None,
            f"{prefix}value": event.value, f"{prefix}at": at}


class SqlEvents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self, conversation_id: int | None, events: list[PendingEvent], at: datetime
    ) -> None:
        """In the caller's transaction."""
        if not events:
            return
        check_kinds(events)
        for e in events:  # one or two a turn: compiled once beats one executemany
            await _ADD.execute(self._session, v_conversation_id=conversation_id,
                               **event_values(e, at))

    async def latest_rating_offer(self, conversation_id: int) -> RatingOffer | None:
        offer = (await self._session.execute(
            select(Event.id, Event.handoff_id, Event.at)
            .where(Event.conversation_id == conversation_id, Event.kind == RATING_OFFERED)
            .order_by(Event.id.desc()).limit(1)
        )).first()
        if offer is None:
            return None
        rated = await self._session.scalar(
            select(Event.id).where(Event.conversation_id == conversation_id,
                                   Event.kind == RATING, Event.id > offer.id).limit(1)
        )
        return RatingOffer(offer.id, offer.handoff_id, offer.at, rated is not None)
