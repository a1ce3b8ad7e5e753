"""Where is my order: find the order, make sure it is the customer's, tell its status, its
history, the courier's live tracking of a parcel, and whether a store pickup order is ready.

The order is found and proven the customer's by the identification sub-flow
(dialog/flows/identify.py), as for every flow that works on one order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dialog import events
from dialog.flows.base import Turn, human_button
from dialog.flows.identify import IdentifyStep, OrderIdentification
from dialog.flows.rich import order_card
from dialog.flows.steps import FlowData, Steps
from dialog.messages import Button, Outbound
from orders.billing import is_unpaid
from orders.inventory import InventoryUnavailable
from orders.service import OrderView
from orders.states import OrderStatus
from orders.tracking import TrackingUnavailable, pickup_readiness
from storage.clock import utcnow

log = logging.getLogger(__name__)
ANOTHER = "another"  # the "Another order" button's argument (order numbers have digits)


class StatusStep(StrEnum):
    """Only the identification's: the status is told as soon as the order is proven."""

    NEED_NUMBER = IdentifyStep.NEED_NUMBER.value
    NEED_PROOF = IdentifyStep.NEED_PROOF.value
    CHOOSE = IdentifyStep.CHOOSE.value


@dataclass
class StatusData(FlowData):
    number: str | None = None  # the order being proven (at NEED_PROOF)


class StatusFlow:
    name = "status"
    intents = frozenset({"order_status"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(self.name, self.intents)
        identified = self._identify.step(self._tell)
        self._steps = Steps(self.name, StatusStep, StatusData,
                            {step: identified for step in StatusStep})

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        order = await self._identify.start(turn)
        if order is not None:
            await self._tell(turn, order)

    async def resume(self, turn: Turn) -> bool:
        return await self._steps.resume(turn)

    async def _answer(self, turn: Turn, numbers: list[str], proofs: list[str]) -> None:
        """Tell the order these numbers and proofs identify, or ask what is missing."""
        order = await self._identify.find(turn, numbers, proofs)
        if order is not None:
            await self._tell(turn, order)

    async def on_action(self, turn: Turn, argument: str) -> None:
        if argument == ANOTHER:  # not the order just told: ask which one
            return self._steps.ask(turn, StatusStep.NEED_NUMBER, StatusData(),
                                   prompt="ask_order_number")
        await self._answer(turn, [argument], [])

    async def _tell(self, turn: Turn, order: OrderView) -> None:
        turn.finish()
        turn.record(events.STATUS_ANSWERED, order.number)
        buttons = (*_next_steps(turn, order),
                   turn.button("button_other_order", f"{self.name}:{ANOTHER}"), human_button(turn))
        parts = [await self._status_text(turn, order)]
        if order.status is OrderStatus.SHIPPED and order.tracking_number:
            parts.append(await self._live_tracking(turn, order))
        parts.append(_history_text(turn, order))
        _say_text(turn, "\n\n".join(part for part in parts if part), buttons,
                  {"card": order_card(turn, order)})

    @staticmethod
    async def _status_text(turn: Turn, order: OrderView) -> str:
        number = order.number
        if order.status is OrderStatus.SHIPPED:
            if order.tracking_number:
                return turn.text(
                    "status_shipped" if order.tracking_url else "status_shipped_no_link",
                    number=number,
                    carrier=order.carrier or "-",
                    tracking_number=order.tracking_number,
                    tracking_url=order.tracking_url,
                )
            return turn.text("status_shipped_untracked", number=number)
        if order.status is OrderStatus.DELIVERED:
            moment = order.delivered_at or order.created_at
            return turn.text(
                "status_delivered", number=number, date=turn.texts.date(turn.language, moment)
            )
        pickup = pickup_readiness(order, utcnow())
        if pickup is not None:
            place = await _store_name(turn, pickup.location)
            if pickup.ready:
                return turn.text("tracking_pickup_ready", number=number, place=place)
            return turn.text(
                "tracking_pickup_preparing", number=number, place=place,
                time=_moment(turn, pickup.ready_at),
            )
        return turn.text(f"status_{order.status.value}", number=number)

    @staticmethod
    async def _live_tracking(turn: Turn, order: OrderView) -> str:
        """ETA and last scan from the courier; a short note if the service is down."""
        try:
            info = await turn.shop.track(order, utcnow())
        except (TrackingUnavailable, LookupError) as error:
            log.warning("live tracking unavailable: %s", error)
            return turn.text("tracking_unavailable")
        lines = []
        if info.eta is not None and not info.delivered:
            lines.append(turn.text("tracking_eta", date=turn.texts.date(turn.language, info.eta)))
        if info.last_scan_place and info.last_scan_at is not None:
            lines.append(turn.text(
                "tracking_last_scan", place=info.last_scan_place,
                time=_moment(turn, info.last_scan_at),
            ))
        else:
            lines.append(turn.text("tracking_no_scan"))
        return "\n".join(lines)


def _next_steps(turn: Turn, order: OrderView) -> list[Button]:
    """What the customer can do next with this order: confirm, change, pay, return."""
    number, status = order.number, order.status
    steps = []
    if status is OrderStatus.PENDING_CONFIRMATION:
        steps.append(turn.button("confirm_button_start", f"confirm:start:{number}"))
    if status is OrderStatus.CONFIRMED:
        steps.append(turn.button("status_button_change_delivery", f"delivery:order:{number}"))
    if status is OrderStatus.DELIVERED:
        steps.append(turn.button("status_button_return", f"returns:order:{number}"))
    unpaid = is_unpaid(order) and order.payment_method != "cash_on_delivery"
    if unpaid and status in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        steps.append(turn.button("payment_button_pay", f"payment:link:{number}"))
    return steps


async def _store_name(turn: Turn, location: str) -> str:
    """"Warszawa Centrum, ul. Marszałkowska 100" for store id WAW-1 (the id if unknown)."""
    if not location:
        return turn.text("tracking_pickup_store")
    try:
        stores = await turn.shop.stores_with({})
    except (InventoryUnavailable, LookupError) as error:
        log.warning("store names unavailable: %s", error)
        return location
    store = next((store for store in stores if store.id == location), None)
    return f"{store.name}, {store.address}" if store is not None else location


def _history_text(turn: Turn, order: OrderView) -> str:
    """Each status the order went through, with its day (notes within a status left out)."""
    lines = [
        turn.text(
            "tracking_history_line",
            date=turn.texts.date(turn.language, entry.at),
            status=turn.text(f"tracking_history_{entry.to_status}"),
        )
        for entry in order.history
        if entry.from_status != entry.to_status
    ]
    if len(lines) < 2:  # just placed: the status says it all
        return ""
    return "\n".join([turn.text("tracking_history_header"), *lines])


def _moment(turn: Turn, moment: datetime) -> str:
    return moment.strftime(turn.text("tracking_time_format"))


def _say_text(
    turn: Turn, text: str, buttons: tuple[Button, ...], rich: dict[str, Any] | None = None
) -> None:
    turn.replies.append(Outbound(key=turn.state.key, text=text, buttons=buttons, rich=rich))
