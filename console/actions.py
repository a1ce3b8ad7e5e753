"""What an operator does to a customer's order from the console: cancel it, move its delivery,
register a return, send a payment link.

Each goes through the same use case the bot's flows use, so the order core's rules hold
(nothing ships twice, a shipped order is not cancelled). The operator must hold the
conversation and the order must be its customer's. Once done, the customer is told on their
channel, in their language, as from the operator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from console.accounts import Account
from console.views import order_json
from dialog.desk import OperatorDesk
from dialog.desk_values import DeskError, QueueItem
from dialog.shop_services import ShopServices
from dialog.texts import Amount, Texts
from orders import cancellation, delivery
from orders.inventory import InventoryUnavailable
from orders.money import money
from orders.payments import PaymentFailed, create_payment_link
from orders.returns import METHODS as RETURN_METHODS
from orders.returns import BadReturnRequest, ReturnRefusal, ReturnRefused
from orders.service import OrderError, OrderService, OrderView
from orders.states import IllegalTransition, OrderStatus
from storage.database import Database

log = logging.getLogger(__name__)

ACTIONS = ("cancel", "reschedule", "return", "payment_link")
RETURN_REASON = "arranged by an operator"


class ActionRefused(Exception):
    """The action was not done; status is the HTTP status to answer with, str() the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class ActionRequest:
    action: str
    order: str
    date: date | None = None
    slot: str | None = None
    method: str | None = None  # return: courier_pickup | drop_off (default drop_off)
    reason: str | None = None  # return: why, for the shop


@dataclass(frozen=True)
class ActionDone:
    result: str  # what was done, for the operator
    order: OrderView


@dataclass(frozen=True)
class _Outcome:
    result: str
    order: OrderView
    text_key: str  # what the customer is told
    params: dict[str, Any]


