"""Where is my order: find the order, make sure it is the customer's, tell its status, its
history, the courier's live tracking of a parcel, and whether a store pickup order is ready.

An order is shown only to its owner: a verified customer (web chat identity, linked chat), or
someone who gives the order number together with the order's email address or postcode.
Unknown numbers and wrong proofs get the same answer, so order numbers cannot be probed.
OrderIdentification does that for every flow that works on one order (status, cancel,
delivery, payment, returns): there is no other way to prove an order.

One message proves at most one order with one proof: only its first order number is looked
at, and a message with several emails/postcodes proves nothing ("one at a time") and counts as
a failure, so that a list of guesses costs as many tries as the guesses. Failures are counted
per conversation (MAX_PROOF_ATTEMPTS: a person takes over, and proving stops there), and per
order and per client across sessions and processes (dialog/proof_limits.py). The levels of
proof and what each allows: docs/security.md.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from dialog import events
from dialog.flows.base import Turn, human_button
from dialog.flows.handoff import hand_over
from dialog.messages import Button, Outbound
from orders.billing import is_unpaid
from orders.inventory import InventoryUnavailable
from orders.service import OrderView
from orders.states import OrderStatus
from orders.tracking import TrackingUnavailable, pickup_readiness
from storage.clock import utcnow

log = logging.getLogger(__name__)

MAX_PROOF_ATTEMPTS = 3
MAX_CHOICES = 6
ANOTHER = "another"  # the "Another order" button's argument (order numbers have digits)
ORDER_INTENTS = frozenset({
    "order_status", "cancel_order", "change_delivery", "return_order", "payment", "human",
})
LEAVE_CONFIDENCE = 0.8
_SHORT_ANSWER = 12  # a reply this short may be a postcode the extractor did not recognise


def owns(turn: Turn, order: OrderView) -> bool:
    return order.number in turn.state.verified_orders or (
        turn.state.customer_id is not None and turn.state.customer_id == order.customer_id
    )


def numbers(turn: Turn) -> list[str]:
    """The first order number of the message (and its other spelling: "A1001", "A-1001");
    the numbers after it are not looked at."""
    if turn.understanding is None:
        return []
    return first_number(list(turn.understanding.entities.order_numbers))


def first_number(found: list[str]) -> list[str]:
    if len(found) > 1 and found[1].replace("-", "") == found[0]:
        return found[:2]  # the two candidates of one token (entities.py)
    return found[:1]


def proofs(turn: Turn, loose: bool) -> list[str]:
    if turn.understanding is None:
        return []
    entities = turn.understanding.entities
    found = [*entities.emails, *entities.postcodes]
    text = turn.inbound.text.strip()
    if loose and not found and 3 <= len(text) <= _SHORT_ANSWER:
        found.append(text)
    return found


class OrderIdentification:
    """Which order the customer means, shown to be theirs before anything is told or changed.

    While it asks, the flow named `flow` waits at step "need_number", "need_proof" (slots:
    number) or "choose"; the flow's resume hands those steps to `answer`. A verified
    customer with several orders gets buttons "<flow>:<number>" (step "choose"); the flow's
    on_action hands the number to `find`. A flow that keeps slots of its own while it asks
    (payment's topic) passes them to `find`/`answer`; one with its own wording passes the
    text keys for the proof question and the mismatch.
    """

    STEPS = frozenset({"need_number", "need_proof", "choose"})

    def __init__(
        self, flow: str, intents: frozenset[str] = frozenset(), *,
        ask_proof_key: str = "ask_proof", mismatch_key: str = "proof_mismatch",
    ) -> None:
        self.flow = flow
        self.intents = intents  # the flow's own: a number given with another is not an answer
        self.ask_proof_key = ask_proof_key
        self.mismatch_key = mismatch_key

    async def start(self, turn: Turn) -> OrderView | None:
        """The order the customer's message names (or theirs); None if a question was asked."""
        return await self.find(turn, numbers(turn), proofs(turn, loose=False))

    async def answer(self, turn: Turn, **slots: Any) -> tuple[bool, OrderView | None]:
        """An answer to this flow's question: (False, None) if the message is none."""
        if self._leaves(turn):
            return False, None
        found = numbers(turn)
        if turn.state.step in ("need_number", "choose"):
            if not found:
                return False, None
            return True, await self.find(turn, found, proofs(turn, loose=False), **slots)
        if turn.state.step == "need_proof":
            given = proofs(turn, loose=True)
            # "10115" may be a postcode or an order number: as an answer it is the proof.
            found = [number for number in found if number not in given]
            if not given:
                if not found:
                    return False, None
                return True, await self.find(turn, found, [], **slots)
            number = turn.state.slots["number"]
            return True, await self.find(turn, found or [number], given, **slots)
        return False, None

    def _leaves(self, turn: Turn) -> bool:
        """"Where is A-1015?" while cancelling: a question for another flow, not an answer."""
        understanding = turn.understanding
        return (
            understanding is not None
            and understanding.confidence >= LEAVE_CONFIDENCE
            and understanding.intent in ORDER_INTENTS
            and understanding.intent not in self.intents
        )

    async def find(
        self, turn: Turn, numbers: list[str], proofs: list[str], **slots: Any
    ) -> OrderView | None:
        """The order of the first of `numbers` if the customer owns it or proves it with
        `proofs`; without numbers, theirs. None if a question was asked (the flow then waits
        with `slots` kept)."""
        state = turn.state
        numbers = first_number(numbers)
        for number in numbers:
            order = await turn.shop.get_order(number)
            if order is not None and owns(turn, order):
                return order
        if not numbers:
            if state.customer_id is not None:
                return await self._customer_order(turn, **slots)
            if state.verified_orders:
                order = await turn.shop.get_order(state.verified_orders[-1])
                if order is not None:
                    return order
            turn.enter(self.flow, "need_number", **slots)
            turn.say("ask_order_number")
            return None
        proofs = [proof for proof in proofs if proof not in numbers]  # "10115": one or other
        if not proofs:
            turn.enter(self.flow, "need_proof", **slots, number=numbers[0])
            turn.say(self.ask_proof_key, number=numbers[0])
            return None
        return await self._prove(turn, numbers, proofs, **slots)

    async def _prove(
        self, turn: Turn, numbers: list[str], proofs: list[str], **slots: Any
    ) -> OrderView | None:
        state, number = turn.state, numbers[0]
        limits = turn.shop.proof_limits
        if state.proof_failures >= MAX_PROOF_ATTEMPTS or await limits.locked(
            number, turn.inbound
        ):  # nothing is checked: the answer is the same whatever the proof
            turn.finish()
            turn.say("proof_locked", human_button(turn))
            return None
        if len(proofs) > 1:
            return await self._failed(turn, number, "proof_one_at_a_time", **slots)
        for candidate in numbers:
            order = await turn.shop.verified_order(candidate, proofs)
            if order is not None:
                await limits.succeeded(number)
                if order.number not in state.verified_orders:
                    state.verified_orders.append(order.number)
                return order
        return await self._failed(turn, number, self.mismatch_key, **slots)

    async def _failed(self, turn: Turn, number: str, key: str, **slots: Any) -> None:
        state = turn.state
        await turn.shop.proof_limits.failed(number, turn.inbound)
        state.proof_failures += 1
        log.debug("failed proof %d of order %s", state.proof_failures, number)
        if state.proof_failures >= MAX_PROOF_ATTEMPTS:
            hand_over(turn, "verification_failed", key="proof_failed_handoff")
            return None
        turn.enter(self.flow, "need_proof", **slots, number=number)
        turn.say(key, human_button(turn), number=number)
        return None

    async def _customer_order(self, turn: Turn, **slots: Any) -> OrderView | None:
        assert turn.state.customer_id is not None
        orders = await turn.shop.orders_of_customer(turn.state.customer_id)
        if not orders:
            turn.enter(self.flow, "need_number", **slots)
            turn.say("no_orders")
            return None
        if len(orders) == 1:
            return orders[0]
        turn.enter(self.flow, "choose", **slots)
        buttons = [turn.button_plain(order.number, f"{self.flow}:{order.number}")
                   for order in orders]
        turn.say("choose_order", *buttons[:MAX_CHOICES])
        return None


class StatusFlow:
    name = "status"
    intents = frozenset({"order_status"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(self.name, self.intents)

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        order = await self._identify.start(turn)
        if order is not None:
            await self._tell(turn, order)

    async def resume(self, turn: Turn) -> bool:
        answered, order = await self._identify.answer(turn)
        if order is not None:
            await self._tell(turn, order)
        return answered

    async def _answer(self, turn: Turn, numbers: list[str], proofs: list[str]) -> None:
        """Tell the order these numbers and proofs identify, or ask what is missing."""
        order = await self._identify.find(turn, numbers, proofs)
        if order is not None:
            await self._tell(turn, order)

    async def on_action(self, turn: Turn, argument: str) -> None:
        if argument == ANOTHER:  # not the order just told: ask which one
            turn.enter(self.name, "need_number")
            return turn.say("ask_order_number")
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
        _say_text(turn, "\n\n".join(part for part in parts if part), buttons)

    @staticmethod
    async def _status_text(turn: Turn, order: OrderView) -> str:
        number = order.number
        if order.status is OrderStatus.SHIPPED:
            if order.tracking_number:
                return turn.text(
                    "status_shipped",
                    number=number,
                    carrier=order.carrier or "-",
                    tracking_number=order.tracking_number,
                    tracking_url=order.tracking_url or "-",
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


def _say_text(turn: Turn, text: str, buttons: tuple[Button, ...]) -> None:
    turn.replies.append(Outbound(key=turn.state.key, text=text, buttons=buttons))
