"""What is kept of the webhooks once the shop has them (docs/webhooks.md, "Retention and
erasure"): delivered rows go `[webhooks] keep_days` after delivery; an erased customer's
delivered and failed rows go with the erasure. Rows not yet delivered always stay: the shop
must still learn of those changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from shop_api.tables import WebhookDelivery as Row
from storage.clock import utcnow
from storage.daily_cleanup import DailyCleanup
from storage.jobs import Clock

KIND = "webhook_retention"


async def delete_delivered_before(session: AsyncSession, before: datetime) -> int:
    deleted = await session.execute(delete(Row).where(Row.delivered_at < before))
    return int(getattr(deleted, "rowcount", 0) or 0)


async def delete_told(session: AsyncSession, ordering_keys: Sequence[str]) -> int:
    """Delete the delivered and failed rows of these ordering keys (orders.changes.ChangeLog
    .forget: a customer's erasure)."""
    if not ordering_keys:
        return 0
    deleted = await session.execute(delete(Row).where(
        Row.ordering_key.in_(list(ordering_keys)),
        or_(Row.delivered_at.is_not(None), Row.failed_at.is_not(None))))
    return int(getattr(deleted, "rowcount", 0) or 0)


class WebhookRetention(DailyCleanup):
    def __init__(self, keep_days: int, clock: Clock = utcnow) -> None:
        super().__init__(KIND, keep_days, delete_delivered_before, "delivered webhooks",
                         clock)
