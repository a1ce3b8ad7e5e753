"""Use cases of the order core. Each takes the caller's session: one transaction per call site.

Callers get plain views (OrderView), never ORM objects, so that dialog and API code stays free
of lazy loading and sessions.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import JSON, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import Executable

from orders.changes import NO_CHANGES, ChangeLog
from orders.links import issue_chat_link, order_id_of_chat_link
from orders.products_stock import ProductsStock
from orders.reservations import Reservations, items_of
from orders.states import OrderStatus, check_move
from orders.tables import Customer, CustomerIdentity, Order, OrderHistory, OrderLine, Product
from storage.clock import utcnow
from storage.column_conversions import utc_from_json
from storage.database import insert_unless_exists
from storage.prepared import Prepared


class OrderError(Exception):
    """A rule of the order core refused the request; the caller turns it into a reply."""


class DuplicateOrder(OrderError):
    pass


class UnknownOrder(OrderError):
    pass


class UnknownProduct(OrderError):
    pass


class OutOfStock(OrderError):
    def __init__(self, skus: Sequence[str]) -> None:
        super().__init__("not enough stock for " + ", ".join(skus))
        self.skus = tuple(skus)


@dataclass(frozen=True, slots=True)
class LineView:
    sku: str
    name: str
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True, slots=True)
class HistoryView:
    from_status: str | None
    to_status: str
    cause: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderView:
    number: str
    status: OrderStatus
    customer_id: int
    customer_name: str
    customer_email: str | None
    customer_language: str
    preferred_channel: str | None
    customer_email_undeliverable: bool
    currency: str
    total_minor: int
    postcode: str
    delivery_method: str
    delivery_address: dict[str, Any]
    payment_method: str
    payment_status: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    pay_token: str  # the payment page's token: pays, and opens no chat (orders/links.py)
    created_at: datetime
    delivered_at: datetime | None
    lines: tuple[LineView, ...] = field(default_factory=tuple)
    history: tuple[HistoryView, ...] = field(default_factory=tuple)
    delivery_date: date | None = None
    delivery_slot: str | None = None
    pickup_location: str | None = None
    payment_due_date: date | None = None
    voucher_code: str | None = None
    discount_minor: int = 0  # already taken off total_minor
    refunded_minor: int = 0


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    name: str
    email: str | None
    language: str
    preferred_channel: str | None  # None: wherever they wrote last
    email_undeliverable: bool


def customer_of(order: OrderView) -> CustomerView:
    """The order's customer, as the order view carries them (no query)."""
    return CustomerView(
        id=order.customer_id, name=order.customer_name, email=order.customer_email,
        language=order.customer_language, preferred_channel=order.preferred_channel,
        email_undeliverable=order.customer_email_undeliverable,
    )


@dataclass(frozen=True, slots=True)
class NewCustomer:
    name: str
    email: str | None = None
    phone: str | None = None
    language: str = "en"
    preferred_channel: str | None = None  # None: wherever the customer writes


@dataclass(frozen=True, slots=True)
class NewOrder:
    number: str
    customer: NewCustomer
    lines: tuple[LineView, ...]
    currency: str
    delivery_method: str = "courier"
    delivery_address: dict[str, Any] = field(default_factory=dict)
    payment_method: str = "card"
    payment_status: str = "pending"
    # CONFIRMED: the shop confirmed it already (by phone, in the shop): no confirmation asked.
    status: OrderStatus = OrderStatus.PENDING_CONFIRMATION


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What the shop changed in an order; None: left as it is."""

    lines: tuple[LineView, ...] | None = None
    delivery_method: str | None = None
    delivery_address: dict[str, Any] | None = None
    payment_method: str | None = None
    payment_status: str | None = None


@dataclass(frozen=True, slots=True)
class StockView:
    sku: str
    name: str
    available: int
    expected_date: date | None


class OrderNotifier(Protocol):
    """Tells a customer about a change of their order (implemented outside orders/).

    Called inside the same transaction as the change, so the message is durable with it.
    """

    async def order_changed(
        self, session: AsyncSession, order: OrderView, event: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """details: the event's own fields (a reason, an amount_minor)."""
        ...


