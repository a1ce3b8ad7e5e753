"""The confirmation's checkout questions once delivery is chosen: payment (cash on delivery
above the shop's threshold after a credit check), a voucher code, one accessory, and the
final summary to confirm."""

from __future__ import annotations

from typing import Any

from dialog import events
from dialog.flows import delivery_questions
from dialog.flows.base import Turn
from dialog.flows.choices import ask, ask_again
from dialog.flows.confirm_plan import (
    FLOW,
    PAYMENTS,
    ConfirmStep,
    lines_text,
    order_slots,
    plan_of,
    total,
)
from orders.credit_check import CreditCheckUnavailable, needs_credit_check
from orders.inventory import InventoryUnavailable
from orders.service import OrderView
from orders.vouchers import VoucherRefused, VouchersUnavailable, normalise_code


async def ask_payment(turn: Turn, order: OrderView, plan: dict[str, Any]) -> None:
    slots = {**order_slots(turn, order), "plan": plan}
    ask(turn, FLOW, ConfirmStep.PAYMENT, "confirm_ask_payment", [
        (method, turn.text(f"confirm_option_{method}")) for method in PAYMENTS
    ], slots)


async def payment(turn: Turn, order: OrderView, method: str) -> None:
    if method not in PAYMENTS:
        return ask_again(turn)
    threshold = turn.shop.settings.cod_credit_check_above
    if needs_credit_check(method, order.total_minor, threshold):
        try:
            decision = await turn.shop.credit_check(
                order.customer_id, order.total_minor, order.currency)
            approved = decision.approved
        except CreditCheckUnavailable:
            approved = False
        if not approved:
            return ask(turn, FLOW, ConfirmStep.PREPAY, "confirm_credit_refused", [
                ("card", turn.text("confirm_option_card")),
                ("bank_transfer", turn.text("confirm_option_bank_transfer")),
                ("human", turn.text("button_human")),
            ], order_slots(turn, order), total=turn.money(order.total_minor, order.currency))
    plan = {**plan_of(turn), "payment": method}
    ask(turn, FLOW, ConfirmStep.VOUCHER, "confirm_ask_voucher",
        [("none", turn.text("confirm_option_no_voucher"))],
        {**order_slots(turn, order), "plan": plan})


async def voucher(turn: Turn, order: OrderView, value: str) -> None:
    if value != "none":
        code = normalise_code(value)
        try:
            quote = await turn.shop.quote_voucher(code, order.total_minor, order.currency)
        except VoucherRefused as refused:
            minimum = turn.money(refused.minimum_minor, order.currency)
            turn.say(f"confirm_voucher_{refused.reason}", code=code, minimum=minimum)
            return ask(turn, FLOW, ConfirmStep.VOUCHER, "confirm_ask_voucher_again",
                       [("none", turn.text("confirm_option_no_voucher"))],
                       order_slots(turn, order))
        except VouchersUnavailable:
            turn.say("choice_unavailable")
            return await cross_sell(turn, order)
        turn.state.slots["plan"] = {**plan_of(turn), "voucher": quote.code,
                                    "discount": quote.discount_minor}
        turn.say("confirm_voucher_applied", code=quote.code,
                 discount=turn.money(quote.discount_minor, order.currency),
                 total=total(turn, order))
    await cross_sell(turn, order)


async def cross_sell(turn: Turn, order: OrderView) -> None:
    try:
        offer = await turn.shop.accessory_for([line.sku for line in order.lines])
    except InventoryUnavailable:
        offer = None
    if offer is not None and await turn.shop.confirmation.offer_once(order.number, offer.sku):
        name = (await turn.shop.names([offer.sku], turn.language)).get(offer.sku, offer.name)
        slots = {**order_slots(turn, order), "offer": {"sku": offer.sku, "name": name}}
        return ask(turn, FLOW, ConfirmStep.CROSSSELL, "confirm_cross_sell", [
            ("add", turn.text("confirm_option_add")),
            ("no", turn.text("confirm_option_no_thanks")),
        ], slots, item=name, price=turn.money(offer.price_minor, order.currency))
    await ask_final(turn, order)


async def add_accessory(turn: Turn, order: OrderView) -> None:
    """The offered accessory, if still in stock; then the final question."""
    product = turn.state.slots.get("offer") or {}
    levels = await turn.shop.stock_levels([product["sku"]])
    if product["sku"] in levels and levels[product["sku"]].available > 0:
        order = await turn.shop.confirmation.add_line(order.number, levels[product["sku"]])
        turn.record(events.CROSS_SELL_ACCEPTED, order.number)
        turn.say("confirm_added", item=product["name"], total=total(turn, order))
    await ask_final(turn, order)


async def ask_final(turn: Turn, order: OrderView) -> None:
    plan = plan_of(turn)
    order = await turn.shop.with_names(order, turn.language)
    discount = ""
    if plan.get("voucher"):
        discount = turn.text("confirm_discount_line", code=plan["voucher"],
                             amount=turn.money(plan.get("discount", 0), order.currency))
    ask(turn, FLOW, ConfirmStep.FINAL, "confirm_final", [
        ("confirm", turn.text("confirm_option_confirm")),
        ("decline", turn.text("confirm_button_decline")),
    ], order_slots(turn, order), number=order.number, lines=lines_text(order, turn.money),
        delivery=delivery_questions.describe(turn, plan),
        payment=turn.text(f"confirm_option_{plan.get('payment', 'card')}"),
        discount=discount, total=total(turn, order))