class OrderActions:
    def __init__(
        self, *, database: Database, desk: OperatorDesk, orders: OrderService,
        services: ShopServices, texts: Texts,
    ) -> None:
        self._database = database
        self._desk = desk
        self._orders = orders
        self._services = services
        self._texts = texts

    async def allowed(self, session: AsyncSession, order: OrderView) -> list[dict[str, Any]]:
        """What an operator may do to the order now, by the order core's rules, each with what
        its confirmation tells: the refund a cancel starts, the amount a payment link asks,
        the lines a return takes back. The console offers these and no others."""
        allowed: list[dict[str, Any]] = []
        if order.status in cancellation.CANCELLABLE:
            paid = order.payment_status == "paid" and self._services.payments is not None
            refund = order.total_minor - order.refunded_minor if paid else 0
            allowed.append({"action": "cancel", "refund": money(max(refund, 0))})
        if order.status in delivery.CHANGEABLE:
            allowed.append({"action": "reschedule"})
        if order.status is OrderStatus.DELIVERED:  # the only status a return can start from
            eligibility = await self._services.returns.eligibility(session, order.number)
            if eligibility.refusal is None:
                allowed.append({"action": "return", "lines": sum(
                    line.returnable for line in eligibility.returnable_lines)})
        if order.payment_status != "paid" and order.status is not OrderStatus.CANCELLED:
            allowed.append({"action": "payment_link",
                            "amount": money(order.total_minor - order.refunded_minor)})
        return allowed

    async def orders_json(self, orders: list[OrderView]) -> list[dict[str, Any]]:
        """The orders as the console shows them, each with the actions it allows."""
        if not orders:
            return []
        async with self._database.transaction() as session:
            return [order_json(order, await self.allowed(session, order)) for order in orders]

    def slots(self) -> list[dict[str, str]]:
        """The courier days and slots a delivery may be moved to."""
        settings = self._services.confirmation
        return [{"date": day.isoformat(), "slot": slot}
                for day in delivery.working_days(settings.clock().date())
                for slot in settings.delivery_slots]

    async def run(self, conversation_id: int, operator: Account,
                  request: ActionRequest) -> ActionDone:
        item = await self._desk.get(conversation_id)
        _check_held(item, operator)
        if item.customer_id is None and not item.proven_orders:
            raise ActionRefused(409, "the customer of this conversation is not known, so no "
                                     "order can be changed here")
        number = request.order.strip().upper()
        async with self._database.transaction() as session:
            order = await self._orders.get_order(session, number)
            if order is None:
                raise ActionRefused(404, f"no order {number}")
            if order.customer_id != item.customer_id and number not in item.proven_orders:
                raise ActionRefused(403, f"order {number} is not this customer's")
            outcome = await self._do(session, request, order, operator)
        text = self._texts.get(item.language, outcome.text_key, **outcome.params)
        try:
            await self._desk.say(conversation_id, operator.ref, text)
        except DeskError:  # released meanwhile: the order changed all the same
            log.warning("conversation %s: the customer was not told of the %s", conversation_id,
                        request.action)
        return ActionDone(outcome.result, outcome.order)

    async def _do(self, session: AsyncSession, request: ActionRequest, order: OrderView,
                  operator: Account) -> _Outcome:
        if request.action == "cancel":
            return await self._cancel(session, order, operator)
        if request.action == "reschedule":
            return await self._reschedule(session, request, order)
        if request.action == "return":
            return await self._return(session, request, order)
        if request.action == "payment_link":
            return await self._payment_link(session, order)
        raise ActionRefused(422, f"action must be one of {', '.join(ACTIONS)}")

    async def _cancel(self, session: AsyncSession, order: OrderView,
                      operator: Account) -> _Outcome:
        number = order.number
        try:
            done = await cancellation.cancel_order(
                session, self._orders, self._services.payments, number,
                f"cancelled by operator {operator.display_name}"[:200])
        except cancellation.AlreadyShipped as refused:
            raise ActionRefused(409, f"order {number} is {refused.status}: too late to cancel "
                                     "(a return is the way now)") from None
        except cancellation.AlreadyCancelled:
            raise ActionRefused(409, f"order {number} is cancelled already") from None
        except (OrderError, IllegalTransition) as refused:
            raise ActionRefused(409, str(refused)) from None
        cancelled = done.order
        if done.refund_failed:
            due = Amount(cancelled.total_minor - cancelled.refunded_minor, cancelled.currency)
            return _Outcome(f"order {number} cancelled; the refund failed: refund it by hand",
                            cancelled, "console_cancelled_refund_by_hand",
                            {"number": number, "amount": due})
        if done.refund_id is not None:
            amount = Amount(done.refunded_minor, cancelled.currency)
            return _Outcome(f"order {number} cancelled; refund {done.refund_id} started",
                            cancelled, "console_cancelled_refund",
                            {"number": number, "amount": amount})
        return _Outcome(f"order {number} cancelled", cancelled, "console_cancelled",
                        {"number": number})

    async def _reschedule(self, session: AsyncSession, request: ActionRequest,
                          order: OrderView) -> _Outcome:
        if request.date is None or not request.slot:
            raise ActionRefused(422, "reschedule needs a date (YYYY-MM-DD) and a slot")
        settings = self._services.confirmation
        plan = delivery.DeliveryPlan("courier", request.date, request.slot)
        try:
            changed = await delivery.change_delivery(
                session, self._orders, self._services.inventory, order.number, plan,
                settings.delivery_slots, settings.clock().date())
        except delivery.AlreadyShipped:
            raise ActionRefused(409, f"order {order.number} has shipped: its delivery can no "
                                     "longer change") from None
        except delivery.NotChangeable:
            raise ActionRefused(409, f"order {order.number} is {order.status}: it has no "
                                     "delivery to change") from None
        except delivery.BadDelivery as refused:
            raise ActionRefused(422, str(refused)) from None
        except InventoryUnavailable:
            raise ActionRefused(502, "the inventory service is unavailable") from None
        day = self._texts.date(order.customer_language, datetime.combine(request.date, time()))
        return _Outcome(
            f"delivery of order {order.number} moved to {request.date.isoformat()} "
            f"{request.slot}", changed, "console_rescheduled",
            {"number": order.number, "date": day, "slot": request.slot})

    async def _return(self, session: AsyncSession, request: ActionRequest,
                      order: OrderView) -> _Outcome:
        method = request.method or "drop_off"
        if method not in RETURN_METHODS:
            raise ActionRefused(422, f"method must be one of {', '.join(RETURN_METHODS)}")
        desk = self._services.returns
        eligibility = await desk.eligibility(session, order.number)
        if eligibility.refusal is not None:
            raise ActionRefused(409, _refusal_text(order.number, eligibility.refusal,
                                                   eligibility.last_day))
        quantities = {line.position: line.returnable for line in eligibility.returnable_lines}
        try:
            made = await desk.request_return(session, order.number, quantities,
                                             request.reason or RETURN_REASON, method)
        except ReturnRefused as refused:
            raise ActionRefused(409, _refusal_text(order.number, refused.refusal, None)) from None
        except BadReturnRequest as refused:
            raise ActionRefused(422, str(refused)) from None
        changed = await self._orders.get_order(session, order.number)
        assert changed is not None
        return _Outcome(
            f"return {made.rma} of order {order.number} registered ({method})", changed,
            "console_return_created",
            {"number": order.number, "rma": made.rma, "label_url": made.label_url or "-"})

    async def _payment_link(self, session: AsyncSession, order: OrderView) -> _Outcome:
        if order.payment_status == "paid":
            raise ActionRefused(409, f"order {order.number} is paid already")
        if order.status is OrderStatus.CANCELLED:
            raise ActionRefused(409, f"order {order.number} is cancelled")
        try:
            url = await create_payment_link(session, self._orders,
                                            self._services.payments, order)
        except PaymentFailed as failed:
            raise ActionRefused(502, f"the payment provider made no link: {failed}") from None
        return _Outcome(
            f"payment link for order {order.number} sent", order, "console_payment_link",
            {"number": order.number, "amount": Amount(order.total_minor, order.currency),
             "url": url})


def _check_held(item: QueueItem, operator: Account) -> None:
    if item.status != "claimed" or item.operator is None:
        raise ActionRefused(409, "claim the conversation first")
    if item.operator.key != operator.ref.key:
        raise ActionRefused(409, f"held by {item.operator.name}, not by you")


def _refusal_text(number: str, refusal: ReturnRefusal, last_day: date | None) -> str:
    reasons: dict[ReturnRefusal, str] = {
        ReturnRefusal.NOT_DELIVERED: "has not been delivered",
        ReturnRefusal.RETURN_OPEN: "has a return under way already",
        ReturnRefusal.RETURNED: "has been returned already",
        ReturnRefusal.WINDOW_CLOSED: "is past its return period"
        + (f" (it ended on {last_day.isoformat()})" if last_day else ""),
        ReturnRefusal.NOT_RETURNABLE: "has nothing returnable in it",
        ReturnRefusal.ALREADY_RETURNED: "has every line in a return already",
    }
    return f"order {number} {reasons.get(refusal, str(refusal))}"
