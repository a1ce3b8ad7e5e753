"""Returns (withdrawal): which lines of a delivered order may go back, the return with its RMA
number and label, and the refund when the shop reports the parcel received.

The window rule, in calendar days of the shop's time zone: the day of delivery is day 0, and a
return may be requested until the end of day `window_days` (14 by default). Delivered on
1 March: the 15th is day 14 (still in), from the 16th (day 15) it is out.

A return is requested for chosen lines and quantities; a line is returnable when its product
is returnable (gift cards are not) and its quantity is not already in an earlier return.
Refunds cover the returned lines (less their share of any order discount), never more than
was paid and not yet refunded, and only for a paid order.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders import pdf
from orders.changes import ORDER_RETURN_REQUESTED
from orders.documents import document_url, save_document
from orders.payments import Payments
from orders.service import OrderError, OrderService, OrderView, UnknownOrder
from orders.states import OrderStatus
from orders.tables import Document, Order, OrderHistory, Product, Return, ReturnRefund
from storage.clock import utcnow

LABEL_KIND = "return_label"
DAMAGED = "damaged"  # the reason for which the chat asks for a photo
REASONS = ("wrong_size", DAMAGED, "not_as_described", "changed_mind")  # or free text
METHODS = ("courier_pickup", "drop_off")
MAX_REASON_CHARS = 500


class ReturnRefusal(StrEnum):
    """Why an order (or a line of it) cannot be returned now."""

    NOT_DELIVERED = "not_delivered"
    RETURN_OPEN = "return_open"  # a return of this order is on its way already
    RETURNED = "returned"
    WINDOW_CLOSED = "window_closed"
    NOT_RETURNABLE = "not_returnable"  # the product's category is not returnable
    ALREADY_RETURNED = "already_returned"


class ReturnRefused(OrderError):
    def __init__(self, refusal: ReturnRefusal, detail: str = "") -> None:
        super().__init__(f"{refusal}: {detail}" if detail else str(refusal))
        self.refusal = refusal


class BadReturnRequest(OrderError):
    """Unknown line, a quantity above what may be returned, nothing chosen, unknown method."""




@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    window_days: int = 14
    timezone: str = "UTC"  # the shop's time zone: calendar days are counted there

    def last_day(self, delivered_at: datetime) -> date:
        return self.local_day(delivered_at) + timedelta(days=self.window_days)

    def is_open(self, delivered_at: datetime, now: datetime) -> bool:
        return self.local_day(now) <= self.last_day(delivered_at)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True, slots=True)
class ReturnLine:
    """A line of the order as the return sees it; position is 1-based, in order of the lines."""

    position: int
    sku: str
    name: str
    ordered: int
    unit_price_minor: int
    returnable: int  # how many may still be returned
    refusal: ReturnRefusal | None  # why none may, if so


@dataclass(frozen=True, slots=True)
class Eligibility:
    number: str
    currency: str
    last_day: date | None  # None: not delivered
    lines: tuple[ReturnLine, ...]
    refusal: ReturnRefusal | None  # for the whole order; None: some lines may go back
    open_return: str | None = None  # RMA of the return in progress, if any

    @property
    def returnable_lines(self) -> tuple[ReturnLine, ...]:
        return tuple(line for line in self.lines if line.returnable > 0)


@dataclass(frozen=True, slots=True)
class ReturnView:
    rma: str
    number: str
    status: str
    method: str
    reason: str
    lines: tuple[dict[str, Any], ...]  # {"position", "sku", "name", "quantity", "unit_price_minor"}
    amount_minor: int  # the refund due for these lines
    currency: str
    label_url: str | None
    photo: str | None = None  # the customer's photo of the damage (an attachment id)


class ReturnDesk:
    """The return use cases. Stateless apart from its settings: safe to share."""

    def __init__(
        self,
        orders: OrderService,
        payments: Payments,
        *,
        shop_name: str,
        base_url: str,
        policy: ReturnPolicy,
    ) -> None:
        self._orders = orders
        self._payments = payments
        self._shop_name = shop_name
        self._base_url = base_url
        self.policy = policy

    async def eligibility(
        self, session: AsyncSession, number: str, now: datetime | None = None
    ) -> Eligibility:
        order = await self._orders.get_order(session, number)
        if order is None:
            raise UnknownOrder(number)
        now = now or utcnow()
        returnable_skus = await self._returnable_skus(session, order)
        taken = await self._quantities_in_returns(session, number)
        lines = []
        for position, line in enumerate(order.lines, start=1):
            left = line.quantity - taken.get(position, 0)
            refusal = None
            if line.sku not in returnable_skus:
                refusal, left = ReturnRefusal.NOT_RETURNABLE, 0
            elif left <= 0:
                refusal, left = ReturnRefusal.ALREADY_RETURNED, 0
            lines.append(ReturnLine(position, line.sku, line.name, line.quantity,
                                    line.unit_price_minor, left, refusal))
        last_day = self.policy.last_day(order.delivered_at) if order.delivered_at else None
        return Eligibility(
            number=order.number, currency=order.currency, last_day=last_day,
            lines=tuple(lines), refusal=self._order_refusal(order, now, lines),
            open_return=await self._open_return(session, number),
        )

    async def request_return(
        self,
        session: AsyncSession,
        number: str,
        quantities: Mapping[int, int],
        reason: str,
        method: str,
        now: datetime | None = None,
        *,
        photo: str | None = None,
    ) -> ReturnView:
        """Register a return of `quantities` (line position -> how many) and its label;
        the order becomes return_requested. Raises ReturnRefused or BadReturnRequest."""
        now = now or utcnow()
        eligibility = await self.eligibility(session, number, now)
        if eligibility.refusal is not None:
            raise ReturnRefused(eligibility.refusal, number)
        if method not in METHODS:
            raise BadReturnRequest(f"unknown return method {method!r}")
        chosen = {position: count for position, count in quantities.items() if count}
        if not chosen:
            raise BadReturnRequest("no line chosen")
        by_position = {line.position: line for line in eligibility.lines}
        lines: list[dict[str, Any]] = []
        for position, count in sorted(chosen.items()):
            line = by_position.get(position)
            if line is None or count < 0:
                raise BadReturnRequest(f"no line {position} in order {number}")
            if line.refusal is not None:
                raise ReturnRefused(line.refusal, line.sku)
            if count > line.returnable:
                raise BadReturnRequest(f"at most {line.returnable} of {line.sku} may go back")
            lines.append({"position": position, "sku": line.sku, "name": line.name,
                          "quantity": count, "unit_price_minor": line.unit_price_minor})
        order_id = await self._order_id(session, number)
        # The RMA number comes from the row's id (unique, and readable on the phone).
        row = Return(order_id=order_id, rma=f"pending-{secrets.token_hex(8)}",
                     status="requested", reason=reason.strip()[:MAX_REASON_CHARS],
                     method=method, lines=lines, created_at=now, photo=photo)
        session.add(row)
        await session.flush()
        row.rma = f"R-{self.policy.local_day(now).year}-{row.id:06d}"
        order = await self._orders.move(
            session, number, OrderStatus.RETURN_REQUESTED, f"return {row.rma} requested"
        )
        token = await save_document(
            session, order_id, LABEL_KIND, _label_filename(row.rma),
            self._label(order, row.rma, method, lines),
        )
        made = self._view(row, order, document_url(self._base_url, token))
        await self._orders.changes.record(session, ORDER_RETURN_REQUESTED, order=order, data={
            "return": {
                "rma": made.rma, "method": made.method, "reason": made.reason,
                "lines": [{"sku": line["sku"], "name": line["name"],
                           "quantity": line["quantity"],
                           "unit_price": line["unit_price_minor"] / 100}
                          for line in made.lines],
                "refund_due": made.amount_minor / 100, "label_url": made.label_url,
            }})
        return made

    async def find_return(self, session: AsyncSession, rma: str) -> ReturnView | None:
        row = await session.scalar(select(Return).where(Return.rma == rma))
        if row is None:
            return None
        number = await session.scalar(select(Order.number).where(Order.id == row.order_id))
        order = await self._orders.get_order(session, str(number))
        assert order is not None
        return self._view(row, order, await self._label_url(session, row))

    async def receive(
        self, session: AsyncSession, number: str, cause: str, check: bool = True
    ) -> OrderView:
        """The shop has the parcel (return_received): the order becomes returned and the
        returned lines are refunded. Without a return registered here (one arranged by the
        shop itself) every returnable line counts as returned. check=False: the shop's fact,
        taken from any status (orders/facts.py)."""
        order_id = await self._order_id(session, number)
        order = await self._orders.move(session, number, OrderStatus.RETURNED, cause, check)
        rows = list(await session.scalars(
            select(Return).where(Return.order_id == order_id, Return.status == "requested")
            .order_by(Return.id)
        ))
        if not rows:
            rows = [await self._whole_order_return(session, order_id, number)]
        now = utcnow()
        for row in rows:
            row.status, row.received_at = "received", now
            await self._refund(session, order, row)
        await session.flush()
        refreshed = await self._orders.get_order(session, number)
        assert refreshed is not None
        return refreshed

    @staticmethod
    def refund_amount(order: OrderView, lines: list[dict[str, Any]]) -> int:
        """What to refund for these lines: at most what was paid and not refunded yet."""
        return min(_refund_due(order, lines), max(0, order.total_minor - order.refunded_minor))

    async def _refund(self, session: AsyncSession, order: OrderView, row: Return) -> None:
        record = await session.get(Order, row.order_id)
        assert record is not None
        paid = order.payment_status == "paid"
        amount = self.refund_amount(order, row.lines) if paid else 0
        amount = min(amount, max(0, order.total_minor - record.refunded_minor))
        reference = ""
        if amount:
            # PaymentFailed propagates: the whole event rolls back and the shop may retry.
            reference = await self._payments.refund(order, amount, f"return {row.rma}")
        session.add(ReturnRefund(return_id=row.id, amount_minor=amount,
                                 currency=order.currency, provider_reference=reference))
        record.refunded_minor += amount
        note = reference if amount else ("nothing paid" if not paid else "nothing left to refund")
        session.add(OrderHistory(
            order_id=row.order_id, from_status=record.status, to_status=record.status,
            cause=f"refund {_amount(amount)} {order.currency} for {row.rma} ({note})"[:200],
        ))
        await session.flush()

    async def _whole_order_return(
        self, session: AsyncSession, order_id: int, number: str
    ) -> Return:
        order = await self._orders.get_order(session, number)
        assert order is not None
        returnable = await self._returnable_skus(session, order)
        taken = await self._quantities_in_returns(session, number)
        lines = [
            {"position": position, "sku": line.sku, "name": line.name,
             "quantity": line.quantity - taken.get(position, 0),
             "unit_price_minor": line.unit_price_minor}
            for position, line in enumerate(order.lines, start=1)
            if line.sku in returnable and line.quantity > taken.get(position, 0)
        ]
        row = Return(order_id=order_id, rma=f"pending-{secrets.token_hex(8)}",
                     status="requested", reason="arranged by the shop", method="drop_off",
                     lines=lines)
        session.add(row)
        await session.flush()
        row.rma = f"R-{self.policy.local_day(utcnow()).year}-{row.id:06d}"
        return row

    def _order_refusal(
        self, order: OrderView, now: datetime, lines: list[ReturnLine]
    ) -> ReturnRefusal | None:
        if order.status is OrderStatus.RETURN_REQUESTED:
            return ReturnRefusal.RETURN_OPEN
        if order.status is OrderStatus.RETURNED:
            return ReturnRefusal.RETURNED
        if order.status is not OrderStatus.DELIVERED or order.delivered_at is None:
            return ReturnRefusal.NOT_DELIVERED
        if not self.policy.is_open(order.delivered_at, now):
            return ReturnRefusal.WINDOW_CLOSED
        if not any(line.returnable for line in lines):
            refusals = {line.refusal for line in lines}
            if refusals == {ReturnRefusal.ALREADY_RETURNED}:
                return ReturnRefusal.ALREADY_RETURNED
            return ReturnRefusal.NOT_RETURNABLE
        return None

    async def _returnable_skus(self, session: AsyncSession, order: OrderView) -> set[str]:
        """Lines whose product the shop does not know (not stock-managed here) are returnable."""
        skus = {line.sku for line in order.lines}
        refused = set(await session.scalars(
            select(Product.sku).where(Product.sku.in_(skus), Product.returnable.is_(False))
        ))
        return skus - refused

    async def _quantities_in_returns(self, session: AsyncSession, number: str) -> dict[int, int]:
        order_id = await self._order_id(session, number)
        taken: dict[int, int] = {}
        for lines in await session.scalars(
            select(Return.lines).where(Return.order_id == order_id,
                                       Return.status.in_(("requested", "received")))
        ):
            for line in lines:
                position = int(line["position"])
                taken[position] = taken.get(position, 0) + int(line["quantity"])
        return taken

    async def _open_return(self, session: AsyncSession, number: str) -> str | None:
        order_id = await self._order_id(session, number)
        return await session.scalar(
            select(Return.rma).where(Return.order_id == order_id, Return.status == "requested")
            .order_by(Return.id.desc()).limit(1)
        )

    async def _order_id(self, session: AsyncSession, number: str) -> int:
        order_id = await session.scalar(select(Order.id).where(Order.number == number))
        if order_id is None:
            raise UnknownOrder(number)
        return int(order_id)

    async def _label_url(self, session: AsyncSession, row: Return) -> str | None:
        token = await session.scalar(
            select(Document.token).where(
                Document.order_id == row.order_id, Document.kind == LABEL_KIND,
                Document.filename == _label_filename(row.rma),
            )
        )
        return document_url(self._base_url, token) if token else None

    def _label(self, order: OrderView, rma: str, method: str, lines: list[dict[str, Any]]
               ) -> bytes:
        address = order.delivery_address
        sender = ", ".join(str(address[key]) for key in ("street", "postcode", "city")
                           if address.get(key))
        text = [
            f"RMA: {rma}",
            f"Order: {order.number}",
            f"From: {order.customer_name}" + (f", {sender}" if sender else ""),
            f"To: {self._shop_name}, returns",
            "Method: " + ("courier pickup" if method == "courier_pickup" else "drop-off point"),
            "",
            "Items:",
            *(f"  {line['quantity']} x {line['name']} ({line['sku']})" for line in lines),
            "",
            f"Write {rma} on the parcel or attach this label.",
        ]
        return pdf.render(self._shop_name, f"Return label {rma}", text, watermark=rma)

    @staticmethod
    def _view(row: Return, order: OrderView, label_url: str | None) -> ReturnView:
        lines = [dict(line) for line in row.lines]
        return ReturnView(
            rma=row.rma, number=order.number, status=row.status, method=row.method,
            reason=row.reason, lines=tuple(lines),
            amount_minor=_refund_due(order, lines), currency=order.currency,
            label_url=label_url, photo=row.photo,
        )


def _refund_due(order: OrderView, lines: list[dict[str, Any]]) -> int:
    amount = sum(int(line["quantity"]) * int(line["unit_price_minor"]) for line in lines)
    gross = sum(line.quantity * line.unit_price_minor for line in order.lines)
    if order.discount_minor and gross:
        amount -= round(order.discount_minor * amount / gross)
    return max(0, amount)


def _label_filename(rma: str) -> str:
    return f"return-label-{rma}.pdf"


def _amount(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"
