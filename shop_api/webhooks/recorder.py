"""WebhookLog: the ChangeLog (orders/changes.py) that writes each change as a webhook row.

The body is rendered now, in the change's own transaction, and kept as the exact bytes sent:
every retry (and an admin's "send again") sends the same body with the same webhook-id. The
only cost to the customer's turn is one INSERT in the transaction it commits anyway; the
sender is woken after the commit, in this process.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.ext.asyncio import AsyncSession

from orders.service import OrderView
from shop_api.order_schemas import order_out
from shop_api.tables import WebhookDelivery
from shop_api.webhooks.retention import delete_told
from storage.clock import utcnow
from storage.database import after_commit
from storage.prepared import Prepared

_WOKEN = "webhooks_woken"  # session.info: the sender is woken once per transaction
# Compiled once (storage/prepared.py): an ORM insert costs the change's transaction about
# as much again as the rest of it (bench/webhook_cost.py).
_INSERT = Prepared(insert(WebhookDelivery).values(
    {column: bindparam(column) for column in (
        "webhook_id", "type", "ordering_key", "order_number", "body", "created_at",
        "retry_until", "attempts", "next_attempt_at")}))


def new_webhook_id() -> str:
    return "msg_" + uuid.uuid4().hex


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(type: str, at: datetime, order: OrderView | None, data: dict[str, Any]) -> str:
    """{"type", "timestamp", "data": {"order": <as GET /api/orders/{n}>, ...}} as JSON."""
    payload = {"type": type, "timestamp": iso_utc(at),
               "data": {"order": order_out(order) if order is not None else None, **data}}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def ordering_key(order: OrderView | None, data: dict[str, Any]) -> str:
    """Rows of one key leave in order: an order's, a conversation's, a customer's."""
    if order is not None:
        return order.number
    for kind in ("conversation", "customer"):
        if isinstance(data.get(kind), dict) and "id" in data[kind]:
            return f"{kind}:{data[kind]['id']}"
    return "other"


class WebhookLog:
    def __init__(
        self, retry_hours: int, wake: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.retry_hours = retry_hours
        self.wake = wake  # the sender's: set in composition/bootstrap.py once the sender exists
        self.clock = clock

    async def record(
        self, session: AsyncSession, type: str, *, order: OrderView | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        data = data or {}
        now = self.clock()
        await _INSERT.execute(
            session, webhook_id=new_webhook_id(), type=type,
            ordering_key=ordering_key(order, data),
            order_number=order.number if order is not None else None,
            body=render(type, now, order, data), created_at=now,
            retry_until=now + timedelta(hours=self.retry_hours), attempts=0,
            next_attempt_at=now,
        )
        if self.wake is not None and not session.info.get(_WOKEN):
            session.info[_WOKEN] = True
            after_commit(session, self.wake)

    async def forget(self, session: AsyncSession, keys: list[str]) -> None:
        await delete_told(session, keys)