def normalise_postcode(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


def normalise_email(text: str) -> str:
    return text.strip().lower()


# Statuses whose goods are taken from stock: reserved when an order leaves pending for one.
_RESERVED = frozenset({
    OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
})

_HELD = frozenset({OrderStatus.PENDING_CONFIRMATION, OrderStatus.CONFIRMED})
_GONE = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})  # the goods left the shop

EVENT_TARGETS: dict[str, OrderStatus] = {
    "shipped": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
    "return_received": OrderStatus.RETURNED,
}


class ReturnReceiver(Protocol):
    """Records a received return and its refund (orders/returns.py ReturnDesk)."""

    async def receive(
        self, session: AsyncSession, number: str, cause: str, check: bool = True
    ) -> OrderView:
        ...


# An order as the dialog sees it (OrderService._view): OrderView's fields, and the row id.
_ORDER_VIEW = {
    "id": Order.id, "number": Order.number, "status": Order.status,
    "customer_id": Order.customer_id, "customer_name": Customer.name,
    "customer_email": Customer.email, "customer_language": Customer.language,
    "preferred_channel": Customer.preferred_channel,
    "customer_email_undeliverable": Customer.email_undeliverable,
    "currency": Order.currency, "total_minor": Order.total_minor, "postcode": Order.postcode,
    "delivery_method": Order.delivery_method, "delivery_address": Order.delivery_address,
    "payment_method": Order.payment_method, "payment_status": Order.payment_status,
    "carrier": Order.carrier, "tracking_number": Order.tracking_number,
    "tracking_url": Order.tracking_url, "pay_token": Order.pay_token,
    "created_at": Order.created_at, "delivered_at": Order.delivered_at,
    "delivery_date": Order.delivery_date, "delivery_slot": Order.delivery_slot,
    "pickup_location": Order.pickup_location, "payment_due_date": Order.payment_due_date,
    "voucher_code": Order.voucher_code, "discount_minor": Order.discount_minor,
    "refunded_minor": Order.refunded_minor,
}


def _order_view_statement(dialect_name: str) -> Executable:
    """The order, its customer, its lines and its history in one statement: the lines and
    the history as JSON arrays of rows, each row's id first (sorted in Python, so that no
    aggregate needs an ORDER BY: SQLite before 3.44 has none)."""
    group, array = ((func.json_agg, func.json_build_array) if dialect_name == "postgresql"
                    else (func.json_group_array, func.json_array))

    def rows_of(table: Any, *columns: Any) -> Any:
        return (select(group(array(table.id, *columns), type_=JSON))
                .where(table.order_id == Order.id).scalar_subquery())

    return (
        select(*_ORDER_VIEW.values(),
               rows_of(OrderLine, OrderLine.sku, OrderLine.name, OrderLine.quantity,
                       OrderLine.unit_price_minor),
               rows_of(OrderHistory, OrderHistory.from_status, OrderHistory.to_status,
                       OrderHistory.cause, OrderHistory.at))
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.number == bindparam("number"))
    )


_ORDER_VIEW_ROW = Prepared(_order_view_statement)


def proven_by(order: OrderView, proofs: Sequence[str]) -> bool:
    """Whether one of the proofs (the order's email or delivery postcode) matches it."""
    for proof in proofs:
        if "@" in proof:
            if order.customer_email and normalise_email(proof) == order.customer_email:
                return True
        elif order.postcode and secrets.compare_digest(
            normalise_postcode(proof).encode(), order.postcode.encode()
        ):
            return True
    return False


