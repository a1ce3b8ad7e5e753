"""Return / withdrawal: which order (proven to be the customer's by the identification
sub-flow, dialog/flows/identify.py), which lines and how many, why, how the parcel travels;
then the RMA number and the label.

The rules (window, returnable categories, what went back already) live in orders/returns.py;
this flow asks and turns the desk's refusals into an offer of a colleague, never a flat no.
Every button has a free-text twin: "2 mugs", "all", "1", "courier", a reason in own words.

A typed number picks the offered button under that number (DialogManager, and email's numbered
options), so the listing numbers exactly the lines that have a button, in button order, and
shows the others (not returnable, returned already) below them without a number.

A return is opened only at the strong level of proof (docs/security.md): a chat that proved
the order by its email/postcode types the one-time code first; the customer hears of the
return in their own conversation.
"""

from __future__ import annotations

from dataclasses import replace

from dialog import events
from dialog.change_notices import tell_owner_of_change
from dialog.flows.base import Turn
from dialog.flows.choices import AnswerFirst
from dialog.flows.identify import (
    OrderIdentification,
    answer_code,
    ask_code,
    is_code_answer,
    numbers,
    proofs,
    strongly_owns,
)
from dialog.flows.return_answers import (
    chosen_quantities,
    method_in,
    other_subject,
    reask,
)
from dialog.flows.return_lines import LineChoice, ReturnData, ReturnStep
from dialog.flows.return_listing import (
    MAX_QUANTITY_BUTTONS,
    address_text,
    chosen_text,
    eligibility_of,
    example,
    last_day_text,
    line_buttons,
    listing,
    method_buttons,
    reason_buttons,
    refuse,
)
from dialog.flows.rich import document, enrich_last_reply
from dialog.flows.steps import Step, Steps
from dialog.messages import Button
from orders.returns import (
    DAMAGED,
    METHODS,
    REASONS,
    BadReturnRequest,
    ReturnRefused,
)
from orders.service import OrderView
from orders.states import OrderStatus


