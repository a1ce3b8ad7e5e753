"""Is it in stock? Find the product the customer names, tell whether it is there (how many,
or when it is expected), and offer to tell them when it is back.

Steps: "need_product" (the name was not found: the next message is tried as a name),
"choose" (several products matched: buttons), "offer_notify" (out of stock: yes/no).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialog.events import BACK_IN_STOCK_SENT, PendingEvent
from dialog.flows.base import Turn, human_button
from dialog.flows.steps import FlowData, Step, Steps
from dialog.proactive import ProactiveMessages
from dialog.unit_of_work import Repositories
from orders.service import CustomerView, NewCustomer
from orders.stock import ProductInfo
from storage.clock import utcnow

MAX_MISSES = 2
NOT_RESTOCKING = "item_not_restocking"  # the escalation reason when no date is known
# Free-text answers that accept the offer even when the classifier hears a "no" in them
# ("notify me" looks like a refusal to it): checked before the intent.
_NOTIFY_WORDS = ("notify", "tell me", "let me know", "powiadom", "daj znać", "daj mi znać",
                 "сообщите", "сообщи", "уведом")


class AvailabilityStep(StrEnum):
    NEED_PRODUCT = "need_product"  # nothing found: which product?
    CHOOSE = "choose"  # several found: which of them?
    OFFER_NOTIFY = "offer_notify"  # out of stock: shall we tell you when it is back?


@dataclass
class AvailabilityData(FlowData):
    misses: int | None = None  # searches that found nothing
    skus: list[str] | None = None  # the products offered to choose from
    sku: str | None = None  # the product out of stock


class AvailabilityFlow:
    name = "availability"
    intents = frozenset({"product_availability"})

    def __init__(self) -> None:
        self._steps = Steps(self.name, AvailabilityStep, AvailabilityData, {
            AvailabilityStep.NEED_PRODUCT: Step(self._product_named, "stock_not_found"),
            AvailabilityStep.CHOOSE: Step(self._product_chosen, "stock_choose"),
            AvailabilityStep.OFFER_NOTIFY: Step(self._notify_answer),
        })

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        await self._lookup(turn, misses=0)

    async def resume(self, turn: Turn) -> bool:
        return await self._steps.resume(turn)

    async def _product_named(self, turn: Turn, data: AvailabilityData) -> bool:
        await self._lookup(turn, misses=int(data.misses or 0))
        return True

    async def _product_chosen(self, turn: Turn, data: AvailabilityData) -> bool:
        offered = set(data.skus or [])
        found = await turn.shop.find_products(turn.inbound.text, turn.language)
        chosen = [product for product in found if product.sku in offered]
        if len(chosen) == 1:
            self._tell(turn, chosen[0])
            return True
        if found:
            self._answer(turn, found)
            return True
        return False

    async def _notify_answer(self, turn: Turn, data: AvailabilityData) -> bool:
        text = turn.inbound.text.lower()
        intent = turn.understanding.intent if turn.understanding else None
        if any(word in text for word in _NOTIFY_WORDS) or intent == "affirm":
            await self._subscribe(turn, str(data.sku))
            return True
        if intent == "deny":
            turn.finish()
            turn.say("stock_no_thanks")
            return True
        found = await turn.shop.find_products(turn.inbound.text, turn.language)
        if found:  # another product
            self._answer(turn, found)
            return True
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        action, _, sku = argument.partition(":")
        if action == "notify" and sku:
            return await self._subscribe(turn, sku)
        if action == "sku" and sku:
            product = await turn.shop.product_info(sku, turn.language)
            if product is not None:
                return self._tell(turn, product)
            return self._not_found(turn, misses=0)
        turn.finish()
        turn.say("stock_no_thanks")

    async def _lookup(self, turn: Turn, misses: int) -> None:
        found = await turn.shop.find_products(turn.inbound.text, turn.language)
        if found:
            return self._answer(turn, found)
        self._not_found(turn, misses)

    def _not_found(self, turn: Turn, misses: int) -> None:
        misses += 1
        if misses >= MAX_MISSES:
            turn.finish()
            return turn.say("stock_not_found_again", human_button(turn))
        self._steps.ask(turn, AvailabilityStep.NEED_PRODUCT, AvailabilityData(misses=misses),
                        human_button(turn))

    def _answer(self, turn: Turn, found: list[ProductInfo]) -> None:
        if len(found) == 1:
            return self._tell(turn, found[0])
        data = AvailabilityData(skus=[product.sku for product in found])
        self._steps.ask(turn, AvailabilityStep.CHOOSE, data, *(
            turn.button_plain(product.name, f"{self.name}:sku:{product.sku}") for product in found
        ))

    def _tell(self, turn: Turn, product: ProductInfo) -> None:
        if product.in_stock:
            turn.finish()
            return turn.say("stock_in_stock", name=product.name, count=product.available)
        data = AvailabilityData(sku=product.sku)
        self._steps.enter(turn, AvailabilityStep.OFFER_NOTIFY, data)
        buttons = (turn.button("stock_button_notify", f"{self.name}:notify:{product.sku}"),
                   turn.button("stock_button_no_thanks", f"{self.name}:no"))
        if product.expected_date is not None:
            return turn.say("stock_out_with_date", *buttons, name=product.name,
                            date=turn.texts.date(turn.language, product.expected_date))
        # Nobody knows when (or whether) it comes back: a person may find another way.
        turn.say("stock_out_no_date", *buttons,
                 turn.button("button_human", f"handoff:{NOT_RESTOCKING}"), name=product.name)

    async def _subscribe(self, turn: Turn, sku: str) -> None:
        turn.finish()
        product = await turn.shop.product_info(sku, turn.language)
        if product is None:
            return self._not_found(turn, misses=MAX_MISSES)
        if product.in_stock:  # it came back meanwhile
            return self._tell(turn, product)
        customer_id = await _customer_of(turn)
        if await turn.shop.subscribe(customer_id, sku):
            turn.say("stock_subscribed", name=product.name)
        else:
            turn.say("stock_already_subscribed", name=product.name)


async def _customer_of(turn: Turn) -> int:
    """The conversation's customer; a chat nobody is known in gets a customer record of its
    own, so that the back-in-stock message finds its way back to this conversation."""
    state = turn.state
    if state.customer_id is not None:
        return state.customer_id
    sender = turn.inbound.sender
    email = turn.inbound.sender_email
    customer_id = await turn.shop.customer_id_for(
        NewCustomer(name=f"{state.key.channel} guest", email=email, language=turn.language),
    )
    if sender and email is None:
        await turn.shop.link_identity(customer_id, state.key.channel, sender)
    state.customer_id = customer_id
    return customer_id


class BackInStockMessages:
    """The message a waiting customer gets (orders.stock.BackInStockNotifier, joined by
    composition/joined.py)."""

    def __init__(self, proactive: ProactiveMessages) -> None:
        self._proactive = proactive

    async def back_in_stock(
        self, uow: Repositories, customer: CustomerView, product: ProductInfo
    ) -> None:
        state = await self._proactive.tell(
            uow, customer, "stock_back_in_stock", name=product.name, count=product.available
        )
        await uow.events.add(
            state.id, [PendingEvent(BACK_IN_STOCK_SENT, product.sku)], utcnow())
