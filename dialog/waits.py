"""How long a customer who asked for a person will wait, said honestly.

Within business hours: the customer's place in the queue times the measured handling time
(the mean of the last finished handoffs; the configured minutes until there are some), shared
among the operators at work (those who took or finished a conversation in the last hour).
Outside business hours: when the team is next at work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.hours import BusinessHours
from dialog.tables import Conversation, Handoff
from dialog.texts import Texts

MEASURED_HANDOFFS = 20
ACTIVE_WITHIN = timedelta(hours=1)


@dataclass(frozen=True)
class Wait:
    ahead: int  # customers escalated before this one, still waiting
    minutes: int  # the estimate within business hours
    opens_at: datetime | None  # when operators are back, if they are not at work now


class QueueWaits:
    def __init__(self, hours: BusinessHours, minutes_per_conversation: int, texts: Texts) -> None:
        self._hours = hours
        self._default_minutes = minutes_per_conversation
        self._texts = texts

    @property
    def hours(self) -> BusinessHours:
        return self._hours

    async def estimate(
        self, session: AsyncSession, conversation_id: int, now: datetime
    ) -> Wait:
        mine = select(Handoff.escalated_at).where(
            Handoff.conversation_id == conversation_id, Handoff.ended_at.is_(None)
        ).order_by(Handoff.id.desc()).limit(1).scalar_subquery()
        ahead = await session.scalar(
            select(func.count()).select_from(Handoff)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(Handoff.ended_at.is_(None), Conversation.status == "escalated",
                   Handoff.conversation_id != conversation_id,
                   Handoff.escalated_at <= func.coalesce(mine, now))
        ) or 0
        durations = (await session.execute(
            select(Handoff.claimed_at, Handoff.ended_at)
            .where(Handoff.claimed_at.is_not(None), Handoff.ended_at.is_not(None))
            .order_by(Handoff.id.desc()).limit(MEASURED_HANDOFFS)
        )).all()
        if durations:
            handling = sum((end - start).total_seconds() for start, end in durations) / (
                60 * len(durations))
        else:
            handling = float(self._default_minutes)
        since = now - ACTIVE_WITHIN
        working = await session.scalar(
            select(func.count(distinct(Handoff.operator_key))).where(
                Handoff.operator_key.is_not(None),
                or_(Handoff.ended_at.is_(None), Handoff.ended_at >= since),
                Handoff.claimed_at.is_not(None),
            )
        ) or 0
        minutes = max(1, math.ceil((ahead + 1) * handling / max(working, 1)))
        opens_at = None if self._hours.is_open(now) else self._hours.next_opening(now)
        return Wait(ahead, minutes, opens_at)

    def text(self, language: str, wait: Wait) -> str:
        if wait.opens_at is not None:
            when = f"{self._texts.date(language, wait.opens_at)} {wait.opens_at:%H:%M}"
            return self._texts.get(language, "handoff_closed", when=when,
                                   zone=str(self._hours.zone))
        return self._texts.get(language, "handoff_wait", ahead=wait.ahead, minutes=wait.minutes)
