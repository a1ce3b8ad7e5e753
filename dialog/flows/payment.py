"""Payment questions: accepted methods, the payment status of an order, a payment link for
an unpaid one, its invoice as a PDF; and the payment reminders the shop sends by itself.

An order's payment is shown only to its owner, proven by the status flow's
OrderIdentification (the order number, then its email address or delivery postcode; a
verified or linked customer needs nothing more). Steps: "need_number", "need_proof"; the slot
"topic" remembers what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from dialog.events import PAYMENT_REMINDER_SENT, PendingEvent
from dialog.flows.base import Turn, human_button
from dialog.flows.identify import IdentifyStep, OrderIdentification, numbers, proofs
from dialog.flows.steps import FlowData, Step, Steps
from dialog.proactive import ProactiveMessages
from dialog.store import ConversationStore
from dialog.texts import Texts
from dialog.unit_of_work import Repositories
from orders.billing import ACCEPTED_METHODS, is_unpaid
from orders.payments import PaymentFailed
from orders.service import OrderView, customer_of
from orders.states import OrderStatus
from storage.clock import utcnow

STATUS, LINK, INVOICE, METHODS = "status", "link", "invoice", "methods"
CASH_ON_DELIVERY = "cash_on_delivery"
# What a question is about, by its words (any language); the first topic that matches wins.
_TOPIC_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (INVOICE, ("invoice", "receipt", "faktur", "rachun", "paragon", "счёт", "счет", "квитанц",
               "чек", "pdf")),
    (LINK, ("link", "pay now", "pay it", "zapłacić teraz", "opłacić", "ссылк")),
    (METHODS, ("method", "how can i pay", "how do i pay", "accept", "metod", "jak zapłac",
               "jak mogę zapłac", "formy płatno", "способ", "как оплат", "как можно оплат",
               "чем оплат", "принимаете")),
)


def topic_of(text: str) -> str:
    lowered = text.lower()
    for topic, words in _TOPIC_WORDS:
        if any(word in lowered for word in words):
            return topic
    return STATUS


def format_date(texts: Texts, language: str, day: date) -> str:
    return day.strftime(texts.get(language, "date_format"))


class PaymentStep(StrEnum):
    """Only the identification's (a customer choosing among their orders gets buttons that
    carry the topic: no step waits for them)."""

    NEED_NUMBER = IdentifyStep.NEED_NUMBER.value
    NEED_PROOF = IdentifyStep.NEED_PROOF.value


@dataclass
class PaymentData(FlowData):
    topic: str = STATUS  # what the customer asked about the order
    number: str | None = None  # the order being proven (at NEED_PROOF)


class PaymentFlow:
    name = "payment"
    intents = frozenset({"payment"})

    def __init__(self) -> None:
        self._identify = OrderIdentification(self.name, self.intents)
        identified = Step[PaymentData](self._identified, "ask_order_number")
        self._steps = Steps(self.name, PaymentStep, PaymentData,
                            {step: identified for step in PaymentStep})

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        topic = topic_of(turn.inbound.text)
        if topic == METHODS and not numbers(turn):
            return self._methods(turn)
        await self._find(turn, topic, numbers(turn), proofs(turn, loose=False))

    async def resume(self, turn: Turn) -> bool:
        return await self._steps.resume(turn)

    async def _identified(self, turn: Turn, data: PaymentData) -> bool:
        topic = str(data.topic)
        answered, order = await self._identify.answer(turn, topic=topic)
        if order is not None:
            await self._answer(turn, order, topic)
        return answered

    async def on_action(self, turn: Turn, argument: str) -> None:
        topic, _, number = argument.partition(":")
        if topic == METHODS:
            return self._methods(turn)
        if topic in (STATUS, LINK, INVOICE) and number:
            return await self._find(turn, topic, [number], [])
        turn.finish()
        turn.say("anything_else", human_button(turn))

    def _methods(self, turn: Turn) -> None:
        turn.finish()
        names = [turn.text(f"payment_method_{method}") for method in ACCEPTED_METHODS]
        turn.say("payment_methods", methods=", ".join(names))

    async def _find(
        self, turn: Turn, topic: str, numbers: list[str], proofs: list[str]
    ) -> None:
        """Answer about the first of `numbers` the customer has proven; ask for what is missing.
        A signed-in customer who names no order is asked about their unpaid ones first."""
        if not numbers and turn.state.customer_id is not None:
            return await self._customer_orders(turn, topic)
        order = await self._identify.find(turn, numbers, proofs, topic=topic)
        if order is not None:
            await self._answer(turn, order, topic)

    async def _customer_orders(self, turn: Turn, topic: str) -> None:
        assert turn.state.customer_id is not None
        orders = await turn.shop.orders_of_customer(turn.state.customer_id)
        if not orders:
            return self._steps.ask(turn, PaymentStep.NEED_NUMBER, PaymentData(topic),
                                   prompt="no_orders")
        unpaid = [order for order in orders if is_unpaid(order)]
        if len(orders) == 1 or len(unpaid) == 1:
            return await self._answer(turn, (unpaid or orders)[0], topic)
        turn.finish()
        turn.say("choose_order", *(
            turn.button_plain(order.number, f"{self.name}:{topic}:{order.number}")
            for order in (unpaid or orders)[:6]
        ))

    async def _answer(self, turn: Turn, order: OrderView, topic: str) -> None:
        turn.finish()
        if topic == INVOICE:
            return await self._invoice(turn, order)
        if topic == LINK:
            return await self._link(turn, order)
        self._status(turn, order)

    def _status(self, turn: Turn, order: OrderView) -> None:
        number = order.number
        amount = turn.money(order.total_minor, order.currency)
        invoice = turn.button("payment_button_invoice", f"{self.name}:{INVOICE}:{number}")
        methods = turn.button("payment_button_methods", f"{self.name}:{METHODS}")
        if order.payment_status == "paid":
            return turn.say("payment_status_paid", invoice, number=number, amount=amount)
        if order.status is OrderStatus.CANCELLED:
            return turn.say("payment_status_cancelled", number=number)
        if order.payment_method == CASH_ON_DELIVERY:
            return turn.say("payment_status_cod", invoice, methods, number=number, amount=amount)
        pay = turn.button("payment_button_pay", f"{self.name}:{LINK}:{number}")
        method = _method_name(turn, order.payment_method)
        if order.payment_due_date is not None:
            today = turn.shop.today()
            overdue = order.payment_due_date < today
            return turn.say(
                "payment_status_overdue" if overdue else "payment_status_unpaid_due",
                pay, invoice, methods, number=number, amount=amount,
                method=method, date=format_date(turn.texts, turn.language, order.payment_due_date),
            )
        turn.say("payment_status_unpaid", pay, invoice, methods, number=number, amount=amount,
                 method=method)

    async def _link(self, turn: Turn, order: OrderView) -> None:
        if order.payment_status == "paid":
            return turn.say("payment_already_paid", number=order.number)
        if order.status is OrderStatus.CANCELLED:
            return turn.say("payment_status_cancelled", number=order.number)
        try:
            url = await turn.shop.payment_link(order)
        except PaymentFailed:
            return turn.say("payment_link_failed", human_button(turn))
        amount = turn.money(order.total_minor, order.currency)
        turn.say("payment_link", number=order.number, amount=amount, url=url)

    async def _invoice(self, turn: Turn, order: OrderView) -> None:
        language, texts = turn.language, turn.texts
        order = await turn.shop.with_names(order, language)

        def money(minor: int) -> str:
            return turn.money(minor, order.currency)

        lines = [
            turn.text("payment_invoice_date",
                      date=format_date(texts, language, order.created_at.date())),
            turn.text("payment_invoice_customer", name=order.customer_name),
            "",
            *(turn.text("payment_invoice_line", quantity=line.quantity, name=line.name,
                        sku=line.sku, amount=money(line.quantity * line.unit_price_minor))
              for line in order.lines),
        ]
        if order.discount_minor:
            lines.append(turn.text("payment_invoice_discount", amount=money(order.discount_minor)))
        lines += ["", turn.text("payment_invoice_total", amount=money(order.total_minor)),
                  turn.text("payment_invoice_payment",
                            method=_method_name(turn, order.payment_method))]
        if order.payment_due_date is not None and order.payment_status != "paid":
            lines.append(turn.text("payment_invoice_due",
                                   date=format_date(texts, language, order.payment_due_date)))
        paid = order.payment_status == "paid"
        url = await turn.shop.invoice_url(
            order, turn.text("payment_invoice_title", number=order.number), lines,
            turn.text("payment_invoice_paid") if paid else turn.text("payment_invoice_unpaid"),
        )
        turn.say("payment_invoice", number=order.number, url=url)


def _method_name(turn: Turn, method: str) -> str:
    return turn.text(f"payment_method_{method}") if method in ACCEPTED_METHODS else method


class PaymentMessages:
    """Payment reminders and the overdue escalation, written to the customer's conversation
    (dates and amounts in the customer's language): orders.billing.PaymentNotifier, joined to
    the job's transaction by composition/joined.py."""

    def __init__(
        self, proactive: ProactiveMessages, store: ConversationStore, texts: Texts
    ) -> None:
        self._proactive = proactive
        self._store = store
        self._texts = texts

    def _params(self, order: OrderView) -> dict[str, Any]:
        language = order.customer_language
        due = order.payment_due_date
        return {
            "number": order.number,
            "amount": self._texts.money(language, order.total_minor, order.currency),
            "date": format_date(self._texts, language, due) if due else "-",
        }

    async def payment_reminder(self, uow: Repositories, order: OrderView, days_left: int
                               ) -> None:
        key = "payment_reminder_today" if days_left <= 0 else "payment_reminder"
        state = await self._proactive.tell(
            uow, customer_of(order), key,
            ("payment_button_pay", f"payment:{LINK}:{order.number}"),
            ("payment_button_invoice", f"payment:{INVOICE}:{order.number}"),
            **self._params(order),
        )
        await uow.events.add(
            state.id, [PendingEvent(PAYMENT_REMINDER_SENT, order.number)], utcnow())

    async def payment_overdue(self, uow: Repositories, order: OrderView, days_overdue: int
                              ) -> None:
        state = await self._proactive.tell(
            uow, customer_of(order), "payment_overdue_escalated", **self._params(order)
        )
        await self._store.escalate(uow, state.key, "payment_overdue")
