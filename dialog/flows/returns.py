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

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from dialog import events
from dialog.change_notices import tell_owner_of_change
from dialog.flows.base import Turn
from dialog.flows.choices import AnswerFirst
from dialog.flows.identify import (
    IdentifyStep,
    OrderIdentification,
    answer_code,
    ask_code,
    is_code_answer,
    numbers,
    proofs,
    strongly_owns,
)
from dialog.flows.return_answers import (
    ALL,
    DONE,
    chosen_quantities,
    count_in,
    method_in,
    offered,
    other_subject,
    parse_lines,
)
from dialog.flows.steps import FlowData, Step, Steps
from orders.returns import (
    METHODS,
    REASONS,
    BadReturnRequest,
    Eligibility,
    ReturnLine,
    ReturnRefusal,
    ReturnRefused,
)
from orders.service import OrderView
from orders.states import OrderStatus

OPERATOR = "handoff:return_exception"  # HandoffFlow escalates with this reason
MAX_QUANTITY_BUTTONS = 6
class ReturnStep(StrEnum):
    NEED_NUMBER = IdentifyStep.NEED_NUMBER.value
    NEED_PROOF = IdentifyStep.NEED_PROOF.value
    NEED_CODE = IdentifyStep.NEED_CODE.value  # a return needs the strong proof
    CHOOSE_LINES = "choose_lines"  # which lines; "chosen" grows until "done"
    QUANTITY = "quantity"  # how many of "line"
    REASON = "reason"
    METHOD = "method"  # then the return is made: the RMA and the label


@dataclass
class ReturnData(FlowData):
    number: str | None = None
    chosen: dict[str, int] | None = None  # {line position: quantity} (JSON keys)
    line: int | None = None  # the line whose quantity is asked
    reason: str | None = None


