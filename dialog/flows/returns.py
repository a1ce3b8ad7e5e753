"""Return / withdrawal: which order (proven to be the customer's by the status flow's
OrderIdentification), which lines and how many, why, how the parcel travels; then the RMA
number and the label.

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

import re
from dataclasses import replace
from typing import Any

from dialog import events
from dialog.change_notices import tell_owner_of_change
from dialog.flows.base import Turn
from dialog.flows.choices import AnswerFirst
from dialog.flows.status import OrderIdentification, numbers, proofs
from dialog.flows.strong_proof import (
    CODE_STEP,
    answer_code,
    ask_code,
    is_code_answer,
    strongly_owns,
)
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
# An answer the classifier is this sure belongs to another subject is a change of subject.
_OTHER_SUBJECT_CONFIDENCE = 0.6
_NOT_A_SUBJECT = frozenset({"return_order", "out_of_scope", "goodbye", "greet", "thanks",
                            "affirm", "deny"})
_ALL = re.compile(r"^\s*(all|everything|all items|wszystk\w*|całe|все|вс[её]|целиком)\W*$",
                  re.IGNORECASE)
_DONE = re.compile(
    r"^\s*(continue|done|next|no|nope|that'?s (it|all)|nothing( else)?|dalej|gotowe|nie|"
    r"to wszystko|nic( więcej)?|дальше|готово|нет|это вс[её]|больше ничего)\W*$", re.IGNORECASE)
_SEPARATORS = re.compile(r",|;|\+|&|\band\b|\boraz\b|\bi\b|\bи\b", re.IGNORECASE)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "jeden": 1, "jedna": 1, "jedno": 1, "dwa": 2, "dwie": 2, "trzy": 3, "cztery": 4, "pięć": 5,
    "один": 1, "одна": 1, "одну": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
}
_FILLER = frozenset({"the", "and", "item", "items", "want", "return", "please", "back", "send",
                     "pcs", "szt", "шт"})
_METHOD_WORDS = {
    "courier_pickup": ("courier", "pickup", "pick up", "collect", "kurier", "odbi", "курьер",
                       "заб"),
    "drop_off": ("drop", "point", "post", "punkt", "paczkomat", "nadam", "пункт", "почт",
                 "сам"),
}


class ReturnFlow:
    name = "returns"
    # resume() judges "all" or "2 mugs" (goodbye or out_of_scope to the classifier) itself.
    intents: frozenset[str] = AnswerFirst({"return_order"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(
            self.name, frozenset({"return_order"}),
            ask_proof_key="returns_ask_proof", mismatch_key="returns_proof_mismatch",
        )

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        await self._find_order(turn, numbers(turn), proofs(turn, loose=False))

    async def resume(self, turn: Turn) -> bool:
        step = turn.state.step
        if step in ("need_number", "need_proof"):
            answered, order = await self._identify.answer(turn)
            if order is not None:
                await self._offer(turn, order.number)
            if answered:
                return True
            if step == "need_number":
                return self._reask(turn, "returns_ask_number")
            return self._reask(turn, "returns_ask_proof", number=turn.state.slots["number"])
        if step == CODE_STEP:
            if not is_code_answer(turn):
                return False
            if await answer_code(turn) is not None:
                await self._offer(turn, turn.state.slots["number"])
            return True
        if numbers(turn):  # another order named mid-return: a new question
            return False
        if step == "choose_lines":
            return await self._lines_answer(turn)
        if step == "quantity":
            return await self._quantity_answer(turn)
        if step == "reason":
            text = turn.inbound.text.strip()
            if len(text) < 2 or _other_subject(turn):
                return self._reask(turn, "returns_ask_reason", *self._reason_buttons(turn),
                                   chosen=await self._chosen_text(turn))
            await self._ask_method(turn, reason=text)
            return True
        if step == "method":
            method = _method(turn.inbound.text)
            if method is None:
                return self._reask(turn, "returns_method_not_understood",
                                   *self._method_buttons(turn))
            await self._create(turn, method)
            return True
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        kind, _, value = argument.partition(":")
        if kind == "order":
            return await self._find_order(turn, [value], [])
        if turn.state.flow != self.name or "number" not in turn.state.slots:
            return await self.start(turn, "return_order")  # an old button: start over
        slots = turn.state.slots
        if kind == "all" and turn.state.step == "choose_lines":
            eligibility = await self._eligibility(turn)
            return await self._choose(turn, {line.position: line.returnable
                                             for line in eligibility.returnable_lines})
        if kind == "line" and value.isdigit() and turn.state.step in ("choose_lines", "quantity"):
            return await self._line_pressed(turn, int(value))
        if kind == "qty" and value.isdigit() and turn.state.step == "quantity":
            return await self._choose(turn, {int(slots["line"]): int(value)})
        if kind == "done" and _chosen(slots):
            return await self._ask_reason(turn)
        if kind == "reason" and value in REASONS and turn.state.step == "reason":
            return await self._ask_method(turn, reason=value)
        if kind == "method" and value in METHODS and turn.state.step == "method":
            return await self._create(turn, value)
        await self._offer(turn, slots["number"])  # a stale button of this return: show it again

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
        turn.enter(self.name, "need_number")
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
        turn.enter(self.name, "choose_lines", number=number, chosen={})
        turn.say(
            "returns_choose_lines", *self._line_buttons(turn, eligibility),
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

    async def _lines_answer(self, turn: Turn) -> bool:
        eligibility = await self._eligibility(turn)
        text = turn.inbound.text.strip()
        if _chosen(turn.state.slots) and _DONE.match(text):
            await self._ask_reason(turn)
            return True
        if _ALL.match(text):
            await self._choose(turn, {line.position: line.returnable
                                      for line in eligibility.returnable_lines})
            return True
        if text.isdigit():  # past the buttons (a number within them is a press already)
            offered = _offered(eligibility, _chosen(turn.state.slots))
            index = int(text)
            if 1 <= index <= len(offered):
                await self._line_pressed(turn, offered[index - 1].position)
            else:
                turn.say("returns_lines_not_understood", *self._line_buttons(turn, eligibility),
                         example=_example(eligibility))
            return True
        wanted = _parse_lines(text, eligibility.lines)
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
        turn.enter(self.name, "quantity", **{**turn.state.slots, "line": position})
        turn.say("returns_ask_quantity", *self._quantity_buttons(turn, line),
                 name=line.name, max=line.returnable)

    async def _quantity_answer(self, turn: Turn) -> bool:
        eligibility = await self._eligibility(turn)
        position = int(turn.state.slots["line"])
        line = next(line for line in eligibility.lines if line.position == position)
        count = _count(turn.inbound.text)
        if count is None and _ALL.match(turn.inbound.text):
            count = line.returnable
        if count is None or not 1 <= count <= line.returnable:
            return self._reask(turn, "returns_bad_quantity",
                               *self._quantity_buttons(turn, line),
                               name=line.name, max=line.returnable)
        await self._choose(turn, {position: count})
        return True

    async def _choose(self, turn: Turn, quantities: dict[int, int]) -> None:
        slots = turn.state.slots
        chosen = {**_chosen(slots), **quantities}
        turn.enter(self.name, "choose_lines", number=slots["number"],
                   chosen={str(position): count for position, count in chosen.items()})
        eligibility = await self._eligibility(turn)
        if not _offered(eligibility, chosen):
            return await self._ask_reason(turn)
        turn.say("returns_selected", *self._line_buttons(turn, eligibility),
                 chosen=await self._chosen_text(turn),
                 lines=self._listing(turn, eligibility, chosen))

    # Why, and how the parcel travels; then the return itself.

    async def _ask_reason(self, turn: Turn) -> None:
        slots = turn.state.slots
        turn.enter(self.name, "reason", number=slots["number"], chosen=slots["chosen"])
        turn.say("returns_ask_reason", *self._reason_buttons(turn),
                 chosen=await self._chosen_text(turn))

    async def _ask_method(self, turn: Turn, reason: str) -> None:
        slots = turn.state.slots
        turn.enter(self.name, "method", number=slots["number"], chosen=slots["chosen"],
                   reason=reason)
        turn.say("returns_ask_method", *self._method_buttons(turn))

    async def _create(self, turn: Turn, method: str) -> None:
        slots = turn.state.slots
        chosen_text = await self._chosen_text(turn)
        asked = await turn.shop.get_order(slots["number"])
        if asked is None or not strongly_owns(turn, asked):
            return await self._offer(turn, slots["number"])
        try:
            made = await turn.shop.request_return(slots["number"], _chosen(slots),
                                             str(slots["reason"]), method)
        except ReturnRefused:
            return await self._refuse(turn, await self._eligibility(turn))
        except BadReturnRequest:  # the order changed meanwhile: choose again
            return await self._offer(turn, slots["number"])
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
        eligibility = await turn.shop.return_eligibility(number or turn.state.slots["number"])
        names = await turn.shop.names((line.sku for line in eligibility.lines),
                               turn.language)
        return replace(eligibility, lines=tuple(
            replace(line, name=names.get(line.sku, line.name)) for line in eligibility.lines))

    async def _chosen_text(self, turn: Turn) -> str:
        eligibility = await self._eligibility(turn)
        names = {line.position: line.name for line in eligibility.lines}
        return ", ".join(
            turn.text("returns_chosen_item", quantity=count, name=names.get(position, "?"))
            for position, count in sorted(_chosen(turn.state.slots).items())
        )

    def _listing(self, turn: Turn, eligibility: Eligibility, chosen: dict[int, int]) -> str:
        """The lines with a button, numbered as their buttons; then, without a number, those
        that cannot go back and why. Lines chosen already are said by "So far"."""
        rows = [
            turn.text("returns_line_item", index=index, name=line.name,
                      quantity=line.returnable,
                      price=turn.money(line.unit_price_minor, eligibility.currency))
            for index, line in enumerate(_offered(eligibility, chosen), 1)
        ]
        rows += [
            turn.text("returns_line_blocked", name=line.name, quantity=line.ordered,
                      why=_why(turn, line))
            for line in eligibility.lines if line.refusal is not None
        ]
        return "\n".join(rows)

    def _line_buttons(self, turn: Turn, eligibility: Eligibility) -> list[Any]:
        """A button for each line _listing numbers, in its order; then the other choices."""
        chosen = _chosen(turn.state.slots)
        buttons = [turn.button_plain(line.name, f"{self.name}:line:{line.position}")
                   for line in _offered(eligibility, chosen)]
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
        if _other_subject(turn):
            return False
        turn.say(key, *buttons, **params)
        return True


def _other_subject(turn: Turn) -> bool:
    understanding = turn.understanding
    return understanding is not None and (
        understanding.confidence >= _OTHER_SUBJECT_CONFIDENCE
        and understanding.intent not in _NOT_A_SUBJECT
    )


def _chosen(slots: dict[str, Any]) -> dict[int, int]:
    return {int(position): int(count) for position, count in (slots.get("chosen") or {}).items()}


def _offered(eligibility: Eligibility, chosen: dict[int, int]) -> list[ReturnLine]:
    """The lines the customer may still pick, in order: each has a button and a number."""
    return [line for line in eligibility.returnable_lines if line.position not in chosen]


def _count(text: str) -> int | None:
    word = text.strip().lower().rstrip(".!")
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _words(text: str) -> list[str]:
    return [word for word in re.findall(r"[^\W\d_]+", text.lower())
            if len(word) >= 3 and word not in _FILLER]


def _same_word(said: str, name_word: str) -> bool:
    """"mugs" is "mug", "keyboards" is "keyboard" (a plural or a case ending)."""
    shorter, longer = sorted((said, name_word), key=len)
    return longer.startswith(shorter) and len(longer) - len(shorter) <= 3


def _parse_lines(text: str, lines: tuple[ReturnLine, ...]) -> dict[int, int | None]:
    """{line position: quantity, or None for "all of it"} from "2 mugs and the lamp"."""
    wanted: dict[int, int | None] = {}
    for segment in _SEPARATORS.split(text):
        said = _words(segment)
        if not said:
            continue
        scores = {
            line.position: sum(any(_same_word(word, own) for own in _words(line.name))
                               for word in said)
            for line in lines
        }
        best = max(scores.values(), default=0)
        matches = [position for position, score in scores.items() if score == best]
        if best == 0 or len(matches) != 1:
            return {}
        digits = re.search(r"\d+", segment)
        count = int(digits.group()) if digits else next(
            (_NUMBER_WORDS[word] for word in segment.lower().split() if word in _NUMBER_WORDS),
            None,
        )
        wanted[matches[0]] = count
    return wanted


def _method(text: str) -> str | None:
    lowered = text.strip().lower()
    if lowered in ("1", "2"):
        return METHODS[int(lowered) - 1]
    found = [method for method, words in _METHOD_WORDS.items()
             if any(word in lowered for word in words)]
    return found[0] if len(found) == 1 else None


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
