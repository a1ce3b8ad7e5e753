"""The confirmation's stock check: every line in stock, or one question per missing line
(an alternative at a similar price, remove the line, wait for the expected delivery, or
decline); then the delivery questions."""

from __future__ import annotations

from datetime import date

from dialog import events
from dialog.flows.base import Turn, human_button
from dialog.flows.choices import ask, ask_again
from dialog.flows.confirm_plan import FLOW, ConfirmData, ConfirmStep, order_slots, total
from dialog.flows.delivery_questions import ask_method, day_start
from orders.confirmation import LastLine
from orders.inventory import InventoryUnavailable
from orders.service import OrderView

# The stock question's text: (a delivery date is expected, there are alternatives) -> key.
_OUT_OF_STOCK = {
    (True, True): "confirm_out_of_stock",
    (True, False): "confirm_out_of_stock_no_alternative",
    (False, True): "confirm_out_of_stock_no_date",
    (False, False): "confirm_out_of_stock_no_date_no_alternative",
}


async def check_stock(turn: Turn, order: OrderView) -> None:
    try:
        levels = await turn.shop.stock_levels([line.sku for line in order.lines])
        missing = await turn.shop.confirmation.missing(order, levels)
        if not missing:
            return ask_method(turn, FLOW, order_slots(turn, order))
        sku, quantity, level = missing[0]
        alternatives = await turn.shop.alternatives(sku, quantity)
    except InventoryUnavailable:
        return turn.say("choice_unavailable", human_button(turn))
    names = await turn.shop.names([sku, *(alt.sku for alt in alternatives)], turn.language)
    options = [(f"alt-{alt.sku}",
                f"{names.get(alt.sku, alt.name)} "
                f"({turn.money(alt.price_minor, order.currency)})")
               for alt in alternatives]
    options.append(("remove", turn.text("confirm_option_remove")))
    params: dict[str, str] = {"item": names.get(sku, level.name)}
    if level.expected_date is not None:
        when = day_start(level.expected_date)
        params["date"] = turn.texts.date(turn.language, when)
        options.append(("wait", turn.text("confirm_option_wait", date=params["date"])))
    elif not alternatives:  # nothing to wait for or take instead: still a way out
        options += [("decline", turn.text("confirm_button_decline")),
                    ("human", turn.text("button_human"))]
    key = _OUT_OF_STOCK[level.expected_date is not None, bool(alternatives)]
    slots = {**order_slots(turn, order), "sku": sku, "quantity": quantity,
             "expected": level.expected_date.isoformat() if level.expected_date else None,
             "alternatives": {a.sku: [names.get(a.sku, a.name), a.price_minor]
                              for a in alternatives}}
    ask(turn, FLOW, ConfirmStep.STOCK, key, options, slots, **params)


async def stock_choice(turn: Turn, order: OrderView, value: str) -> None:
    """An alternative ("alt-<sku>"), "remove" or "wait" for the line asked about."""
    data, confirmation = ConfirmData.from_slots(turn.state.slots), turn.shop.confirmation
    sku, quantity = str(data.sku), int(data.quantity or 0)
    names = await turn.shop.names([sku, value[4:]], turn.language)
    item = names.get(sku) or next(
        (line.name for line in order.lines if line.sku == sku), sku)
    if value.startswith("alt-"):
        levels = await turn.shop.stock_levels([value[4:]])
        replacement = levels.get(value[4:])
        new_name = names.get(value[4:]) or (replacement.name if replacement else value[4:])
        if replacement is None or replacement.available < quantity:
            turn.say("confirm_sold_out", item=new_name)
            return await check_stock(turn, order)
        order = await confirmation.replace_line(order.number, sku, replacement)
        turn.record(events.ALTERNATIVE_ACCEPTED, order.number)
        turn.say("confirm_replaced", old=item, new=new_name, total=total(turn, order))
    elif value == "remove":
        try:
            order = await confirmation.remove_line(order.number, sku)
        except LastLine:
            turn.say("confirm_last_line" if data.expected else
                     "confirm_last_line_no_date", item=item)
            return await check_stock(turn, order)
        turn.say("confirm_removed", item=item, total=total(turn, order))
    elif value == "wait" and data.expected:
        expected = date.fromisoformat(data.expected)
        await confirmation.wait_for(order.number, sku, quantity, expected)
        turn.say("confirm_waiting", item=item,
                 date=turn.texts.date(turn.language, day_start(expected)))
    else:
        return ask_again(turn)
    await check_stock(turn, order)
