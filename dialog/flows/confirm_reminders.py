"""The confirmation's start when a shop creates an order, and what happens without an answer:
one reminder after shop.confirmation_reminder_minutes, an operator after
shop.confirmation_escalation_minutes. Both are durable jobs (storage/jobs.py) that the
customer's first answer cancels (and the shop's `confirmed` or `cancelled` fact), and that do
nothing once the order is no longer pending.

The steps work on the repositories of the transaction they run in: the shop's order creation
(ProactiveMessages.on_created) or the due job's (dialog/unit_of_work.py DueJobs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialog.events import CONFIRMATION_SENT, PendingEvent
from dialog.flows.confirm_plan import FLOW, ConfirmStep, Money, job_key, summary_params
from dialog.proactive import ProactiveMessages
from dialog.store import ConversationStore
from dialog.texts import Texts
from dialog.unit_of_work import DueJobs, Repositories
from orders.confirmation import ConfirmationSettings
from orders.service import CustomerView, OrderView
from orders.states import OrderStatus
from storage.clock import utcnow

REMIND = "confirm_reminder"
ESCALATE = "confirm_escalation"
BUTTONS = (("confirm_button_go", "confirm:begin:go"),
           ("confirm_button_decline", "confirm:begin:decline"))


class ConfirmationStarter:
    def __init__(self, settings: ConfirmationSettings, store: ConversationStore,
                 texts: Texts) -> None:
        self._settings = settings
        self._store = store
        self._texts = texts
        self._proactive: ProactiveMessages | None = None

    def attach(self, proactive: ProactiveMessages, jobs: DueJobs) -> None:
        self._proactive = proactive
        proactive.on_created = self.start
        proactive.on_decided = self.stop
        jobs.register(REMIND, self.remind)
        jobs.register(ESCALATE, self.escalate)

    async def start(self, uow: Repositories, customer: CustomerView, order: OrderView) -> None:
        """Ask the customer to confirm the new order, and plan the reminder and escalation."""
        assert self._proactive is not None
        order = await uow.shop.with_names(order, customer.language)
        state = await self._proactive.tell(
            uow, customer, "confirm_request", *BUTTONS,
            flow=(FLOW, ConfirmStep.BEGIN, {"number": order.number, "plan": {}}),
            **summary_params(order, self._money(customer)),
        )
        await uow.events.add(state.id, [PendingEvent(CONFIRMATION_SENT, order.number)], utcnow())
        now = self._settings.clock()
        payload = {"number": order.number}
        await uow.shop.schedule_job(REMIND, job_key(order.number) + "remind",
                       now + timedelta(minutes=self._settings.reminder_minutes), payload)
        await uow.shop.schedule_job(ESCALATE, job_key(order.number) + "escalate",
                       now + timedelta(minutes=self._settings.escalation_minutes), payload)

    async def stop(self, uow: Repositories, order: OrderView) -> None:
        """The shop confirmed or cancelled the order: no reminder, no escalation. The question
        stays the conversation's, so that an answer to it (a press of its old button) is told
        the order is confirmed or cancelled already (ConfirmFlow._not_pending in confirm.py)."""
        await uow.shop.cancel_jobs(job_key(order.number))

    async def remind(self, uow: Repositories, payload: dict[str, Any]) -> None:
        assert self._proactive is not None
        found = await self._pending(uow, payload["number"])
        if found is None:
            return
        order, customer = found
        await self._proactive.tell(
            uow, customer, "confirm_reminder", *BUTTONS,
            flow=(FLOW, ConfirmStep.BEGIN, {"number": order.number, "plan": {}}),
            number=order.number, total=summary_params(order, self._money(customer))["total"],
        )

    async def escalate(self, uow: Repositories, payload: dict[str, Any]) -> None:
        assert self._proactive is not None
        found = await self._pending(uow, payload["number"])
        if found is None:
            return
        order, customer = found
        state = await self._proactive.tell(uow, customer, "confirm_escalated",
                                           number=order.number)
        if state.status == "bot":
            state.status, state.escalation_reason = "escalated", "confirmation_unanswered"
            state.flow, state.step, state.slots = None, None, {}
            await self._store.save(uow, state)

    def _money(self, customer: CustomerView) -> Money:
        return lambda minor, currency: self._texts.money(customer.language, minor, currency)

    async def _pending(
        self, uow: Repositories, number: str
    ) -> tuple[OrderView, CustomerView] | None:
        order = await uow.shop.get_order(number)
        if order is None or order.status is not OrderStatus.PENDING_CONFIRMATION:
            return None
        customer = await uow.shop.get_customer(order.customer_id)
        return (order, customer) if customer is not None else None

