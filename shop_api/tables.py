"""The shop API's tables: webhooks to the shop (one row per webhook, written with the change
it tells of) and the idempotency keys of its requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(40), unique=True)  # the same on every try
    type: Mapped[str] = mapped_column(String(40))
    # Rows of one key leave in id order: an order's number, "conversation:<id>",
    # "customer:<id>".
    ordering_key: Mapped[str] = mapped_column(String(80))
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent, rendered when recorded
    created_at: Mapped[datetime] = mapped_column(index=True)
    retry_until: Mapped[datetime] = mapped_column()  # tried until then, then failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    # The process sending it now ([process] name) and until when; a lease that ran out
    # (its process died mid-send) lets another process take the row.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column()
    resent_at: Mapped[datetime | None] = mapped_column()  # an admin's "send again"
    resent_by: Mapped[str | None] = mapped_column(String(100))


# The sender's question: the first undelivered row of each key that is due.
Index("ix_webhook_deliveries_pending", WebhookDelivery.delivered_at, WebhookDelivery.failed_at,
      WebhookDelivery.ordering_key, WebhookDelivery.id)




class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of (API key's SHA-256, Idempotency-Key): one row per key and API key.
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))  # method, path and body
    status_code: Mapped[int | None]  # None: the first request is still being answered
    answer: Mapped[str | None] = mapped_column(Text)  # the JSON body, less any chat links
    relink: Mapped[bool] = mapped_column(default=False)  # the answer had links: issue new ones
    created_at: Mapped[datetime] = mapped_column(index=True)
