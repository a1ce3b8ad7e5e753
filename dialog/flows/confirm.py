"""Order confirmation: the summary, then stock, delivery, payment, voucher, one accessory,
and the final confirm (or decline). Started by the shop's new order (a proactive message) or
by the "confirm:start:<number>" button for an order the customer owns.

Every question is asked with choices.ask(): buttons, and free text for the same answers.
The steps are declared in confirm_plan.py; the stock check in confirm_stock.py, the checkout
questions in confirm_checkout.py. The rules (reserving, confirming once, vouchers) are in
orders/confirmation.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dialog.flows import delivery_questions
from dialog.flows.base import Turn
from dialog.flows.choices import AnswerFirst, another_request, ask, ask_again, picked
from dialog.flows.confirm_checkout import (
    add_accessory,
    ask_final,
    ask_payment,
    payment,
    voucher,
)
from dialog.flows.confirm_plan import (
    ConfirmData,
    ConfirmStep,
    code_word,
    job_key,
    lines_text,
    names_another_order,
    summary_params,
)
from dialog.flows.confirm_stock import check_stock, stock_choice
from dialog.flows.escalation import hand_over
from dialog.flows.identify import owns
from dialog.flows.rich import document, enrich_last_reply
from dialog.flows.steps import Step, Steps
from orders.confirmation import ConfirmationPlan, NotPending
from orders.documents import document_url
from orders.pdf import render
from orders.service import OrderView, OutOfStock
from orders.states import OrderStatus
from orders.vouchers import VoucherRefused, normalise_code

# The free-text yes and no of the steps that ask one (picked(): "yes" is the first option).
_YES_NO = {ConfirmStep.BEGIN: ("go", "decline"), ConfirmStep.CROSSSELL: ("add", "no"),
           ConfirmStep.FINAL: ("confirm", "decline")}
_DELIVERY_STEPS = (ConfirmStep.METHOD, ConfirmStep.DAY, ConfirmStep.SLOT, ConfirmStep.STORE,
                   ConfirmStep.POINT)


class ConfirmFlow:
    name = "confirm"
    intents: frozenset[str] = AnswerFirst()

    def __init__(self) -> None:
        choice, delivery = Step[ConfirmData](self._choice), Step[ConfirmData](self._delivery)
        self._steps = Steps(self.name, ConfirmStep, ConfirmData, {
            ConfirmStep.BEGIN: Step(self._choice, "confirm_summary"),
            ConfirmStep.STOCK: choice,
            **{step: delivery for step in _DELIVERY_STEPS},
            ConfirmStep.PAYMENT: choice,
            ConfirmStep.PREPAY: choice,
            ConfirmStep.VOUCHER: Step(self._voucher),
            ConfirmStep.CROSSSELL: choice,
            ConfirmStep.FINAL: Step(self._final),
        })
        # What an option chosen at each step does (the delivery steps answer themselves).
        self._options: dict[str, Callable[[Turn, OrderView, str], Awaitable[None]]] = {
            ConfirmStep.BEGIN: self._begun,
            ConfirmStep.STOCK: self._stock_chosen,
            ConfirmStep.PAYMENT: self._payment_chosen,
            ConfirmStep.PREPAY: self._prepay_chosen,
            ConfirmStep.VOUCHER: voucher,
            ConfirmStep.CROSSSELL: self._accessory_chosen,
            ConfirmStep.FINAL: self._final_chosen,
        }

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
        self._remember_begin_question(turn, order)
        return await self._steps.resume(turn, order)

    async def _delivery(self, turn: Turn, data: ConfirmData, order: OrderView) -> bool:
        outcome = await delivery_questions.answer(turn, self.name, None, order)
        if outcome == delivery_questions.NOT_AN_ANSWER:
            return self._not_answered(turn)
        await self._answered(turn, order)
        if isinstance(outcome, dict):
            await ask_payment(turn, order, outcome)
        return True

    async def _voucher(self, turn: Turn, data: ConfirmData, order: OrderView) -> bool:
        choice = picked(turn, no="none") or code_word(turn.inbound.text)
        if choice is None:  # a sentence is another request (answered elsewhere) or a re-ask
            return self._not_answered(turn)
        await self._answered(turn, order)
        await voucher(turn, order, choice)
        return True

    async def _final(self, turn: Turn, data: ConfirmData, order: OrderView) -> bool:
        code = code_word(turn.inbound.text)
        if code and picked(turn) is None:
            applied = (data.plan or {}).get("voucher")
            if not applied:  # a code after all: checked, then the summary again
                await voucher(turn, order, code)
                return True
            turn.say("confirm_voucher_one_per_order", code=applied)
            await ask_final(turn, order)
            return True
        return await self._choice(turn, data, order)

    async def _choice(self, turn: Turn, data: ConfirmData, order: OrderView) -> bool:
        """One of the step's options, by button words, number, or yes/no."""
        step = self._steps.current(turn)
        if step is None or names_another_order(turn, order):  # "cancel A-1003" while A-1004
            return False  # waits: about that order; as an answer it would decline this one
        yes, no = _YES_NO.get(step, (None, None))
        choice = picked(turn, yes, no)
        if choice is None and step in (ConfirmStep.BEGIN, ConfirmStep.FINAL) \
                and turn.understanding is not None \
                and turn.understanding.intent == "cancel_order" \
                and turn.understanding.confidence >= 0.6:
            choice = "decline"
        if choice is None:
            return self._not_answered(turn)
        await self._answered(turn, order)
        await self._step(turn, order, step, choice)
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
        if step in _DELIVERY_STEPS:
            outcome = await delivery_questions.answer(turn, self.name, value, order)
            if isinstance(outcome, dict):
                await ask_payment(turn, order, outcome)
            elif outcome == delivery_questions.NOT_AN_ANSWER:
                ask_again(turn)
            return None
        await self._step(turn, order, step, value)

    async def _start(self, turn: Turn, number: str) -> None:
        order = await turn.shop.get_order(number)
        if order is None or not owns(turn, order):
            return turn.say("confirm_nothing_open")
        if order.status is not OrderStatus.PENDING_CONFIRMATION:
            return self._not_pending(turn, order)
        order = await turn.shop.with_names(order, turn.language)
        ask(turn, self.name, ConfirmStep.BEGIN, "confirm_summary", self._begin_options(turn),
            {"number": number, "plan": {}}, **summary_params(order, turn.money))

    async def _step(self, turn: Turn, order: OrderView, step: str, value: str) -> None:
        """What an option chosen at `step` does (a button's step is the one waited at)."""
        if value == "decline" and step in (ConfirmStep.BEGIN, ConfirmStep.FINAL,
                                           ConfirmStep.STOCK):
            return await self._decline(turn, order)
        chosen = self._options.get(step)
        if chosen is None:
            return ask_again(turn)
        await chosen(turn, order, value)

    async def _begun(self, turn: Turn, order: OrderView, value: str) -> None:
        await check_stock(turn, order)

    async def _stock_chosen(self, turn: Turn, order: OrderView, value: str) -> None:
        if value == "human":
            return hand_over(turn, "out_of_stock")
        await stock_choice(turn, order, value)

    async def _payment_chosen(self, turn: Turn, order: OrderView, value: str) -> None:
        if value == "human":
            return hand_over(turn, "credit_check_refused")
        await payment(turn, order, value)

    async def _prepay_chosen(self, turn: Turn, order: OrderView, value: str) -> None:
        if value == "cash_on_delivery":  # refused by the credit check: a person decides
            return hand_over(turn, "credit_check_refused")
        await self._payment_chosen(turn, order, value)

    async def _accessory_chosen(self, turn: Turn, order: OrderView, value: str) -> None:
        if value == "add":
            return await add_accessory(turn, order)
        await ask_final(turn, order)

    async def _final_chosen(self, turn: Turn, order: OrderView, value: str) -> None:
        if value == "confirm":
            return await self._confirm(turn, order)
        ask_again(turn)

    async def _confirm(self, turn: Turn, order: OrderView) -> None:
        plan = turn.state.slots.get("plan", {})
        chosen = delivery_questions.to_plan(plan)
        try:
            confirmed = await turn.shop.confirmation.confirm(order.number, ConfirmationPlan(
                delivery_method=chosen.method, payment_method=plan.get("payment", "card"),
                delivery_date=chosen.delivery_date, delivery_slot=chosen.delivery_slot,
                pickup_location=chosen.pickup_location, voucher_code=plan.get("voucher"),
                discount_minor=int(plan.get("discount", 0)),
            ))
        except NotPending as decided:
            return self._not_pending(turn, order, decided.status)
        except OutOfStock as sold_out:
            order = await turn.shop.with_names(order, turn.language)
            names = [line.name for line in order.lines if line.sku in sold_out.skus]
            turn.say("confirm_sold_out", item=", ".join(names))
            return await check_stock(turn, order)
        except VoucherRefused as refused:
            plan.pop("voucher", None)
            plan["discount"] = 0
            turn.say(f"confirm_voucher_{refused.reason}", code=normalise_code(
                turn.state.slots.get("plan", {}).get("voucher") or "-"), minimum="-")
            return await ask_final(turn, order)
        url = await self._document(turn, confirmed, plan)
        turn.finish()
        turn.say("confirm_done", number=confirmed.number, url=url,
                 total=turn.money(confirmed.total_minor, confirmed.currency))
        enrich_last_reply(turn, documents=[document(turn, "order_confirmation", url)])

    async def _document(self, turn: Turn, order: OrderView, plan: dict[str, Any]) -> str:
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
        token = await turn.shop.confirmation.save_document(order.number, content)
        return document_url(turn.shop.settings.base_url, token)

    async def _decline(self, turn: Turn, order: OrderView) -> None:
        try:
            await turn.shop.confirmation.decline(order.number, "customer declined")
        except NotPending as decided:
            return self._not_pending(turn, order, decided.status)
        turn.finish()
        turn.say("confirm_declined", number=order.number)

    async def _order(self, turn: Turn) -> OrderView | None:
        number = self._steps.data(turn).number if turn.state.flow == self.name else None
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
        if turn.state.step == ConfirmStep.BEGIN and "asked" not in turn.state.slots:
            turn.state.slots.update(
                options=[list(option) for option in self._begin_options(turn)],
                asked=["confirm_summary", summary_params(order, turn.money)],
            )

    def _not_answered(self, turn: Turn) -> bool:
        if another_request(turn):
            return False
        ask_again(turn)
        return True

    @staticmethod
    def _begin_options(turn: Turn) -> list[tuple[str, str]]:
        return [("go", turn.text("confirm_button_go")),
                ("decline", turn.text("confirm_button_decline"))]
