"""What the return flow shows: the order's lines as a numbered listing with a button for each
line that may go back (in button order, so that a typed number picks the same line), the
others below with why not, and the buttons of each question."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dialog.flows.base import Turn
from dialog.flows.return_answers import chosen_quantities, offered
from orders.returns import METHODS, REASONS, Eligibility, ReturnLine, ReturnRefusal
from orders.service import OrderView

FLOW = "returns"
OPERATOR = "handoff:return_exception"  # HandoffFlow escalates with this reason
MAX_QUANTITY_BUTTONS = 6


async def refuse(turn: Turn, eligibility: Eligibility) -> None:
    turn.finish()
    operator = turn.button("returns_button_operator", OPERATOR)
    number, refusal = eligibility.number, eligibility.refusal
    if refusal is ReturnRefusal.RETURN_OPEN and eligibility.open_return:
        found = await turn.shop.find_return(eligibility.open_return)
        return turn.say("returns_open", operator, number=number, rma=eligibility.open_return,
                        label_url=(found.label_url if found else None) or "-")
    if refusal is ReturnRefusal.WINDOW_CLOSED:
        return turn.say("returns_window_closed", operator, number=number,
                        last_day=last_day_text(turn, eligibility),
                        days=turn.shop.return_window_days)
    if refusal in (ReturnRefusal.NOT_RETURNABLE, ReturnRefusal.ALREADY_RETURNED):
        return turn.say("returns_nothing_returnable", operator, number=number,
                        lines=listing(turn, eligibility, {}))
    key = {
        ReturnRefusal.RETURN_OPEN: "returns_open_by_shop",
        ReturnRefusal.RETURNED: "returns_returned",
    }.get(refusal or ReturnRefusal.NOT_DELIVERED, "returns_not_delivered")
    turn.say(key, operator, number=number, days=turn.shop.return_window_days)


async def eligibility_of(turn: Turn, number: str) -> Eligibility:
    """What of the order may go back, with the product names in the customer's language."""
    eligibility = await turn.shop.return_eligibility(number)
    names = await turn.shop.names((line.sku for line in eligibility.lines), turn.language)
    return replace(eligibility, lines=tuple(
        replace(line, name=names.get(line.sku, line.name)) for line in eligibility.lines))


async def chosen_text(turn: Turn, number: str) -> str:
    eligibility = await eligibility_of(turn, number)
    names = {line.position: line.name for line in eligibility.lines}
    return ", ".join(
        turn.text("returns_chosen_item", quantity=count, name=names.get(position, "?"))
        for position, count in sorted(chosen_quantities(turn.state.slots).items())
    )


def listing(turn: Turn, eligibility: Eligibility, chosen: dict[int, int]) -> str:
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
                  why=why(turn, line))
        for line in eligibility.lines if line.refusal is not None
    ]
    return "\n".join(rows)

def line_buttons(turn: Turn, eligibility: Eligibility) -> list[Any]:
    """A button for each line _listing numbers, in its order; then the other choices."""
    chosen = chosen_quantities(turn.state.slots)
    buttons = [turn.button_plain(line.name, f"{FLOW}:line:{line.position}")
               for line in offered(eligibility, chosen)]
    if not chosen and len(eligibility.returnable_lines) > 1:
        buttons.append(turn.button("returns_button_all", f"{FLOW}:all"))
    if chosen:
        buttons.append(turn.button("returns_button_done", f"{FLOW}:done"))
    if any(line.refusal is not None for line in eligibility.lines):
        buttons.append(turn.button("returns_button_operator", OPERATOR))
    return buttons

def quantity_buttons(turn: Turn, line: ReturnLine) -> list[Any]:
    top = min(line.returnable, MAX_QUANTITY_BUTTONS)
    return [turn.button_plain(str(count), f"{FLOW}:qty:{count}")
            for count in range(1, top + 1)]

def reason_buttons(turn: Turn) -> list[Any]:
    return [turn.button(f"returns_reason_{code}", f"{FLOW}:reason:{code}")
            for code in REASONS]

def method_buttons(turn: Turn) -> list[Any]:
    return [turn.button(f"returns_method_{code}", f"{FLOW}:method:{code}")
            for code in METHODS]


def why(turn: Turn, line: ReturnLine) -> str:
    if line.refusal is ReturnRefusal.ALREADY_RETURNED:
        return turn.text("returns_why_already_returned")
    return turn.text("returns_why_not_returnable")


def example(eligibility: Eligibility) -> str:
    lines = eligibility.returnable_lines or eligibility.lines
    return lines[0].name if lines else ""


def last_day_text(turn: Turn, eligibility: Eligibility) -> str:
    if eligibility.last_day is None:
        return "-"
    return eligibility.last_day.strftime(turn.text("date_format"))


def address_text(turn: Turn, order: OrderView | None) -> str:
    address = order.delivery_address if order is not None else {}
    parts = [str(address[key]) for key in ("street", "postcode", "city") if address.get(key)]
    return ", ".join(parts) or turn.text("returns_your_address")
