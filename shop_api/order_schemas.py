"""The shop API's request and response bodies (DESIGN.md, "Shop API")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from orders.money import money
from orders.service import LineView, NewCustomer, NewOrder, OrderUpdate, OrderView
from orders.states import OrderStatus

Language = Literal["en", "pl", "ru"]
Channel = Literal["webchat", "telegram", "slack", "email"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(_Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    language: Language = "en"
    # Where to write to the customer about their orders; absent: the channel they used last.
    preferred_channel: Channel | None = None


class LineIn(_Body):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class DeliveryIn(_Body):
    method: Literal["courier", "pickup_point", "store_pickup"] = "courier"
    address: dict[str, Annotated[str, Field(max_length=200)]] = Field(default_factory=dict)


class PaymentIn(_Body):
    method: Annotated[str, Field(min_length=1, max_length=32)] = "card"
    status: Literal["pending", "paid"] = "pending"
    # The day payment is due; an unpaid order gets reminders before it (orders/billing.py).
    due_date: date | None = None


class OrderIn(_Body):
    # Letters, digits and hyphens: a number must fit in a URL path segment and be one a
    # customer can type in a chat and the bot can recognise ("A-1001", "2024-05-123").
    number: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    ]
    customer: CustomerIn
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
    delivery: DeliveryIn = Field(default_factory=DeliveryIn)
    payment: PaymentIn = Field(default_factory=PaymentIn)
    # "confirmed": the shop has confirmed it already; the bot asks the customer nothing.
    status: Literal["pending_confirmation", "confirmed"] = "pending_confirmation"

    def to_new_order(self) -> NewOrder:
        return NewOrder(
            number=self.number.upper(),
            customer=NewCustomer(
                name=self.customer.name,
                email=self.customer.email,
                phone=self.customer.phone,
                language=self.customer.language,
                preferred_channel=self.customer.preferred_channel,
            ),
            lines=tuple(
                LineView(line.sku, line.name, line.quantity, int(line.unit_price * 100))
                for line in self.lines
            ),
            currency=self.currency,
            delivery_method=self.delivery.method,
            delivery_address=dict(self.delivery.address),
            payment_method=self.payment.method,
            payment_status=self.payment.status,
            status=OrderStatus(self.status),
        )


class ShippedEvent(_Body):
    type: Literal["shipped"]
    carrier: Annotated[str, Field(min_length=1, max_length=64)]
    tracking_number: Annotated[str, Field(min_length=1, max_length=64)]
    tracking_url: Annotated[str, Field(max_length=500, pattern=r"^https?://")] | None = None


class DeliveredEvent(_Body):
    type: Literal["delivered"]


class PaymentReceivedEvent(_Body):
    type: Literal["payment_received"]


class ReturnReceivedEvent(_Body):
    type: Literal["return_received"]


class ConfirmedEvent(_Body):
    type: Literal["confirmed"]


Reason = Annotated[str, Field(min_length=1, max_length=200)]


class CancelledEvent(_Body):
    type: Literal["cancelled"]
    reason: Reason | None = None


class OutForDeliveryEvent(_Body):
    type: Literal["out_for_delivery"]


class DeliveryFailedEvent(_Body):
    type: Literal["delivery_failed"]
    reason: Reason | None = None


class RefundedEvent(_Body):
    type: Literal["refunded"]
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]

    @property
    def amount_minor(self) -> int:
        return int(self.amount * 100)


class UpdatedEvent(_Body):
    """The shop changed the order: each part given replaces the order's one."""

    type: Literal["updated"]
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)] | None = None
    delivery: DeliveryIn | None = None
    payment: PaymentIn | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> UpdatedEvent:
        if self.lines is None and self.delivery is None and self.payment is None:
            raise ValueError("updated needs lines, delivery or payment")
        return self

    def change(self) -> OrderUpdate:
        # Only the fields the shop sent: a default ("card") must not overwrite the order's.
        delivery = self.delivery.model_dump(exclude_unset=True) if self.delivery else {}
        payment = self.payment.model_dump(exclude_unset=True) if self.payment else {}
        address = delivery.get("address")
        return OrderUpdate(
            lines=None if self.lines is None else tuple(
                LineView(line.sku, line.name, line.quantity, int(line.unit_price * 100))
                for line in self.lines
            ),
            delivery_method=delivery.get("method"),
            delivery_address=dict(address) if address is not None else None,
            payment_method=payment.get("method"),
            payment_status=payment.get("status"),
        )


OrderEvent = Annotated[
    ShippedEvent | DeliveredEvent | PaymentReceivedEvent | ReturnReceivedEvent
    | ConfirmedEvent | CancelledEvent | OutForDeliveryEvent | DeliveryFailedEvent
    | RefundedEvent | UpdatedEvent,
    Field(discriminator="type"),
]


class StockIn(_Body):
    available: Annotated[int, Field(ge=0, le=1_000_000_000)]
    expected_date: date | None = None


def order_out(order: OrderView, links: dict[str, str | None] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": order.number,
        "status": order.status.value,
        "customer": {
            "name": order.customer_name,
            "email": order.customer_email,
            "language": order.customer_language,
            "preferred_channel": order.preferred_channel,
        },
        "lines": [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity,
             "unit_price": money(line.unit_price_minor)}
            for line in order.lines
        ],
        "currency": order.currency,
        "total": money(order.total_minor),
        "delivery": {"method": order.delivery_method, "address": order.delivery_address},
        "payment": {
            "method": order.payment_method,
            "status": order.payment_status,
            "due_date": order.payment_due_date.isoformat() if order.payment_due_date else None,
        },
        "tracking": {
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "tracking_url": order.tracking_url,
        },
        "history": [
            {"from": h.from_status, "to": h.to_status, "cause": h.cause, "at": h.at.isoformat()}
            for h in order.history
        ],
        "created_at": order.created_at.isoformat(),
    }
    if links is not None:
        body["links"] = links
    return body