class OrderService:
    """The order use cases. Stateless: safe to share between tasks."""

    # Wired in composition/bootstrap.py: return_received goes through the returns desk, which
    # refunds.
    return_receiver: ReturnReceiver | None = None
    # The changes made here are recorded for the shop (orders/changes.py).
    changes: ChangeLog = NO_CHANGES

    def __init__(
        self, link_token_days: int = 30, clock: Callable[[], datetime] = utcnow, *,
        reservations: Reservations | None = None, changes: ChangeLog = NO_CHANGES,
    ) -> None:
        self.link_token_days = link_token_days  # [security] link_token_days
        self.clock = clock
        # The shop's own products table unless the configured inventory is given.
        self.reservations = reservations or Reservations(ProductsStock())
        self.changes = changes

    async def create_order(self, session: AsyncSession, new: NewOrder, cause: str) -> OrderView:
        exists = await session.scalar(select(Order.id).where(Order.number == new.number))
        if exists is not None:
            raise DuplicateOrder(new.number)
        customer = await self.find_or_create_customer(session, new.customer)
        if new.customer.preferred_channel:  # the shop knows best how to reach its customer now
            customer.preferred_channel = new.customer.preferred_channel
        order = Order(
            number=new.number,
            customer_id=customer.id,
            status=new.status,
            currency=new.currency.upper(),
            total_minor=sum(line.quantity * line.unit_price_minor for line in new.lines),
            delivery_method=new.delivery_method,
            delivery_address=new.delivery_address,
            postcode=normalise_postcode(str(new.delivery_address.get("postcode", ""))),
            payment_method=new.payment_method,
            payment_status=new.payment_status,
            pay_token=secrets.token_urlsafe(16),
            lines=[
                OrderLine(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price_minor,
                )
                for line in new.lines
            ],
            history=[OrderHistory(to_status=new.status, cause=cause)],
        )
        session.add(order)
        try:
            await session.flush()
        except IntegrityError:
            raise DuplicateOrder(new.number) from None
        if new.status is OrderStatus.CONFIRMED:
            # Confirmed by the shop: its goods are taken, as far as there is stock.
            await self.reservations.reserve(session, new.number, items_of(new.lines))
        return await self._view(session, new.number)

    async def find_or_create_customer(self, session: AsyncSession, new: NewCustomer) -> Customer:
        email = normalise_email(new.email) if new.email else None
        if email:
            customer = await session.scalar(select(Customer).where(Customer.email == email))
            if customer is not None:
                return customer
            # Two first orders of one new customer may arrive at once: the later insert
            # finds the earlier one's row instead of failing on the unique email.
            await insert_unless_exists(
                session,
                Customer.__table__,
                {"name": new.name, "email": email, "phone": new.phone,
                 "language": new.language, "preferred_channel": new.preferred_channel or ""},
                "email",
            )
            created = await session.scalar(
                select(Customer).where(Customer.email == email).execution_options(
                    populate_existing=True
                )
            )
            assert created is not None  # inserted now, or by the transaction we waited for
            return created
        customer = Customer(
            name=new.name,
            phone=new.phone,
            language=new.language,
            preferred_channel=new.preferred_channel or "",
        )
        session.add(customer)
        await session.flush()
        return customer

    async def customer_by_email(self, session: AsyncSession, email: str) -> Customer | None:
        return await session.scalar(
            select(Customer).where(Customer.email == normalise_email(email))
        )

    async def mark_email_undeliverable(self, session: AsyncSession, email: str) -> bool:
        """A bounce: stop writing to this address; False if no customer has it."""
        result = await session.execute(
            update(Customer)
            .where(Customer.email == normalise_email(email))
            .values(email_undeliverable=True)
        )
        return bool(getattr(result, "rowcount", 0))

    async def customer_for_identity(
        self, session: AsyncSession, channel: str, external_id: str, email: str | None = None
    ) -> int | None:
        """The customer this platform identity belongs to; else the customer with `email`
        (the sender's address, when the channel vouches that its senders are addresses)."""
        customer_id = await session.scalar(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.channel == channel, CustomerIdentity.external_id == external_id
            )
        )
        if customer_id is None and email is not None:
            customer_id = await session.scalar(
                select(Customer.id).where(Customer.email == normalise_email(email))
            )
        return customer_id

    async def get_customer(self, session: AsyncSession, customer_id: int) -> CustomerView | None:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            return None
        return CustomerView(
            id=customer.id, name=customer.name, email=customer.email,
            language=customer.language, preferred_channel=customer.preferred_channel or None,
            email_undeliverable=customer.email_undeliverable,
        )

    async def identities_of(self, session: AsyncSession, customer_id: int) -> dict[str, str]:
        """The customer's identity on each channel (the most recent one per channel)."""
        rows = await session.execute(
            select(CustomerIdentity.channel, CustomerIdentity.external_id)
            .where(CustomerIdentity.customer_id == customer_id)
            .order_by(CustomerIdentity.id)
        )
        return {channel: external_id for channel, external_id in rows}

    async def link_identity(
        self, session: AsyncSession, customer_id: int, channel: str, external_id: str
    ) -> None:
        found = await session.scalar(
            select(CustomerIdentity).where(
                CustomerIdentity.channel == channel, CustomerIdentity.external_id == external_id
            )
        )
        if found is None:
            session.add(
                CustomerIdentity(customer_id=customer_id, channel=channel, external_id=external_id)
            )
        else:
            found.customer_id = customer_id

    async def get_order(self, session: AsyncSession, number: str) -> OrderView | None:
        try:
            return await self._view(session, number)
        except UnknownOrder:
            return None

    async def order_by_link_token(self, session: AsyncSession, token: str) -> OrderView | None:
        """The order whose chat link (sent to its customer) carries this token; None when the
        token is unknown, expired, or any other order token (a payment page's)."""
        order_id = await order_id_of_chat_link(session, token, self.clock())
        if order_id is None:
            return None
        number = await session.scalar(select(Order.number).where(Order.id == order_id))
        return await self._view(session, number) if number is not None else None

    async def order_by_pay_token(self, session: AsyncSession, token: str) -> OrderView | None:
        """The order whose payment page this is; a chat link's token is no payment token."""
        number = await session.scalar(select(Order.number).where(Order.pay_token == token))
        return await self._view(session, number) if number is not None else None

    async def issue_link_token(self, session: AsyncSession, number: str) -> str:
        """A new chat link token for the order, valid for link_token_days; older ones stay
        valid until their own expiry."""
        order_id = await session.scalar(select(Order.id).where(Order.number == number))
        if order_id is None:
            raise UnknownOrder(number)
        return await issue_chat_link(
            session, order_id, timedelta(days=self.link_token_days), self.clock()
        )

    async def verified_order(
        self, session: AsyncSession, number: str, proofs: Sequence[str]
    ) -> OrderView | None:
        """The order if one of the proofs (its email or delivery postcode) matches, else None.

        The answer is the same for an unknown number and a wrong proof, so that nobody can
        learn which order numbers exist.
        """
        order = await self.get_order(session, number)
        return order if order is not None and proven_by(order, proofs) else None

    async def orders_of_customer(
        self, session: AsyncSession, customer_id: int, limit: int = 10
    ) -> list[OrderView]:
        numbers = await session.scalars(
            select(Order.number)
            .where(Order.customer_id == customer_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return [await self._view(session, number) for number in numbers]

    async def move(
        self, session: AsyncSession, number: str, target: OrderStatus, cause: str,
        check: bool = True, **changes: Any,
    ) -> OrderView:
        """Move an order to target status (IllegalTransition if the machine refuses).

        check=False: a fact from the shop (orders/facts.py), taken from any status; its
        stock is reserved as far as there is any, since the shop has the goods in hand.
        """
        order = await self._load(session, number)
        current = OrderStatus(order.status)
        if check:
            check_move(current, target)
        if current is OrderStatus.PENDING_CONFIRMATION and target in _RESERVED:
            attempt = await self.reservations.reserve(session, number, items_of(order.lines))
            if attempt.short and check:
                raise OutOfStock(list(attempt.short))
        elif target is OrderStatus.CANCELLED and current is OrderStatus.CONFIRMED:
            await self.reservations.release(session, number)
        if target in _GONE and current in _HELD:  # the goods left: the reservation is a sale
            await self.reservations.commit(session, number)
        if target is OrderStatus.DELIVERED and current is not OrderStatus.DELIVERED:
            order.delivered_at = utcnow()
        for name, value in changes.items():
            setattr(order, name, value)
        order.status = target
        order.history.append(OrderHistory(from_status=current, to_status=target, cause=cause))
        await session.flush()
        return await self._view(session, number)

    async def apply_event(
        self, session: AsyncSession, number: str, event: str, cause: str, **details: Any
    ) -> OrderView:
        """A shop event: shipped, delivered, payment_received or return_received."""
        if event == "payment_received":
            order = await self._load(session, number)
            order.payment_status = "paid"
            order.history.append(
                OrderHistory(from_status=order.status, to_status=order.status, cause=cause)
            )
            await session.flush()
            return await self._view(session, number)
        if event == "return_received" and self.return_receiver is not None:
            return await self.return_receiver.receive(session, number, cause)
        return await self.move(session, number, EVENT_TARGETS[event], cause, **details)

    async def record_refund(
        self, session: AsyncSession, number: str, amount_minor: int, cause: str
    ) -> OrderView:
        """The shop refunded the customer itself: counted with the bot's own refunds."""
        order = await self._load(session, number)
        order.refunded_minor += amount_minor
        order.history.append(OrderHistory(
            from_status=order.status, to_status=order.status,
            cause=f"{cause}: {amount_minor / 100:.2f} {order.currency}"[:200],
        ))
        await session.flush()
        return await self._view(session, number)

    async def update_order(
        self, session: AsyncSession, number: str, cause: str, change: OrderUpdate
    ) -> OrderView:
        """The shop changed the order (its `updated` fact): what it names is replaced, the
        status stays. New lines replace the old ones; a confirmed order's stock follows them."""
        order = await self._load(session, number)
        if change.lines is not None:
            reserved = order.status == OrderStatus.CONFIRMED
            if reserved:
                await self.reservations.release(session, number)
            order.lines = [OrderLine(sku=line.sku, name=line.name, quantity=line.quantity,
                                     unit_price_minor=line.unit_price_minor)
                           for line in change.lines]
            goods = sum(line.quantity * line.unit_price_minor for line in change.lines)
            order.total_minor = max(0, goods - order.discount_minor)
            if reserved:  # the shop has decided: reserve what there is
                await self.reservations.reserve(session, number, items_of(change.lines))
        if change.delivery_method is not None:
            order.delivery_method = change.delivery_method
        if change.delivery_address is not None:
            order.delivery_address = change.delivery_address
            order.postcode = normalise_postcode(str(change.delivery_address.get("postcode", "")))
        if change.payment_method is not None:
            order.payment_method = change.payment_method
        if change.payment_status is not None:
            order.payment_status = change.payment_status
        order.history.append(
            OrderHistory(from_status=order.status, to_status=order.status, cause=cause)
        )
        await session.flush()
        return await self._view(session, number)

    async def set_stock(
        self, session: AsyncSession, sku: str, available: int, expected_date: date | None
    ) -> tuple[StockView, int]:
        """Set a product's stock; returns the new view and the previous quantity."""
        product = await session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            raise UnknownProduct(sku)
        previous = product.stock
        product.stock = available
        product.expected_date = expected_date
        await session.flush()
        return StockView(sku, product.name, available, expected_date), previous

    async def stock(self, session: AsyncSession, sku: str) -> StockView | None:
        product = await session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            return None
        return StockView(product.sku, product.name, product.stock, product.expected_date)

    async def count_orders(self, session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count(Order.id))) or 0)

    async def _load(self, session: AsyncSession, number: str) -> Order:
        order = await session.scalar(
            select(Order)
            .where(Order.number == number)
            .options(selectinload(Order.lines), selectinload(Order.history))
        )
        if order is None:
            raise UnknownOrder(number)
        return order

    async def _view(self, session: AsyncSession, number: str) -> OrderView:
        """One statement run by the driver (storage/prepared.py): asked on most turns."""
        found = await _ORDER_VIEW_ROW.first(session, number=number)
        if found is None:
            raise UnknownOrder(number)
        fields = dict(zip(_ORDER_VIEW, found[:-2], strict=True))
        lines, history = found[-2] or (), found[-1] or ()  # PostgreSQL: NULL for no rows
        del fields["id"]
        fields["status"] = OrderStatus(fields["status"])
        fields["preferred_channel"] = fields["preferred_channel"] or None
        fields["delivery_address"] = dict(fields["delivery_address"] or {})
        return OrderView(
            **fields,
            lines=tuple(LineView(*line[1:]) for line in sorted(lines)),
            history=tuple(HistoryView(from_status, to_status, cause, utc_from_json(at))
                          for _, from_status, to_status, cause, at in sorted(history)),
        )