class ReturnFlow:
    name = "returns"
    # resume() judges "all" or "2 mugs" (goodbye or out_of_scope to the classifier) itself.
    intents: frozenset[str] = AnswerFirst({"return_order"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(
            self.name, frozenset({"return_order"}),
            ask_proof_key="returns_ask_proof", mismatch_key="returns_proof_mismatch",
        )
        self._lines = LineChoice(self._ask_reason)
        identified = Step[ReturnData](self._identified)
        self._steps = Steps(self.name, ReturnStep, ReturnData, {
            ReturnStep.NEED_NUMBER: identified,
            ReturnStep.NEED_PROOF: identified,
            ReturnStep.NEED_CODE: Step(self._code),
            ReturnStep.CHOOSE_LINES: Step(self._lines.lines_answer, "returns_choose_lines"),
            ReturnStep.QUANTITY: Step(self._lines.quantity_answer, "returns_ask_quantity"),
            ReturnStep.REASON: Step(self._reason_answer, "returns_ask_reason"),
            ReturnStep.PHOTO: Step(self._photo_answer, "returns_ask_photo"),
            ReturnStep.METHOD: Step(self._method_answer, "returns_ask_method"),
        })

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        await self._find_order(turn, numbers(turn), proofs(turn, loose=False))

    async def resume(self, turn: Turn) -> bool:
        step = self._steps.current(turn)
        if step not in (ReturnStep.NEED_NUMBER, ReturnStep.NEED_PROOF, ReturnStep.NEED_CODE) \
                and numbers(turn):
            return False  # another order named mid-return: a new question
        return await self._steps.resume(turn)

    async def _identified(self, turn: Turn, data: ReturnData) -> bool:
        answered, order = await self._identify.answer(turn)
        if order is not None:
            await self._offer(turn, order.number)
        if answered:
            return True
        if data.number is None:
            return reask(turn, "returns_ask_number")
        return reask(turn, "returns_ask_proof", number=data.number)

    async def _code(self, turn: Turn, data: ReturnData) -> bool:
        if not is_code_answer(turn):
            return False
        if await answer_code(turn) is not None and data.number is not None:
            await self._offer(turn, data.number)
        return True

    async def _reason_answer(self, turn: Turn, data: ReturnData) -> bool:
        text = turn.inbound.text.strip()
        if len(text) < 2 or other_subject(turn):
            return reask(turn, "returns_ask_reason", *reason_buttons(turn),
                               chosen=await chosen_text(turn, self._number(turn)))
        await self._ask_method(turn, reason=text)
        return True

    async def _photo_answer(self, turn: Turn, data: ReturnData) -> bool:
        if turn.inbound.attachments:
            turn.say("returns_photo_received")
            await self._ask_method(turn, reason=str(data.reason or DAMAGED),
                                   photo=turn.inbound.attachments[0])
            return True
        if other_subject(turn):
            return False
        return reask(turn, "returns_photo_not_understood", self._no_photo_button(turn))

    async def _method_answer(self, turn: Turn, data: ReturnData) -> bool:
        method = method_in(turn.inbound.text)
        if method is None:
            return reask(turn, "returns_method_not_understood",
                               *method_buttons(turn))
        await self._create(turn, method)
        return True

    async def on_action(self, turn: Turn, argument: str) -> None:
        kind, _, value = argument.partition(":")
        if kind == "order":
            return await self._find_order(turn, [value], [])
        data, step = self._steps.data(turn), self._steps.current(turn)
        if turn.state.flow != self.name or data.number is None:
            return await self.start(turn, "return_order")  # an old button: start over
        if kind == "all" and step is ReturnStep.CHOOSE_LINES:
            eligibility = await eligibility_of(turn, self._number(turn))
            return await self._lines.choose(turn, {line.position: line.returnable
                                             for line in eligibility.returnable_lines})
        if kind == "line" and value.isdigit() and step in (ReturnStep.CHOOSE_LINES,
                                                           ReturnStep.QUANTITY):
            return await self._lines.line_pressed(turn, int(value))
        if kind == "qty" and value.isdigit() and step is ReturnStep.QUANTITY:
            return await self._lines.choose(turn, {int(data.line or 0): int(value)})
        if kind == "done" and data.chosen:
            return await self._ask_reason(turn)
        if kind == "reason" and value == DAMAGED and step is ReturnStep.REASON:
            return self._ask_photo(turn)
        if kind == "reason" and value in REASONS and step is ReturnStep.REASON:
            return await self._ask_method(turn, reason=value)
        if kind == "nophoto" and step is ReturnStep.PHOTO:
            return await self._ask_method(turn, reason=DAMAGED)
        if kind == "method" and value in METHODS and step is ReturnStep.METHOD:
            return await self._create(turn, value)
        await self._offer(turn, data.number)  # a stale button of this return: show it again

    # Which order, and is it the customer's?

    async def _find_order(self, turn: Turn, numbers: list[str], proofs: list[str]) -> None:
        if not numbers:  # which of their own orders: only a delivered one can go back
            return await self._choose_order(turn)
        order = await self._identify.find(turn, numbers, proofs)
        if order is not None:
            await self._offer(turn, order.number)

    async def _choose_order(self, turn: Turn) -> None:
        state = turn.state
        candidates: list[OrderView] = []
        if state.customer_id is not None:
            candidates = await turn.shop.orders_of_customer(state.customer_id)
        elif state.verified_orders:
            order = await turn.shop.get_order(state.verified_orders[-1])
            candidates = [order] if order is not None else []
        delivered = [order for order in candidates if order.status is OrderStatus.DELIVERED]
        if len(delivered) == 1:
            return await self._offer(turn, delivered[0].number)
        self._steps.enter(turn, ReturnStep.NEED_NUMBER, ReturnData())
        if delivered:
            buttons = [turn.button_plain(order.number, f"{self.name}:order:{order.number}")
                       for order in delivered[:MAX_QUANTITY_BUTTONS]]
            return turn.say("returns_choose_order", *buttons)
        turn.say("returns_ask_number")

    # What may go back, and the customer's choice of lines.

    async def _offer(self, turn: Turn, number: str) -> None:
        eligibility = await eligibility_of(turn, number)
        if eligibility.refusal is not None:
            return await refuse(turn, eligibility)
        order = await turn.shop.get_order(number)
        if order is None:
            return await refuse(turn, eligibility)
        if not strongly_owns(turn, order):
            return await ask_code(turn, self.name, order, then="offer")
        self._steps.ask(
            turn, ReturnStep.CHOOSE_LINES, ReturnData(number, chosen={}),
            *line_buttons(turn, eligibility),
            number=number, last_day=last_day_text(turn, eligibility),
            lines=listing(turn, eligibility, {}),
            example=example(eligibility),
        )

    # Why, and how the parcel travels; then the return itself.

    async def _ask_reason(self, turn: Turn) -> None:
        data = self._steps.data(turn)
        self._steps.ask(turn, ReturnStep.REASON, ReturnData(data.number, data.chosen),
                        *reason_buttons(turn),
                        chosen=await chosen_text(turn, self._number(turn)))

    def _ask_photo(self, turn: Turn) -> None:
        """A damaged item: a photo helps the shop (and the carrier's claim); never required."""
        data = self._steps.data(turn)
        self._steps.ask(turn, ReturnStep.PHOTO, replace(data, line=None, reason=DAMAGED),
                        self._no_photo_button(turn))

    def _no_photo_button(self, turn: Turn) -> Button:
        return turn.button("returns_button_no_photo", f"{self.name}:nophoto")

    async def _ask_method(self, turn: Turn, reason: str, photo: str | None = None) -> None:
        data = self._steps.data(turn)
        self._steps.ask(turn, ReturnStep.METHOD,
                        replace(data, line=None, reason=reason, photo=photo),
                        *method_buttons(turn))

    async def _create(self, turn: Turn, method: str) -> None:
        data = self._steps.data(turn)
        number = str(data.number)
        told = await chosen_text(turn, number)
        asked = await turn.shop.get_order(number)
        if asked is None or not strongly_owns(turn, asked):
            return await self._offer(turn, number)
        try:
            made = await turn.shop.request_return(number, chosen_quantities(turn.state.slots),
                                                  str(data.reason), method, photo=data.photo)
        except ReturnRefused:
            return await refuse(turn, await eligibility_of(turn, self._number(turn)))
        except BadReturnRequest:  # the order changed meanwhile: choose again
            return await self._offer(turn, number)
        order = await turn.shop.get_order(made.number)
        turn.finish()
        turn.record(events.RETURN_OPENED, made.number)
        turn.say(
            f"returns_created_{method}",
            rma=made.rma, number=made.number, chosen=told,
            label_url=made.label_url or "-",
            amount=turn.money(made.amount_minor, made.currency),
            address=address_text(turn, order),
        )
        if made.label_url:
            enrich_last_reply(turn, documents=[document(turn, "return_label", made.label_url)])
        tell_owner_of_change(turn, order or asked, "notice_return_opened", rma=made.rma)

    # Small pieces.

    def _number(self, turn: Turn) -> str:
        return str(self._steps.data(turn).number)
