"""SQLAlchemy tables of the order core. Money is stored in minor units (cents, grosze)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The channel the shop asked us to use; "": wherever the customer wrote last.
    preferred_channel: Mapped[str] = mapped_column(String(20), default="")
    email_undeliverable: Mapped[bool] = mapped_column(Boolean, default=False)  # it bounced
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerIdentity(Base):
    """A way to reach a customer on a channel: the key that recognises them across channels."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), default="general")
    price_minor: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    stock: Mapped[int] = mapped_column(Integer, default=0)
    expected_date: Mapped[date | None] = mapped_column(Date)
    returnable: Mapped[bool] = mapped_column(Boolean, default=True)
    # The catalogue (orders/catalogue.py): the name per language ({"en", "pl", "ru"}; `name`
    # keeps the first of them for readers that know one), the skus offered with it, and
    # sku + every name lower-cased and without diacritics, for search in SQL.
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    accessories: Mapped[list[str]] = mapped_column(JSON, default=list)
    search_text: Mapped[str] = mapped_column(Text, default="")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(Integer, default=0)
    delivery_method: Mapped[str] = mapped_column(String(32), default="courier")
    delivery_address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    postcode: Mapped[str] = mapped_column(String(16), default="")  # normalised, for verification
    payment_method: Mapped[str] = mapped_column(String(32), default="card")
    payment_status: Mapped[str] = mapped_column(String(32), default="pending")
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    delivery_date: Mapped[date | None] = mapped_column(Date)  # courier: the chosen day
    delivery_slot: Mapped[str | None] = mapped_column(String(32))  # courier: "09:00-12:00"
    pickup_location: Mapped[str | None] = mapped_column(String(64))  # store or pickup point id
    payment_due_date: Mapped[date | None] = mapped_column(Date)
    voucher_code: Mapped[str | None] = mapped_column(String(64))
    discount_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The payment page's token (/pay/<pay_token>): it shows what is due and pays, nothing
    # more. Kept in clear so that every payment link of the order is the same link (a
    # reminder sent last week still works); the chat links are ChatLink rows.
    pay_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[OrderHistory]] = relationship(
        back_populates="order", order_by="OrderHistory.id", cascade="all, delete-orphan"
    )
    customer: Mapped[Customer] = relationship()


class ChatLink(Base):
    """An order's chat link (web chat ?link=, Telegram /start): only its hash is kept, each
    issued link is a new row, and each one works until its own expiry."""

    __tablename__ = "chat_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderHistory(Base):
    """Every status change of an order, with its time and cause."""

    __tablename__ = "order_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="history")


class Return(Base):
    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    rma: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="requested")
    reason: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(32), default="drop_off")
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column()


Index("ix_orders_status", Order.status)
