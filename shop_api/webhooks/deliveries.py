"""What admins see of the webhooks and what they do with them (the console's deliveries
page), and the backlog figures of /health and /metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop_api.tables import WebhookDelivery as Row
from shop_api.webhooks.recorder import iso_utc
from storage.clock import utcnow
from storage.database import Database, after_commit

log = logging.getLogger(__name__)

Status = Literal["pending", "delivered", "failed"]
MAX_SHOWN = 200


def _status_of(row: Row) -> Status:
    if row.delivered_at is not None:
        return "delivered"
    return "failed" if row.failed_at is not None else "pending"


def _where(status: Status) -> ColumnElement[bool]:
    if status == "delivered":
        return Row.delivered_at.is_not(None)
    if status == "failed":
        return Row.failed_at.is_not(None)
    return and_(Row.delivered_at.is_(None), Row.failed_at.is_(None))


def _time(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment is not None else None


def delivery_json(row: Row) -> dict[str, Any]:
    return {
        "id": row.id, "webhook_id": row.webhook_id, "type": row.type,
        "order": row.order_number, "ordering_key": row.ordering_key,
        "status": _status_of(row), "attempts": row.attempts,
        "last_status_code": row.last_status_code, "last_error": row.last_error,
        "created_at": _time(row.created_at), "next_attempt_at": _time(row.next_attempt_at),
        "last_attempt_at": _time(row.last_attempt_at),
        "delivered_at": _time(row.delivered_at), "failed_at": _time(row.failed_at),
        "retry_until": _time(row.retry_until),
        "resent_at": _time(row.resent_at), "resent_by": row.resent_by,
        "payload": json.loads(row.body),
    }


@dataclass(frozen=True, slots=True)
class Oldest:
    id: int
    age_seconds: int


async def oldest_undelivered(session: AsyncSession, now: datetime) -> Oldest | None:
    """The oldest row neither delivered nor failed (for /health)."""
    found = (await session.execute(
        select(Row.id, Row.created_at).where(_where("pending")).order_by(Row.id).limit(1)
    )).first()
    if found is None:
        return None
    return Oldest(found.id, max(int((now - found.created_at).total_seconds()), 0))


async def pending_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(Row.id)).where(_where("pending"))) or 0)


class WebhookDeliveries:
    """The admins' view of the webhook rows, and "send again"."""

    def __init__(
        self, database: Database, retry_hours: int, wake: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._database = database
        self.retry_hours = retry_hours
        self._wake = wake
        self.clock = clock

    async def recent(
        self, status: Status | None = None, type: str | None = None,
        order: str | None = None, limit: int = MAX_SHOWN,
    ) -> list[dict[str, Any]]:
        """Newest first."""
        query = select(Row).order_by(Row.id.desc()).limit(min(limit, MAX_SHOWN))
        if status is not None:
            query = query.where(_where(status))
        if type:
            query = query.where(Row.type == type)
        if order:
            query = query.where(Row.order_number == order.strip().upper())
        async with self._database.transaction() as session:
            return [delivery_json(row) for row in await session.scalars(query)]

    async def resend(self, delivery_id: int, by: str) -> dict[str, Any] | None:
        """Queue the row again with a new retry window, with its own webhook-id and body
        (a delivered one is replayed as it was); None for an unknown id."""
        now = self.clock()
        async with self._database.transaction() as session:
            changed = await session.scalar(
                update(Row).where(Row.id == delivery_id).values(
                    delivered_at=None, failed_at=None, attempts=0, next_attempt_at=now,
                    retry_until=now + timedelta(hours=self.retry_hours),
                    resent_at=now, resent_by=by[:100],
                ).returning(Row.webhook_id))
            if changed is None:
                return None
            log.info("webhook %s (row %s) queued again by %s", changed, delivery_id, by)
            after_commit(session, self._wake)
            row = await session.get(Row, delivery_id, populate_existing=True)
            assert row is not None
            return delivery_json(row)
