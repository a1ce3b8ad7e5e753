"""Is it in stock? Find the product the customer names, tell whether it is there (how many,
or when it is expected), and offer to tell them when it is back.

Steps: "need_product" (the name was not found: the next message is tried as a name),
"choose" (several products matched: buttons), "offer_notify" (out of stock: yes/no).
"""

from __future__ import annotations

from typing import Any

from dialog.events import BACK_IN_STOCK_SENT, record_event
from dialog.flows.base import Turn, human_button
from dialog.proactive import ProactiveMessages
from orders.service import CustomerView, NewCustomer
from orders.stock import ProductInfo, find_products, product_info, subscribe

MAX_MISSES = 2
NOT_RESTOCKING = "item_not_restocking"  # the escalation reason when no date is known
# Free-text answers that accept the offer even when the classifier hears a "no" in them
# ("notify me" looks like a refusal to it): checked before the intent.
_NOTIFY_WORDS = ("notify", "tell me", "let me know", "powiadom", "daj znać", "daj mi znać",
                 "сообщите", "сообщи", "уведом")


class AvailabilityFlow:
    name = "availability"
    intents = frozenset({"product_availability"})

    async def start(self, turn: Turn, intent: str) -> None:
        turn.finish()
        await self._lookup(turn, misses=0)

    async def resume(self, turn: Turn) -> bool:
        step, slots = turn.state.step, turn.state.slots
        if step == "need_product":
            await self._lookup(turn, misses=int(slots.get("misses", 0)))
            return True
        if step == "choose":
            offered = set(slots.get("skus", []))
            found = await find_products(turn.session, turn.inbound.text, turn.language)
            chosen = [product for product in found if product.sku in offered]
            if len(chosen) == 1:
                self._tell(turn, chosen[0])
                return True
            if found:
                self._answer(turn, found)
                return True
            return False
        if step == "offer_notify":
            text = turn.inbound.text.lower()
            intent = turn.understanding.intent if turn.understanding else None
            if any(word in text for word in _NOTIFY_WORDS) or intent == "affirm":
                await self._subscribe(turn, str(slots["sku"]))
                return True
            if intent == "deny":
                turn.finish()
                turn.say("stock_no_thanks")
                return True
            found = await find_products(turn.session, turn.inbound.text, turn.language)
            if found:  # another product
                self._answer(turn, found)
                return True
        return False

    async def on_action(self, turn: Turn, argument: str) -> None:
        action, _, sku = argument.partition(":")
        if action == "notify" and sku:
            return await self._subscribe(turn, sku)
        if action == "sku" and sku:
            product = await product_info(turn.session, sku, turn.language)
            if product is not None:
                return self._tell(turn, product)
            return self._not_found(turn, misses=0)
        turn.finish()
        turn.say("stock_no_thanks")

    async def _lookup(self, turn: Turn, misses: int) -> None:
        found = await find_products(turn.session, turn.inbound.text, turn.language)
        if found:
            return self._answer(turn, found)
        self._not_found(turn, misses)

    def _not_found(self, turn: Turn, misses: int) -> None:
        misses += 1
        if misses >= MAX_MISSES:
            turn.finish()
            return turn.say("stock_not_found_again", human_button(turn))
        turn.enter(self.name, "need_product", misses=misses)
        turn.say("stock_not_found", human_button(turn))

    def _answer(self, turn: Turn, found: list[ProductInfo]) -> None:
        if len(found) == 1:
            return self._tell(turn, found[0])
        turn.enter(self.name, "choose", skus=[product.sku for product in found])
        turn.say("stock_choose", *(
            turn.button_plain(product.name, f"{self.name}:sku:{product.sku}") for product in found
        ))

    def _tell(self, turn: Turn, product: ProductInfo) -> None:
        if product.in_stock:
            turn.finish()
            return turn.say("stock_in_stock", name=product.name, count=product.available)
        turn.enter(self.name, "offer_notify", sku=product.sku)
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
        product = await product_info(turn.session, sku, turn.language)
        if product is None:
            return self._not_found(turn, misses=MAX_MISSES)
        if product.in_stock:  # it came back meanwhile
            return self._tell(turn, product)
        customer_id = await _customer_of(turn)
        if await subscribe(turn.session, customer_id, sku):
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
    customer = await turn.orders.find_or_create_customer(
        turn.session,
        NewCustomer(name=f"{state.key.channel} guest", email=email, language=turn.language),
    )
    if sender and email is None:
        await turn.orders.link_identity(turn.session, customer.id, state.key.channel, sender)
    state.customer_id = customer.id
    return customer.id


class BackInStockMessages:
    """orders.stock.BackInStockNotifier: the message a waiting customer gets."""

    def __init__(self, proactive: ProactiveMessages) -> None:
        self._proactive = proactive

    async def back_in_stock(
        self, session: Any, customer: CustomerView, product: ProductInfo
    ) -> None:
        state = await self._proactive.tell(
            session, customer, "stock_back_in_stock", name=product.name, count=product.available
        )
        await record_event(session, BACK_IN_STOCK_SENT, state.id, subject=product.sku)
