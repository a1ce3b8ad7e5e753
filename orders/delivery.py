"""Delivery choices: methods, working days and slots, and changing them until shipping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.changes import ORDER_DELIVERY_CHANGED, chosen_delivery
from orders.inventory import Inventory
from orders.service import (
    OrderError,
    OrderService,
    OrderView,
    UnknownOrder,
    normalise_postcode,
)
from orders.states import OrderStatus
from orders.tables import Order, OrderHistory
from storage.clock import utcnow

METHODS = ("courier", "pickup_point", "store")
CHANGEABLE = (OrderStatus.PENDING_CONFIRMATION, OrderStatus.CONFIRMED)
DAYS_OFFERED = 5


class AlreadyShipped(OrderError):
    """Delivery can no longer change; the order's tracking link is what the customer needs."""

    def __init__(self, order: OrderView) -> None:
        super().__init__(f"order {order.number} is {order.status}")
        self.order = order


class NotChangeable(OrderError):
    """Cancelled or returned orders have no delivery to change."""


class BadDelivery(OrderError):
    """The day is not a coming working day, the slot is not one of the shop's, or the store
    does not have every item."""


def split_address(text: str, postcode: str) -> dict[str, str]:
    """{street, city, postcode} from an address written on one line around its postcode:
    "ul. Marszałkowska 10, 00-001 Warszawa", "10 Downing St, London SW1A 2AA",
    "ул. Баумана, 8, Казань, 420000". The last comma-separated part is the city."""
    rest = " ".join(text.replace(postcode, " ", 1).split()) if postcode else " ".join(text.split())
    parts = [part.strip() for part in rest.split(",") if part.strip()]
    if len(parts) < 2:
        return {"street": parts[0] if parts else "", "city": "", "postcode": postcode}
    return {"street": ", ".join(parts[:-1]), "city": parts[-1], "postcode": postcode}


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    method: str
    delivery_date: date | None = None
    delivery_slot: str | None = None
    pickup_location: str | None = None


def working_days(today: date, count: int = DAYS_OFFERED) -> list[date]:
    """The next `count` days after today from Monday to Friday."""
    days: list[date] = []
    day = today
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def check_courier(plan: DeliveryPlan, slots: Sequence[str], today: date) -> None:
    if plan.delivery_date is None or plan.delivery_date <= today:
        raise BadDelivery("the delivery day must be after today")
    if plan.delivery_date.weekday() >= 5:
        raise BadDelivery("couriers deliver Monday to Friday")
    if plan.delivery_slot not in slots:
        raise BadDelivery(f"slot {plan.delivery_slot} is not offered")


async def change_delivery(
    session: AsyncSession, orders: OrderService, inventory: Inventory, number: str,
    plan: DeliveryPlan | None, slots: Sequence[str], today: date,
    address: dict[str, Any] | None = None,
) -> OrderView:
    """Change an order's delivery (plan) and/or address until it ships, re-checked against
    the slots and the stores' stock."""
    order = await orders.get_order(session, number)
    if order is None:
        raise UnknownOrder(number)
    if order.status not in CHANGEABLE:
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            raise AlreadyShipped(order)
        raise NotChangeable(number)
    values: dict[str, Any] = {"updated_at": utcnow()}
    if plan is not None:
        await _check(session, inventory, order, plan, slots, today)
        values.update(
            delivery_method=plan.method,
            delivery_date=plan.delivery_date if plan.method == "courier" else None,
            delivery_slot=plan.delivery_slot if plan.method == "courier" else None,
            pickup_location=plan.pickup_location if plan.method != "courier" else None,
        )
    if address is not None:  # the new postcode is the one that proves the order from now on
        values["delivery_address"] = {**order.delivery_address, **address}
        if address.get("postcode"):
            values["postcode"] = normalise_postcode(address["postcode"])
    order_id = await session.scalar(select(Order.id).where(Order.number == number))
    await session.execute(update(Order).where(Order.id == order_id).values(**values))
    session.add(OrderHistory(order_id=order_id, from_status=order.status,
                             to_status=order.status, cause="customer changed the delivery"))
    await session.flush()
    changed = await orders.get_order(session, number)
    assert changed is not None
    await orders.changes.record(session, ORDER_DELIVERY_CHANGED, order=changed, data={
        "delivery": chosen_delivery(changed), "previous": chosen_delivery(order)})
    return changed


async def _check(
    session: AsyncSession, inventory: Inventory, order: OrderView, plan: DeliveryPlan,
    slots: Sequence[str], today: date,
) -> None:
    if plan.method not in METHODS:
        raise BadDelivery(f"unknown delivery method {plan.method}")
    if plan.method == "courier":
        check_courier(plan, slots, today)
    if plan.method == "store":
        wanted = {line.sku: line.quantity for line in order.lines}
        stores = await inventory.stores_with(session, wanted)
        if plan.pickup_location not in {store.id for store in stores}:
            raise BadDelivery(f"store {plan.pickup_location} does not have every item")
