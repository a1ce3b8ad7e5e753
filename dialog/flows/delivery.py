"""Change the delivery of an order until it ships: the delivery questions
(dialog/flows/delivery_questions.py) for an order found and proven (dialog/flows/identify.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dialog import events
from dialog.change_notices import tell_owner_of_change
from dialog.flows.base import Turn, human_button
from dialog.flows.choices import AnswerFirst, another_request, ask, ask_again, picked
from dialog.flows.delivery_questions import (
    NOT_AN_ANSWER,
    DeliveryQuestion,
    answer,
    ask_day,
    ask_method,
    describe,
    method_word,
    to_plan,
)
from dialog.flows.identify import (
    IdentifyStep,
    OrderIdentification,
    answer_code,
    ask_code,
    is_code_answer,
    numbers,
    owns,
    proofs,
    strongly_owns,
)
from dialog.flows.steps import FlowData, Step, Steps
from orders.delivery import (
    CHANGEABLE,
    AlreadyShipped,
    BadDelivery,
    NotChangeable,
    split_address,
)
from orders.inventory import InventoryUnavailable
from orders.service import OrderView
from orders.states import OrderStatus


class DeliveryStep(StrEnum):
    NEED_NUMBER = IdentifyStep.NEED_NUMBER.value
    NEED_PROOF = IdentifyStep.NEED_PROOF.value
    NEED_CODE = IdentifyStep.NEED_CODE.value  # a new method or address needs the strong proof
    WHAT = "what"  # the day, the method or the address?
    ADDRESS = "address"
    # The delivery questions (delivery_questions.py), the plan growing in the data.
    METHOD = DeliveryQuestion.METHOD.value
    DAY = DeliveryQuestion.DAY.value
    SLOT = DeliveryQuestion.SLOT.value
    STORE = DeliveryQuestion.STORE.value
    POINT = DeliveryQuestion.POINT.value


@dataclass
class DeliveryData(FlowData):
    number: str | None = None
    plan: dict[str, Any] | None = None  # method, date, slot, location chosen so far
    options: list[list[str]] | None = None  # the question's (argument, title) pairs
    asked: list[Any] | None = None  # its text key and params, to ask it again


class DeliveryFlow:
    """Change the delivery day/slot, method or address of an order until it ships.

    The day and slot of a courier delivery may be changed by whoever proved the order; its
    method or address only at the strong level (docs/security.md), and the customer hears of
    such a change in their own conversation."""

    name = "delivery"
    intents: frozenset[str] = AnswerFirst({"change_delivery"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(self.name, frozenset({"change_delivery"}))
        identified = self._identify.step(self._offer)
        question = Step[DeliveryData](self._question_answer)
        self._steps = Steps(self.name, DeliveryStep, DeliveryData, {
            DeliveryStep.NEED_NUMBER: identified,
            DeliveryStep.NEED_PROOF: identified,
            DeliveryStep.NEED_CODE: Step(self._code),
            DeliveryStep.WHAT: Step(self._what_answer, "delivery_change_what"),
            DeliveryStep.ADDRESS: Step(self._address_answer, "delivery_ask_address"),
            DeliveryStep.METHOD: question,
            DeliveryStep.DAY: question,
            DeliveryStep.SLOT: question,
            DeliveryStep.STORE: question,
            DeliveryStep.POINT: question,
        })

    async def start(self, turn: Turn, intent: str) -> None:
        await self._open(turn, numbers(turn), proofs(turn, loose=False))

    async def resume(self, turn: Turn) -> bool:
        return await self._steps.resume(turn)

    async def _code(self, turn: Turn, data: DeliveryData) -> bool:
        order = await self._order(turn)
        if order is None or not is_code_answer(turn):
            return False
        then = await answer_code(turn)
        if then is not None:
            await self._what(turn, order, then)
        return True

    async def _what_answer(self, turn: Turn, data: DeliveryData) -> bool:
        order = await self._order(turn)
        if order is None:
            return False
        choice = picked(turn) or _what_word(turn.inbound.text)
        if choice is None:
            return self._not_answered(turn)
        await self._what(turn, order, choice)
        return True

    async def _address_answer(self, turn: Turn, data: DeliveryData) -> bool:
        order = await self._order(turn)
        return order is not None and await self._address(turn, order)

    async def _question_answer(self, turn: Turn, data: DeliveryData) -> bool:
        order = await self._order(turn)
        if order is None:
            return False
        outcome = await answer(turn, self.name, None, order)
        if outcome == NOT_AN_ANSWER:
            return self._not_answered(turn)
        if isinstance(outcome, dict):
            await self._apply(turn, order, outcome)
        return True

    async def on_action(self, turn: Turn, argument: str) -> None:
        step, _, value = argument.partition(":")
        if step == "order":
            return await self._open(turn, [value], [])
        if turn.state.flow == self.name and turn.state.step != step \
                and "asked" in turn.state.slots:  # an older question's button
            return ask_again(turn, "choice_already_answered")
        if turn.state.flow != self.name or turn.state.step != step:
            return turn.say("delivery_nothing_open")
        order = await self._order(turn)
        if order is None:
            return turn.say("delivery_nothing_open")
        if step == "what":
            return await self._what(turn, order, value)
        outcome = await answer(turn, self.name, value, order)
        if isinstance(outcome, dict):
            await self._apply(turn, order, outcome)
        elif outcome == NOT_AN_ANSWER:
            ask_again(turn)

    async def _open(self, turn: Turn, numbers: list[str], proofs: list[str]) -> None:
        state = turn.state
        if numbers:
            order = await self._identify.find(turn, numbers, proofs)
            if order is not None:
                await self._offer(turn, order)
            return None
        # Which of their own orders: the one still open, or a choice of them.
        mine: list[OrderView] = []
        if state.customer_id is not None:
            mine = await turn.shop.orders_of_customer(state.customer_id)
        for number in state.verified_orders:
            order = await turn.shop.get_order(number)
            if order is not None and order.number not in {o.number for o in mine}:
                mine.append(order)
        open_orders = [o for o in mine if o.status in CHANGEABLE]
        if len(open_orders) == 1:
            return await self._offer(turn, open_orders[0])
        if open_orders:
            turn.finish()
            return turn.say("delivery_which_order", *[
                turn.button_plain(o.number, f"{self.name}:order:{o.number}")
                for o in open_orders[:6]
            ])
        if mine:
            return await self._offer(turn, mine[0])
        self._steps.ask(turn, DeliveryStep.NEED_NUMBER, DeliveryData(),
                        prompt="ask_order_number")

    async def _offer(self, turn: Turn, order: OrderView) -> None:
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            turn.finish()
            return _say_shipped(turn, order)
        if order.status not in CHANGEABLE:
            turn.finish()
            return turn.say("delivery_not_changeable", number=order.number)
        ask(turn, self.name, "what", "delivery_change_what", [
            ("when", turn.text("delivery_option_when")),
            ("method", turn.text("delivery_option_method")),
            ("address", turn.text("delivery_option_address")),
        ], {"number": order.number}, number=order.number)

    async def _what(self, turn: Turn, order: OrderView, choice: str) -> None:
        settings = turn.shop.settings
        if not _basic_change(choice, order) and not strongly_owns(turn, order):
            return await ask_code(turn, self.name, order, then=choice)
        slots = {"number": order.number, "plan": {}}
        if choice == "when":
            slots["plan"] = {"method": "courier"}
            ask_day(turn, self.name, slots, settings.clock().date())
        elif choice == "address":
            self._steps.ask(turn, DeliveryStep.ADDRESS, DeliveryData(order.number, plan={}))
        else:
            ask_method(turn, self.name, slots)

    async def _address(self, turn: Turn, order: OrderView) -> bool:
        text = " ".join(turn.inbound.text.split())
        if len(text) < 8 or another_request(turn):
            return False
        postcodes = turn.understanding.entities.postcodes if turn.understanding else ()
        if not postcodes:  # the courier needs it, and it proves the order from now on
            turn.say("delivery_address_needs_postcode")
            return True
        await self._apply(turn, order, None, address=text, postcode=postcodes[-1])
        return True

    async def _apply(self, turn: Turn, order: OrderView, plan: dict[str, Any] | None,
                     address: str | None = None, postcode: str = "") -> None:
        strong = address is not None or (plan or {}).get("method") != order.delivery_method
        if strong and not strongly_owns(turn, order):  # a button of an older question
            return await ask_code(turn, self.name, order, then="address" if address else "method")
        try:
            changed = await turn.shop.change_delivery(
                order.number, to_plan(plan) if plan is not None else None,
                address=split_address(address, postcode) if address else None,
            )
        except AlreadyShipped as shipped:
            turn.finish()
            return _say_shipped(turn, shipped.order)
        except NotChangeable:
            turn.finish()
            return turn.say("delivery_not_changeable", number=order.number)
        except BadDelivery:
            turn.say("delivery_bad_choice")
            return ask_method(turn, self.name, {"number": order.number, "plan": {}})
        except InventoryUnavailable:
            turn.finish()
            return turn.say("choice_unavailable", human_button(turn))
        turn.finish()
        turn.record(events.DELIVERY_CHANGED, changed.number)
        if plan is None:
            turn.say("delivery_address_changed", number=changed.number, address=address)
            return tell_owner_of_change(turn, changed, "notice_address_changed",
                                        address=address)
        turn.say("delivery_changed", number=changed.number, delivery=describe(turn, plan))
        if strong:
            tell_owner_of_change(turn, changed, "notice_delivery_changed")

    async def _order(self, turn: Turn) -> OrderView | None:
        number = self._steps.data(turn).number
        order = await turn.shop.get_order(number) if number else None
        return order if order is not None and owns(turn, order) else None

    def _not_answered(self, turn: Turn) -> bool:
        if another_request(turn):
            return False
        ask_again(turn)
        return True


def _basic_change(choice: str, order: OrderView) -> bool:
    """Another day or slot for the courier: what a proof by email/postcode allows (a courier
    day for an order going elsewhere would change its method)."""
    return choice == "when" and order.delivery_method == "courier"


def _what_word(text: str) -> str | None:
    lowered = text.lower()
    if any(w in lowered for w in ("address", "adres", "адрес")):
        return "address"
    if method_word(text) is not None or any(w in lowered for w in ("method", "sposób", "способ")):
        return "method"
    if any(w in lowered for w in ("day", "time", "slot", "dzień", "termin", "godzin", "день",
                                  "время", "дат")):
        return "when"
    return None


def _say_shipped(turn: Turn, order: OrderView) -> None:
    """Its delivery can no longer change; the courier's page when the shop gave one."""
    turn.say("delivery_shipped" if order.tracking_url else "delivery_shipped_no_link",
             number=order.number, carrier=order.carrier or "-", tracking_url=order.tracking_url)
