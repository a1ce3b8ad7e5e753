"""SQLAlchemy tables of the order core. Money is stored in minor units (cents, grosze)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base
from storage.clock import utcnow


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


class CatalogueVersion(Base):
    """One row whose token changes, in the same transaction, with every change to the words
    that name products (a product created, renamed or deleted; orders/catalogue_version.py).
    Each process keeps its product index while the token it was built at stays. Stock and
    prices do not change it: they are read live."""

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    token: Mapped[int] = mapped_column(BigInteger)  # random: no two catalogues share one


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
    # The customer's photo of the damage: an attachment id (dialog's attachments table; a
    # plain value, as the order core knows nothing of chats).
    photo: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column()


Index("ix_orders_status", Order.status)




class Voucher(Base):
    """A code the shop gave out: a percentage or an amount off, above a minimum total."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # stored upper-case
    percent_off: Mapped[int] = mapped_column(Integer, default=0)
    amount_off_minor: Mapped[int] = mapped_column(Integer, default=0)
    min_total_minor: Mapped[int] = mapped_column(Integer, default=0)
    valid_until: Mapped[date | None] = mapped_column(Date)
    single_use: Mapped[bool] = mapped_column(Boolean, default=True)
    used_by_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL")
    )
    used_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockSubscription(Base):
    """A customer waiting to be told that a product is back in stock."""

    __tablename__ = "stock_subscriptions"
    __table_args__ = (UniqueConstraint("customer_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column()


class ReturnRefund(Base):
    """What was refunded for a received return, with the payment provider's reference."""

    __tablename__ = "return_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("returns.id", ondelete="CASCADE"), unique=True
    )
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    provider_reference: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockReservation(Base):
    __tablename__ = "stock_reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    items: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {sku: quantity} held
    status: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(120))  # the inventory's own id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorTask(Base):
    __tablename__ = "operator_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()
    done_by: Mapped[str | None] = mapped_column(String(64))  # the operator's username


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # confirmation | return_label | invoice
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Backorder(Base):
    """Incoming stock reserved for an order line whose customer chose to wait."""

    __tablename__ = "backorders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    expected_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="reserved")  # reserved|released
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrossSellOffer(Base):
    """The one accessory offered for an order: its row is what makes it "once, never more"."""

    __tablename__ = "cross_sell_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          unique=True)
    sku: Mapped[str] = mapped_column(String(64))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
