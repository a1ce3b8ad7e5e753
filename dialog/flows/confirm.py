"""Order confirmation: the summary, then stock, delivery, payment, voucher, one accessory,
and the final confirm (or decline). Started by the shop's new order (a proactive message) or
by the "confirm:start:<number>" button for an order the customer owns.

Every question is asked with choices.ask(): buttons, and free text for the same answers.
The rules (reserving, confirming once, vouchers) are in orders/confirmation.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from dialog import events
from dialog.flows import delivery_questions
from dialog.flows.base import Turn, human_button
from dialog.flows.choices import AnswerFirst, another_request, ask, ask_again, picked
from dialog.flows.escalation import hand_over
from dialog.flows.identify import owns
from orders.confirmation import (
    ConfirmationPlan,
    LastLine,
    NotPending,
)
from orders.credit_check import CreditCheckUnavailable, needs_credit_check
from orders.documents import document_url
from orders.inventory import InventoryUnavailable
from orders.pdf import render
from orders.service import OrderView, OutOfStock
from orders.states import OrderStatus
from orders.vouchers import VoucherRefused, VouchersUnavailable, normalise_code

PAYMENTS = ("card", "bank_transfer", "cash_on_delivery")
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_AROUND_CODE = "\"'«»„“”.,!?;:"  # quotes and punctuation a typed code may come in
# The stock question's text: (a delivery date is expected, there are alternatives) -> key.
_OUT_OF_STOCK = {
    (True, True): "confirm_out_of_stock",
    (True, False): "confirm_out_of_stock_no_alternative",
    (False, True): "confirm_out_of_stock_no_date",
    (False, False): "confirm_out_of_stock_no_date_no_alternative",
}


Money = Callable[[int, str], str]  # (minor units, currency) -> "37,50 EUR" in the language


def lines_text(order: OrderView, money: Money) -> str:
    return "\n".join(
        f"• {line.quantity} × {line.name} — "
        f"{money(line.quantity * line.unit_price_minor, order.currency)}"
        for line in order.lines
    )


def summary_params(order: OrderView, money: Money) -> dict[str, str]:
    return {"number": order.number, "lines": lines_text(order, money),
            "total": money(order.total_minor, order.currency)}


def job_key(number: str) -> str:
    return f"confirm:{number}:"


class ConfirmFlow:
    name = "confirm"
    intents = AnswerFirst()

    async def start(self, turn: Turn, intent: str) -> None:
        turn.say("confirm_nothing_open")

    async def resume(self, turn: Turn) -> bool:
        order = await self._order(turn)
        if order is None:
            return False
        if order.status is not OrderStatus.PENDING_CONFIRMATION:
            if another_request(turn) or picked(turn, "go", "decline") is None:
                return False
            self._not_pending(turn, order)
            return True
        step = turn.state.step
        self._remember_begin_question(turn, order)
        if step in delivery_questions.STEPS:
            outcome = await delivery_questions.answer(turn, self.name, None, order)
            if outcome == delivery_questions.NOT_AN_ANSWER:
                return self._not_answered(turn)
            await self._answered(turn, order)
            if isinstance(outcome, dict):
                await self._ask_payment(turn, order, outcome)
            return True
        if step == "voucher":
            choice = picked(turn, no="none") or _code_word(turn.inbound.text)
            if choice is None:  # a sentence is another request (answered elsewhere) or a re-ask
                return self._not_answered(turn)
            await self._answered(turn, order)
            await self._voucher(turn, order, choice)
            return True
        code = _code_word(turn.inbound.text)
        if step == "final" and code and picked(turn) is None:
            applied = turn.state.slots.get("plan", {}).get("voucher")
            if not applied:  # a code after all: checked, then the summary again
                await self._voucher(turn, order, code)
                return True
            turn.say("confirm_voucher_one_per_order", code=applied)
            await self._ask_final(turn, order)
            return True
        if _names_another_order(turn, order):  # "cancel A-1003" while A-1004 waits: about
            return False  # that order; as an answer here it would decline this one
        yes, no = {"begin": ("go", "decline"), "crosssell": ("add", "no"),
                   "final": ("confirm", "decline")}.get(step or "", (None, None))
        choice = picked(turn, yes, no)
        if choice is None and step in ("begin", "final") and turn.understanding is not None \
                and turn.understanding.intent == "cancel_order" \
                and turn.understanding.confidence >= 0.6:
            choice = "decline"
        if choice is None:
            return self._not_answered(turn)
        await self._answered(turn, order)
        await self._step(turn, order, step or "", choice)
        return True

    async def on_action(self, turn: Turn, argument: str) -> None:
        step, _, value = argument.partition(":")
        if step == "start":
            return await self._start(turn, value)
        order = await self._order(turn)
        if order is None:
            return turn.say("confirm_nothing_open")
        if order.status is not OrderStatus.PENDING_CONFIRMATION:
            return self._not_pending(turn, order)
        if turn.state.step != step:  # an old message's button (chats and email keep them)
            self._remember_begin_question(turn, order)
            return ask_again(turn, "choice_already_answered")
        await self._answered(turn, order)
        if step in delivery_questions.STEPS:
            outcome = await delivery_questions.answer(turn, self.name, value, order)
            if isinstance(outcome, dict):
                await self._ask_payment(turn, order, outcome)
            elif outcome == delivery_questions.NOT_AN_ANSWER:
                ask_again(turn)
            return None
        await self._step(turn, order, step, value)

    # The steps

    async def _start(self, turn: Turn, number: str) -> None:
        order = await turn.shop.get_order(number)
        if order is None or not owns(turn, order):
            return turn.say("confirm_nothing_open")
        if order.status is not OrderStatus.PENDING_CONFIRMATION:
            return self._not_pending(turn, order)
        order = await turn.shop.with_names(order, turn.language)
        ask(turn, self.name, "begin", "confirm_summary", self._begin_options(turn),
            {"number": number, "plan": {}}, **summary_params(order, turn.money))

    async def _step(self, turn: Turn, order: OrderView, step: str, value: str) -> None:
        if value == "decline" and step in ("begin", "final", "stock"):
            return await self._decline(turn, order)
        if step == "begin":
            return await self._check_stock(turn, order)
        if step == "stock":
            if value == "human":
                return hand_over(turn, "out_of_stock")
            return await self._stock_choice(turn, order, value)
        if step in ("payment", "prepay"):
            if value == "human" or (step == "prepay" and value == "cash_on_delivery"):
                return hand_over(turn, "credit_check_refused")
            return await self._payment(turn, order, value)
        if step == "voucher":
            return await self._voucher(turn, order, value)
        if step == "crosssell":
            if value == "add":
                product = turn.state.slots.get("offer") or {}
                levels = await turn.shop.stock_levels([product["sku"]])
                if product["sku"] in levels and levels[product["sku"]].available > 0:
                    order = await turn.shop.confirmation.add_line(
                        order.number, levels[product["sku"]])
                    turn.record(events.CROSS_SELL_ACCEPTED, order.number)
                    turn.say("confirm_added", item=product["name"],
                             total=self._total(turn, order))
            return await self._ask_final(turn, order)
        if step == "final" and value == "confirm":
            return await self._confirm(turn, order)
        ask_again(turn)

    async def _check_stock(self, turn: Turn, order: OrderView) -> None:
        try:
            levels = await turn.shop.stock_levels([line.sku for line in order.lines])
            missing = await turn.shop.confirmation.missing(
order, levels)
            if not missing:
                return delivery_questions.ask_method(turn, self.name, self._slots(turn, order))
            sku, quantity, level = missing[0]
            alternatives = await turn.shop.alternatives(sku, quantity)
        except InventoryUnavailable:
            return self._unavailable(turn)
        names = await turn.shop.names([sku, *(alt.sku for alt in alternatives)],
                               turn.language)
        options = [(f"alt-{alt.sku}",
                    f"{names.get(alt.sku, alt.name)} "
                    f"({turn.money(alt.price_minor, order.currency)})")
                   for alt in alternatives]
        options.append(("remove", turn.text("confirm_option_remove")))
        params: dict[str, str] = {"item": names.get(sku, level.name)}
        if level.expected_date is not None:
            when = delivery_questions.day_start(level.expected_date)
            params["date"] = turn.texts.date(turn.language, when)
            options.append(("wait", turn.text("confirm_option_wait", date=params["date"])))
        elif not alternatives:  # nothing to wait for or take instead: still a way out
            options += [("decline", turn.text("confirm_button_decline")),
                        ("human", turn.text("button_human"))]
        key = _OUT_OF_STOCK[level.expected_date is not None, bool(alternatives)]
        slots = {**self._slots(turn, order), "sku": sku, "quantity": quantity,
                 "expected": level.expected_date.isoformat() if level.expected_date else None,
                 "alternatives": {a.sku: [names.get(a.sku, a.name), a.price_minor]
                                  for a in alternatives}}
        ask(turn, self.name, "stock", key, options, slots, **params)

    async def _stock_choice(self, turn: Turn, order: OrderView, value: str) -> None:
        slots, confirmation = turn.state.slots, turn.shop.confirmation
        sku = slots["sku"]
        names = await turn.shop.names([sku, value[4:]], turn.language)
        item = names.get(sku) or next(
            (line.name for line in order.lines if line.sku == sku), sku)
        if value.startswith("alt-"):
            levels = await turn.shop.stock_levels([value[4:]])
            replacement = levels.get(value[4:])
            new_name = names.get(value[4:]) or (replacement.name if replacement else value[4:])
            if replacement is None or replacement.available < slots["quantity"]:
                turn.say("confirm_sold_out", item=new_name)
                return await self._check_stock(turn, order)
            order = await confirmation.replace_line(order.number, sku, replacement)
            turn.record(events.ALTERNATIVE_ACCEPTED, order.number)
            turn.say("confirm_replaced", old=item, new=new_name,
                     total=self._total(turn, order))
        elif value == "remove":
            try:
                order = await confirmation.remove_line(order.number, sku)
            except LastLine:
                turn.say("confirm_last_line" if slots.get("expected") else
                         "confirm_last_line_no_date", item=item)
                return await self._check_stock(turn, order)
            turn.say("confirm_removed", item=item, total=self._total(turn, order))
        elif value == "wait" and slots.get("expected"):
            expected = date.fromisoformat(slots["expected"])
            await confirmation.wait_for(order.number, sku, slots["quantity"],
                                        expected)
            turn.say("confirm_waiting", item=item,
                     date=turn.texts.date(turn.language, delivery_questions.day_start(expected)))
        else:
            return ask_again(turn)
        await self._check_stock(turn, order)

    async def _ask_payment(self, turn: Turn, order: OrderView, plan: dict[str, Any]) -> None:
        slots = {**self._slots(turn, order), "plan": plan}
        ask(turn, self.name, "payment", "confirm_ask_payment", [
            (method, turn.text(f"confirm_option_{method}")) for method in PAYMENTS
        ], slots)

    async def _payment(self, turn: Turn, order: OrderView, method: str) -> None:
        if method not in PAYMENTS:
            return ask_again(turn)
        settings = turn.shop.settings
        if needs_credit_check(method, order.total_minor, settings.cod_credit_check_above):
            try:
                decision = await turn.shop.credit_check(
                    order.customer_id, order.total_minor, order.currency)
                approved = decision.approved
            except CreditCheckUnavailable:
                approved = False
            if not approved:
                return ask(turn, self.name, "prepay", "confirm_credit_refused", [
                    ("card", turn.text("confirm_option_card")),
                    ("bank_transfer", turn.text("confirm_option_bank_transfer")),
                    ("human", turn.text("button_human")),
                ], self._slots(turn, order), total=turn.money(order.total_minor, order.currency))
        plan = {**turn.state.slots.get("plan", {}), "payment": method}
        ask(turn, self.name, "voucher", "confirm_ask_voucher",
            [("none", turn.text("confirm_option_no_voucher"))], {**self._slots(turn, order),
                                                                 "plan": plan})

    async def _voucher(self, turn: Turn, order: OrderView, value: str) -> None:
        if value != "none":
            code = normalise_code(value)
            turn.shop.today()
            try:
                quote = await turn.shop.quote_voucher(code, order.total_minor, order.currency)
            except VoucherRefused as refused:
                minimum = turn.money(refused.minimum_minor, order.currency)
                turn.say(f"confirm_voucher_{refused.reason}", code=code, minimum=minimum)
                return ask(turn, self.name, "voucher", "confirm_ask_voucher_again",
                           [("none", turn.text("confirm_option_no_voucher"))],
                           self._slots(turn, order))
            except VouchersUnavailable:
                turn.say("choice_unavailable")
                return await self._cross_sell(turn, order)
            plan = {**turn.state.slots.get("plan", {}), "voucher": quote.code,
                    "discount": quote.discount_minor}
            turn.state.slots["plan"] = plan
            turn.say("confirm_voucher_applied", code=quote.code,
                     discount=turn.money(quote.discount_minor, order.currency),
                     total=self._total(turn, order))
        await self._cross_sell(turn, order)

    async def _cross_sell(self, turn: Turn, order: OrderView) -> None:
        try:
            offer = await turn.shop.accessory_for(
                [line.sku for line in order.lines])
        except InventoryUnavailable:
            offer = None
        if offer is not None and await turn.shop.confirmation.offer_once(
            order.number, offer.sku
        ):
            name = (await turn.shop.names([offer.sku], turn.language)).get(
                offer.sku, offer.name)
            slots = {**self._slots(turn, order), "offer": {"sku": offer.sku, "name": name}}
            return ask(turn, self.name, "crosssell", "confirm_cross_sell", [
                ("add", turn.text("confirm_option_add")),
                ("no", turn.text("confirm_option_no_thanks")),
            ], slots, item=name, price=turn.money(offer.price_minor, order.currency))
        await self._ask_final(turn, order)

    async def _ask_final(self, turn: Turn, order: OrderView) -> None:
        plan = turn.state.slots.get("plan", {})
        order = await turn.shop.with_names(order, turn.language)
        discount = ""
        if plan.get("voucher"):
            discount = turn.text("confirm_discount_line", code=plan["voucher"],
                                 amount=turn.money(plan.get("discount", 0), order.currency))
        ask(turn, self.name, "final", "confirm_final", [
            ("confirm", turn.text("confirm_option_confirm")),
            ("decline", turn.text("confirm_button_decline")),
        ], self._slots(turn, order), number=order.number, lines=lines_text(order, turn.money),
            delivery=delivery_questions.describe(turn, plan),
            payment=turn.text(f"confirm_option_{plan.get('payment', 'card')}"),
            discount=discount, total=self._total(turn, order))

    async def _confirm(self, turn: Turn, order: OrderView) -> None:
        plan = turn.state.slots.get("plan", {})
        chosen = delivery_questions.to_plan(plan)
        try:
            confirmed = await turn.shop.confirmation.confirm(
                order.number,
                ConfirmationPlan(
                    delivery_method=chosen.method, payment_method=plan.get("payment", "card"),
                    delivery_date=chosen.delivery_date, delivery_slot=chosen.delivery_slot,
                    pickup_location=chosen.pickup_location, voucher_code=plan.get("voucher"),
                    discount_minor=int(plan.get("discount", 0)),
                ),
            )
        except NotPending as decided:
            return self._not_pending(turn, order, decided.status)
        except OutOfStock as sold_out:
            order = await turn.shop.with_names(order, turn.language)
            names = [line.name for line in order.lines if line.sku in sold_out.skus]
            turn.say("confirm_sold_out", item=", ".join(names))
            return await self._check_stock(turn, order)
        except VoucherRefused as refused:
            plan.pop("voucher", None)
            plan["discount"] = 0
            turn.say(f"confirm_voucher_{refused.reason}", code=normalise_code(
                turn.state.slots.get("plan", {}).get("voucher") or "-"), minimum="-")
            return await self._ask_final(turn, order)
        url = await self._document(turn, confirmed, plan)
        turn.finish()
        turn.say("confirm_done", number=confirmed.number, url=url,
                 total=turn.money(confirmed.total_minor, confirmed.currency))

    async def _document(self, turn: Turn, order: OrderView, plan: dict[str, Any]) -> str:
        settings = turn.shop.settings
        order = await turn.shop.with_names(order, turn.language)
        lines = [
            *lines_text(order, turn.money).splitlines(),
            "",
            turn.text("confirm_pdf_delivery", delivery=delivery_questions.describe(turn, plan)),
            turn.text("confirm_pdf_payment",
                      payment=turn.text(f"confirm_option_{order.payment_method}")),
        ]
        if order.voucher_code:
            lines.append(turn.text("confirm_discount_line", code=order.voucher_code,
                                   amount=turn.money(order.discount_minor, order.currency)).strip())
        lines.append(turn.text("confirm_pdf_total",
                               total=turn.money(order.total_minor, order.currency)))
        content = render(turn.shop_name, turn.text("confirm_pdf_title", number=order.number),
                         lines, turn.text("confirm_pdf_watermark"))
        token = await turn.shop.confirmation.save_document(
            order.number, content)
        return document_url(settings.base_url, token)

    async def _decline(self, turn: Turn, order: OrderView) -> None:
        try:
            await turn.shop.confirmation.decline(
order.number,
                                                   "customer declined")
        except NotPending as decided:
            return self._not_pending(turn, order, decided.status)
        turn.finish()
        turn.say("confirm_declined", number=order.number)

    # Helpers

    async def _order(self, turn: Turn) -> OrderView | None:
        number = turn.state.slots.get("number") if turn.state.flow == self.name else None
        order = await turn.shop.get_order(number) if number else None
        if order is None or not owns(turn, order):
            return None
        return await turn.shop.with_names(order, turn.language)

    async def _answered(self, turn: Turn, order: OrderView) -> None:
        """The customer is answering: no reminder, no escalation for this order."""
        await turn.shop.cancel_jobs(job_key(order.number))

    def _not_pending(self, turn: Turn, order: OrderView,
                     status: OrderStatus | None = None) -> None:
        turn.finish()
        status = status or order.status
        if status is OrderStatus.CONFIRMED:
            return turn.say("confirm_already_confirmed", number=order.number)
        if status is OrderStatus.CANCELLED:
            return turn.say("confirm_already_cancelled", number=order.number)
        turn.say("confirm_not_pending", number=order.number)

    def _remember_begin_question(self, turn: Turn, order: OrderView) -> None:
        """A confirmation the shop's new order started has not asked through ask() yet."""
        if turn.state.step == "begin" and "asked" not in turn.state.slots:
            turn.state.slots.update(
                options=[list(option) for option in self._begin_options(turn)],
                asked=["confirm_summary", summary_params(order, turn.money)],
            )

    def _not_answered(self, turn: Turn) -> bool:
        if another_request(turn):
            return False
        ask_again(turn)
        return True

    def _unavailable(self, turn: Turn) -> None:
        turn.say("choice_unavailable", human_button(turn))

    def _slots(self, turn: Turn, order: OrderView) -> dict[str, Any]:
        return {"number": order.number, "plan": dict(turn.state.slots.get("plan") or {})}

    def _total(self, turn: Turn, order: OrderView) -> str:
        lines = sum(line.quantity * line.unit_price_minor for line in order.lines)
        discount = int(turn.state.slots.get("plan", {}).get("discount", 0))
        return turn.money(max(lines - discount, 0), order.currency)

    @staticmethod
    def _begin_options(turn: Turn) -> list[tuple[str, str]]:
        return [("go", turn.text("confirm_button_go")),
                ("decline", turn.text("confirm_button_decline"))]


def _code_word(text: str) -> str | None:
    """The voucher code the message is: one word of letters, digits and hyphens with a digit
    ("welcome10", "LOYAL-2024."), else None. A sentence is never a code: "where is my order
    A-1003" is a question, not the code WHEREISMYORDERA-1003."""
    word = text.strip().strip(_AROUND_CODE).strip()
    if not word or any(character.isspace() for character in word):
        return None
    code = normalise_code(word)
    if 4 <= len(code) <= 24 and set(code) <= _CODE_CHARS and any(c.isdigit() for c in code):
        return code
    return None


def _names_another_order(turn: Turn, order: OrderView) -> bool:
    """The message names an order number, and not the one being confirmed."""
    named = turn.understanding.entities.order_numbers if turn.understanding else ()
    return bool(named) and order.number.upper() not in {number.upper() for number in named}
