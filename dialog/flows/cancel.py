"""Cancel an order: find it and prove it is the customer's (as the status flow does), ask
"Cancel order A-1002? yes/no", then let the order core cancel it (stock back, refund started).
After shipping it cannot be cancelled: the bot says so and offers a return instead.

An unpaid order may be cancelled by whoever proved it; a paid one (its money goes back) only at
the strong level (docs/security.md), and the customer hears of it in their own conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialog import events
from dialog.change_notices import tell_owner_of_change
from dialog.flows.base import Turn, human_button
from dialog.flows.identify import (
    ORDER_INTENTS,
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
from orders.cancellation import (
    CANCELLABLE,
    AlreadyCancelled,
    AlreadyShipped,
    Cancellation,
)
from orders.service import OrderError, OrderView
from orders.states import IllegalTransition, OrderStatus

ANSWER_CONFIDENCE = 0.5  # a yes or no the NLU is at least this sure of
CAUSE = "cancelled by the customer in the chat"


class CancelStep(StrEnum):
    NEED_NUMBER = IdentifyStep.NEED_NUMBER.value
    NEED_PROOF = IdentifyStep.NEED_PROOF.value
    CHOOSE = IdentifyStep.CHOOSE.value
    NEED_CODE = IdentifyStep.NEED_CODE.value  # a refund needs the strong proof
    CONFIRM = "confirm"  # "Cancel order A-1002?"


@dataclass
class CancelData(FlowData):
    number: str = ""


class CancelFlow:
    name = "cancel"
    intents = frozenset({"cancel_order"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(self.name, self.intents)
        identified = self._identify.step(self._offer)
        self._steps = Steps(self.name, CancelStep, CancelData, {
            CancelStep.NEED_NUMBER: identified,
            CancelStep.NEED_PROOF: identified,
            CancelStep.CHOOSE: identified,
            CancelStep.NEED_CODE: Step(self._code),
            CancelStep.CONFIRM: Step(self._confirm, "cancel_ask", (
                ("cancel_button_yes", "yes:{number}"), ("cancel_button_no", "no:{number}"))),
        })

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        order = await self._identify.start(turn)
        if order is not None:
            await self._offer(turn, order)

    async def resume(self, turn: Turn) -> bool:
        return await self._steps.resume(turn)

    async def _code(self, turn: Turn, data: CancelData) -> bool:
        if not is_code_answer(turn):
            return False
        if await answer_code(turn) is not None:
            order = await turn.shop.get_order(data.number)
            if order is not None:
                await self._offer(turn, order)
        return True

    async def _confirm(self, turn: Turn, data: CancelData) -> bool:
        number = data.number
        intent = _intent(turn)
        if intent in ORDER_INTENTS and intent not in self.intents:
            return False  # "where is my order A-1014?": another question, not an answer
        named = [found for found in numbers(turn) if found != number]
        if named:  # "no, I meant A-1003": that order instead; anything else is not an answer
            if intent not in (None, "cancel_order"):
                return False
            turn.finish()
            order = await self._identify.find(turn, named, proofs(turn, loose=False))
            if order is not None:
                await self._offer(turn, order)
            return True
        if intent in ("affirm", "cancel_order"):
            await self._cancel(turn, number)
        elif intent == "deny":
            turn.finish()
            turn.say("cancel_kept", number=number)
        else:
            self._steps.ask(turn, CancelStep.CONFIRM, data, prompt="cancel_reask", number=number)
        return True

    async def on_action(self, turn: Turn, argument: str) -> None:
        answer, _, number = argument.partition(":")
        if answer not in ("yes", "no"):  # a number picked from the customer's orders
            return await self._pick(turn, argument)
        order = await turn.shop.get_order(number)
        if order is None or not owns(turn, order):
            return await self._pick(turn, number)
        if answer == "no":
            turn.finish()
            return turn.say("cancel_kept", number=number)
        await self._cancel(turn, number)

    async def _pick(self, turn: Turn, number: str) -> None:
        turn.finish()
        order = await self._identify.find(turn, [number], [])
        if order is not None:
            await self._offer(turn, order)

    async def _offer(self, turn: Turn, order: OrderView) -> None:
        """Ask to confirm the cancellation, or say why it is not possible any more."""
        number = order.number
        if order.status in CANCELLABLE and _refunds(order) and not strongly_owns(turn, order):
            return await ask_code(turn, self.name, order, then="offer")
        if order.status in CANCELLABLE:
            data = CancelData(number)
            due = order.total_minor - order.refunded_minor
            if order.payment_status == "paid" and due > 0:
                return self._steps.ask(turn, CancelStep.CONFIRM, data, prompt="cancel_ask_paid",
                                       number=number, amount=turn.money(due, order.currency))
            return self._steps.ask(turn, CancelStep.CONFIRM, data, number=number)
        turn.finish()
        self._refuse(turn, number, order.status)

    def _refuse(self, turn: Turn, number: str, status: OrderStatus) -> None:
        return_instead = turn.button("cancel_button_return", f"returns:order:{number}")
        if status is OrderStatus.SHIPPED:
            turn.say("cancel_too_late_shipped", return_instead, human_button(turn), number=number)
        elif status is OrderStatus.DELIVERED:
            turn.say("cancel_too_late_delivered", return_instead, human_button(turn),
                     number=number)
        elif status is OrderStatus.CANCELLED:
            turn.say("cancel_already", number=number)
        else:
            turn.say("cancel_too_late_returning", human_button(turn), number=number)

    async def _cancel(self, turn: Turn, number: str) -> None:
        turn.finish()
        order = await turn.shop.get_order(number)
        if order is not None and _refunds(order) and not strongly_owns(turn, order):
            return await self._offer(turn, order)  # paid meanwhile: the code first
        try:
            done = await turn.shop.cancel_order(number, CAUSE)
        except AlreadyShipped as refused:
            return self._refuse(turn, number, refused.status)
        except AlreadyCancelled:
            return turn.say("cancel_already", number=number)
        except (OrderError, IllegalTransition):
            return turn.say("cancel_failed", human_button(turn), number=number)
        turn.record(events.ORDER_CANCELLED, number)
        self._tell_done(turn, done)
        if order is not None and _refunds(order):
            tell_owner_of_change(turn, done.order, "notice_cancelled")

    @staticmethod
    def _tell_done(turn: Turn, done: Cancellation) -> None:
        order = done.order
        due = order.total_minor - order.refunded_minor
        if done.refund_failed:
            turn.escalate("refund_failed")
            return turn.say("cancel_done_refund_by_hand", number=order.number,
                            amount=turn.money(due, order.currency))
        if done.refund_id is not None:
            return turn.say("cancel_done_refund", number=order.number,
                            amount=turn.money(done.refunded_minor, order.currency))
        turn.say("cancel_done", number=order.number)



def _refunds(order: OrderView) -> bool:
    """Cancelling it sends money back: the strong level of proof is needed."""
    return order.payment_status == "paid" and order.total_minor > order.refunded_minor


def _intent(turn: Turn) -> str | None:
    understanding = turn.understanding
    if understanding is None or understanding.confidence < ANSWER_CONFIDENCE:
        return None
    return understanding.intent