class ReturnFlow:
    name = "returns"
    # resume() judges "all" or "2 mugs" (goodbye or out_of_scope to the classifier) itself.
    intents: frozenset[str] = AnswerFirst({"return_order"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(
            self.name, frozenset({"return_order"}),
            ask_proof_key="returns_ask_proof", mismatch_key="returns_proof_mismatch",
        )
        identified = Step[ReturnData](self._identified)
        self._steps = Steps(self.name, ReturnStep, ReturnData, {
            ReturnStep.NEED_NUMBER: identified,
            ReturnStep.NEED_PROOF: identified,
            ReturnStep.NEED_CODE: Step(self._code),
            ReturnStep.CHOOSE_LINES: Step(self._lines_answer, "returns_choose_lines"),
            ReturnStep.QUANTITY: Step(self._quantity_answer, "returns_ask_quantity"),
            ReturnStep.REASON: Step(self._reason_answer, "returns_ask_reason"),
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
            return self._reask(turn, "returns_ask_number")
        return self._reask(turn, "returns_ask_proof", number=data.number)

    async def _code(self, turn: Turn, data: ReturnData) -> bool:
        if not is_code_answer(turn):
            return False
        if await answer_code(turn) is not None and data.number is not None:
            await self._offer(turn, data.number)
        return True

    async def _reason_answer(self, turn: Turn, data: ReturnData) -> bool:
        text = turn.inbound.text.strip()
        if len(text) < 2 or other_subject(turn):
            return self._reask(turn, "returns_ask_reason", *self._reason_buttons(turn),
                               chosen=await self._chosen_text(turn))
        await self._ask_method(turn, reason=text)
        return True

    async def _method_answer(self, turn: Turn, data: ReturnData) -> bool:
        method = method_in(turn.inbound.text)
        if method is None:
            return self._reask(turn, "returns_method_not_understood",
                               *self._method_buttons(turn))
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
            eligibility = await self._eligibility(turn)
            return await self._choose(turn, {line.position: line.returnable
                                             for line in eligibility.returnable_lines})
        if kind == "line" and value.isdigit() and step in (ReturnStep.CHOOSE_LINES,
                                                           ReturnStep.QUANTITY):
            return await self._line_pressed(turn, int(value))
        if kind == "qty" and value.isdigit() and step is ReturnStep.QUANTITY:
            return await self._choose(turn, {int(data.line or 0): int(value)})
        if kind == "done" and data.chosen:
            return await self._ask_reason(turn)
        if kind == "reason" and value in REASONS and step is ReturnStep.REASON:
            return await self._ask_method(turn, reason=value)
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
        eligibility = await self._eligibility(turn, number)
        if eligibility.refusal is not None:
            return await self._refuse(turn, eligibility)
        order = await turn.shop.get_order(number)
        if order is None:
            return await self._refuse(turn, eligibility)
        if not strongly_owns(turn, order):
            return await ask_code(turn, self.name, order, then="offer")
        self._steps.ask(
            turn, ReturnStep.CHOOSE_LINES, ReturnData(number, chosen={}),
            *self._line_buttons(turn, eligibility),
            number=number, last_day=_day(turn, eligibility),
            lines=self._listing(turn, eligibility, {}),
            example=_example(eligibility),
        )

    async def _refuse(self, turn: Turn, eligibility: Eligibility) -> None:
        turn.finish()
        operator = turn.button("returns_button_operator", OPERATOR)
        number, refusal = eligibility.number, eligibility.refusal
        if refusal is ReturnRefusal.RETURN_OPEN and eligibility.open_return:
            found = await turn.shop.find_return(eligibility.open_return)
            return turn.say("returns_open", operator, number=number, rma=eligibility.open_return,
                            label_url=(found.label_url if found else None) or "-")
        if refusal is ReturnRefusal.WINDOW_CLOSED:
            return turn.say("returns_window_closed", operator, number=number,
                            last_day=_day(turn, eligibility), days=turn.shop.return_window_days)
        if refusal in (ReturnRefusal.NOT_RETURNABLE, ReturnRefusal.ALREADY_RETURNED):
            return turn.say("returns_nothing_returnable", operator, number=number,
                            lines=self._listing(turn, eligibility, {}))
        key = {
            ReturnRefusal.RETURN_OPEN: "returns_open_by_shop",
            ReturnRefusal.RETURNED: "returns_returned",
        }.get(refusal or ReturnRefusal.NOT_DELIVERED, "returns_not_delivered")
        turn.say(key, operator, number=number, days=turn.shop.return_window_days)

    async def _lines_answer(self, turn: Turn, data: ReturnData) -> bool:
        eligibility = await self._eligibility(turn)
        text = turn.inbound.text.strip()
        if chosen_quantities(turn.state.slots) and DONE.match(text):
            await self._ask_reason(turn)
            return True
        if ALL.match(text):
            await self._choose(turn, {line.position: line.returnable
                                      for line in eligibility.returnable_lines})
            return True
        if text.isdigit():  # past the buttons (a number within them is a press already)
            choices = offered(eligibility, chosen_quantities(turn.state.slots))
            index = int(text)
            if 1 <= index <= len(choices):
                await self._line_pressed(turn, choices[index - 1].position)
            else:
                turn.say("returns_lines_not_understood", *self._line_buttons(turn, eligibility),
                         example=_example(eligibility))
            return True
        wanted = parse_lines(text, eligibility.lines)
        if not wanted:
            return self._reask(turn, "returns_lines_not_understood",
                               *self._line_buttons(turn, eligibility),
                               example=_example(eligibility))
        by_position = {line.position: line for line in eligibility.lines}
        chosen: dict[int, int] = {}
        for position, count in wanted.items():
            line = by_position[position]
            if line.refusal is not None:
                turn.say("returns_line_refused", *self._line_buttons(turn, eligibility),
                         name=line.name, why=_why(turn, line))
                return True
            count = line.returnable if count is None else count
            if not 1 <= count <= line.returnable:
                turn.say("returns_too_many", *self._line_buttons(turn, eligibility),
                         name=line.name, max=line.returnable)
                return True
            chosen[position] = count
        await self._choose(turn, chosen)
        return True

    async def _line_pressed(self, turn: Turn, position: int) -> None:
        eligibility = await self._eligibility(turn)
        line = next((line for line in eligibility.lines if line.position == position), None)
        if line is None:
            turn.say("returns_lines_not_understood", *self._line_buttons(turn, eligibility),
                     example=_example(eligibility))
            return None
        if line.refusal is not None:
            return turn.say("returns_line_refused", *self._line_buttons(turn, eligibility),
                            name=line.name, why=_why(turn, line))
        if line.returnable == 1:
            return await self._choose(turn, {position: 1})
        data = replace(self._steps.data(turn), line=position)
        self._steps.ask(turn, ReturnStep.QUANTITY, data, *self._quantity_buttons(turn, line),
                        name=line.name, max=line.returnable)

    async def _quantity_answer(self, turn: Turn, data: ReturnData) -> bool:
        eligibility = await self._eligibility(turn)
        position = int(data.line or 0)
        line = next(line for line in eligibility.lines if line.position == position)
        count = count_in(turn.inbound.text)
        if count is None and ALL.match(turn.inbound.text):
            count = line.returnable
        if count is None or not 1 <= count <= line.returnable:
            return self._reask(turn, "returns_bad_quantity",
                               *self._quantity_buttons(turn, line),
                               name=line.name, max=line.returnable)
        await self._choose(turn, {position: count})
        return True

    async def _choose(self, turn: Turn, quantities: dict[int, int]) -> None:
        data = self._steps.data(turn)
        chosen = {**chosen_quantities(turn.state.slots), **quantities}
        self._steps.enter(turn, ReturnStep.CHOOSE_LINES, ReturnData(
            data.number, chosen={str(position): count for position, count in chosen.items()}))
        eligibility = await self._eligibility(turn)
        if not offered(eligibility, chosen):
            return await self._ask_reason(turn)
        turn.say("returns_selected", *self._line_buttons(turn, eligibility),
                 chosen=await self._chosen_text(turn),
                 lines=self._listing(turn, eligibility, chosen))

    # Why, and how the parcel travels; then the return itself.

    async def _ask_reason(self, turn: Turn) -> None:
        data = self._steps.data(turn)
        self._steps.ask(turn, ReturnStep.REASON, ReturnData(data.number, data.chosen),
                        *self._reason_buttons(turn), chosen=await self._chosen_text(turn))

    async def _ask_method(self, turn: Turn, reason: str) -> None:
        data = self._steps.data(turn)
        self._steps.ask(turn, ReturnStep.METHOD, replace(data, line=None, reason=reason),
                        *self._method_buttons(turn))

    async def _create(self, turn: Turn, method: str) -> None:
        data = self._steps.data(turn)
        number = str(data.number)
        chosen_text = await self._chosen_text(turn)
        asked = await turn.shop.get_order(number)
        if asked is None or not strongly_owns(turn, asked):
            return await self._offer(turn, number)
        try:
            made = await turn.shop.request_return(number, chosen_quantities(turn.state.slots),
                                                  str(data.reason), method)
        except ReturnRefused:
            return await self._refuse(turn, await self._eligibility(turn))
        except BadReturnRequest:  # the order changed meanwhile: choose again
            return await self._offer(turn, number)
        order = await turn.shop.get_order(made.number)
        turn.finish()
        turn.record(events.RETURN_OPENED, made.number)
        turn.say(
            f"returns_created_{method}",
            rma=made.rma, number=made.number, chosen=chosen_text,
            label_url=made.label_url or "-",
            amount=turn.money(made.amount_minor, made.currency),
            address=_address(turn, order),
        )
        tell_owner_of_change(turn, order or asked, "notice_return_opened", rma=made.rma)

    # Small pieces.

    async def _eligibility(self, turn: Turn, number: str | None = None) -> Eligibility:
        eligibility = await turn.shop.return_eligibility(
            number or str(self._steps.data(turn).number))
        names = await turn.shop.names((line.sku for line in eligibility.lines), turn.language)
        return replace(eligibility, lines=tuple(
            replace(line, name=names.get(line.sku, line.name)) for line in eligibility.lines))

    async def _chosen_text(self, turn: Turn) -> str:
        eligibility = await self._eligibility(turn)
        names = {line.position: line.name for line in eligibility.lines}
        return ", ".join(
            turn.text("returns_chosen_item", quantity=count, name=names.get(position, "?"))
            for position, count in sorted(chosen_quantities(turn.state.slots).items())
        )

    def _listing(self, turn: Turn, eligibility: Eligibility, chosen: dict[int, int]) -> str:
        """The lines with a button, numbered as their buttons; then, without a number, those
        that cannot go back and why. Lines chosen already are said by "So far"."""
        rows = [
            turn.text("returns_line_item", index=index, name=line.name,
                      quantity=line.returnable,
                      price=turn.money(line.unit_price_minor, eligibility.currency))
            for index, line in enumerate(offered(eligibility, chosen), 1)
        ]
        rows += [
            turn.text("returns_line_blocked", name=line.name, quantity=line.ordered,
                      why=_why(turn, line))
            for line in eligibility.lines if line.refusal is not None
        ]
        return "\n".join(rows)

    def _line_buttons(self, turn: Turn, eligibility: Eligibility) -> list[Any]:
        """A button for each line _listing numbers, in its order; then the other choices."""
        chosen = chosen_quantities(turn.state.slots)
        buttons = [turn.button_plain(line.name, f"{self.name}:line:{line.position}")
                   for line in offered(eligibility, chosen)]
        if not chosen and len(eligibility.returnable_lines) > 1:
            buttons.append(turn.button("returns_button_all", f"{self.name}:all"))
        if chosen:
            buttons.append(turn.button("returns_button_done", f"{self.name}:done"))
        if any(line.refusal is not None for line in eligibility.lines):
            buttons.append(turn.button("returns_button_operator", OPERATOR))
        return buttons

    def _quantity_buttons(self, turn: Turn, line: ReturnLine) -> list[Any]:
        top = min(line.returnable, MAX_QUANTITY_BUTTONS)
        return [turn.button_plain(str(count), f"{self.name}:qty:{count}")
                for count in range(1, top + 1)]

    def _reason_buttons(self, turn: Turn) -> list[Any]:
        return [turn.button(f"returns_reason_{code}", f"{self.name}:reason:{code}")
                for code in REASONS]

    def _method_buttons(self, turn: Turn) -> list[Any]:
        return [turn.button(f"returns_method_{code}", f"{self.name}:method:{code}")
                for code in METHODS]

    @staticmethod
    def _reask(turn: Turn, key: str, *buttons: Any, **params: object) -> bool:
        """Not an answer: a change of subject goes back to the manager, anything else is
        asked again politely."""
        if other_subject(turn):
            return False
        turn.say(key, *buttons, **params)
        return True


def _why(turn: Turn, line: ReturnLine) -> str:
    if line.refusal is ReturnRefusal.ALREADY_RETURNED:
        return turn.text("returns_why_already_returned")
    return turn.text("returns_why_not_returnable")


def _example(eligibility: Eligibility) -> str:
    lines = eligibility.returnable_lines or eligibility.lines
    return lines[0].name if lines else ""


def _day(turn: Turn, eligibility: Eligibility) -> str:
    if eligibility.last_day is None:
        return "-"
    return eligibility.last_day.strftime(turn.text("date_format"))


def _address(turn: Turn, order: OrderView | None) -> str:
    address = order.delivery_address if order is not None else {}
    parts = [str(address[key]) for key in ("street", "postcode", "city") if address.get(key)]
    return ", ".join(parts) or turn.text("returns_your_address")
