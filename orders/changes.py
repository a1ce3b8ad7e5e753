"""The changes the bot makes, told to whoever keeps a record of them (the shop's webhooks).

The order core and the dialog call `record` inside the transaction that makes the change, so
that the record commits or rolls back with it. Facts the shop itself sent are not recorded:
the shop knows them already. The implementation lives outside orders/ (shop_api/webhooks/);
NO_CHANGES, the default, records nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:  # orders/service.py holds a ChangeLog
    from orders.service import OrderView

ORDER_CONFIRMED = "order.confirmed"
ORDER_CANCELLED = "order.cancelled"
ORDER_DELIVERY_CHANGED = "order.delivery_changed"
ORDER_RETURN_REQUESTED = "order.return_requested"
ORDER_PAYMENT_LINK_CREATED = "order.payment_link_created"
CONVERSATION_ESCALATED = "conversation.escalated"
CONVERSATION_RESOLVED = "conversation.resolved"
CUSTOMER_ERASED = "customer.erased"
TYPES = (
    ORDER_CONFIRMED, ORDER_CANCELLED, ORDER_DELIVERY_CHANGED, ORDER_RETURN_REQUESTED,
    ORDER_PAYMENT_LINK_CREATED, CONVERSATION_ESCALATED, CONVERSATION_RESOLVED, CUSTOMER_ERASED,
)


class ChangeLog(Protocol):
    async def record(
        self, session: AsyncSession, type: str, *, order: OrderView | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Record a change in the caller's transaction. `order`: the order as it is now;
        `data`: the change's own fields (a conversation's or customer's id among them when
        there is no order)."""
        ...

    async def forget(self, session: AsyncSession, keys: list[str]) -> None:
        """An erasure, in the caller's transaction: drop what was already told (or given up
        on) about these orders (numbers), "conversation:<id>"s and "customer:<id>"s; what is
        still to be told stays."""
        ...


class NoChanges:
    """Records nothing: webhooks are off."""

    async def record(
        self, session: AsyncSession, type: str, *, order: OrderView | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        return None

    async def forget(self, session: AsyncSession, keys: list[str]) -> None:
        return None


NO_CHANGES: ChangeLog = NoChanges()


def chosen_delivery(order: OrderView) -> dict[str, Any]:
    """The delivery as the customer chose it (GET /api/orders/{n} names only the method)."""
    return {
        "method": order.delivery_method,
        "date": order.delivery_date.isoformat() if order.delivery_date else None,
        "slot": order.delivery_slot,
        "pickup_location": order.pickup_location,
        "address": order.delivery_address,
    }


def confirmed(order: OrderView) -> dict[str, Any]:
    """order.confirmed's own fields: what the customer chose while confirming."""
    return {
        "delivery": chosen_delivery(order),
        "payment": {"method": order.payment_method, "status": order.payment_status},
        "voucher": ({"code": order.voucher_code, "discount": order.discount_minor / 100}
                    if order.voucher_code else None),
        "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                   "unit_price": line.unit_price_minor / 100} for line in order.lines],
        "total": order.total_minor / 100,
    }
