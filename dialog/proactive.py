"""Messages the shop's events send to a customer, through the same outbox as replies.

Everything here works on the repositories of the caller's transaction (a unit of work), so a
message commits with the fact that caused it. The order core tells its news with the session
it works in (orders.service.OrderNotifier); composition/joined.py makes that session the
repositories of the same transaction before it reaches `order_changed`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dialog.messages import Button, ConversationKey, Outbound
from dialog.outbox import OutboxSender
from dialog.state import ConversationState, offered_buttons
from dialog.store import ConversationStore
from dialog.texts import Amount, Texts
from dialog.unit_of_work import Repositories
from orders.service import CustomerView, OrderView, customer_of

EVENT_TEXTS = {
    "created": "notify_created",
    "shipped": "notify_shipped",
    "reshipped": "notify_reshipped",  # shipped again, with a new tracking number
    "delivered": "notify_delivered",
    "payment_received": "notify_payment_received",
    "return_received": "notify_return_received",
    "confirmed": "notify_confirmed",
    "cancelled": "notify_cancelled",
    "out_for_delivery": "notify_out_for_delivery",
    "delivery_failed": "notify_delivery_failed",
    "refunded": "notify_refunded",
    "updated": "notify_updated",
}
# With the shop's reason, the text that gives it.
_WITH_REASON = {"cancelled": "notify_cancelled_reason",
                "delivery_failed": "notify_delivery_failed_reason"}


@dataclass(frozen=True)
class Contact:
    """What a channel may use to start a conversation with a customer."""

    customer_id: int
    name: str
    email: str | None
    language: str
    identities: dict[str, str] = field(default_factory=dict)  # channel -> external id


class ConversationOpener(Protocol):
    name: str

    async def open_conversation(self, contact: Contact) -> tuple[str, dict[str, Any]] | None:
        """(chat id, reply context) of a new conversation with the contact, or None."""
        ...


class ProactiveMessages:
    """The orders' notifier: tells the customer where the shop asked, or where they wrote last.

    With a preferred channel from the shop, the customer's conversation there (a new one if
    that channel can reach them); otherwise, or if it cannot, the conversation they used last;
    a customer with none gets a web chat one, where the message waits until they open it.
    Only the customer's own conversations are chosen; a chat that proved the order at the
    strong level (docs/security.md) gets a copy of the order's news, never instead of them.
    """

    def __init__(
        self, store: ConversationStore, texts: Texts, outbox: OutboxSender, shop_name: str,
    ) -> None:
        self._store = store
        self._texts = texts
        self._outbox = outbox
        self._shop_name = shop_name
        self._openers: dict[str, ConversationOpener] = {}
        # A new order starts its confirmation conversation (dialog/flows/confirm_reminders.py).
        self.on_created: Callable[
            [Repositories, CustomerView, OrderView], Awaitable[None]] | None = None
        # The shop confirmed or cancelled the order itself: its confirmation questions stop.
        self.on_decided: Callable[[Repositories, OrderView], Awaitable[None]] | None = None

    def add_opener(self, opener: ConversationOpener) -> None:
        self._openers[opener.name] = opener

    async def order_changed(
        self, uow: Repositories, order: OrderView, event: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """The order core's news (orders.service.OrderNotifier), in its transaction."""
        text_key = EVENT_TEXTS.get(event)
        if text_key is None:
            return
        details = details or {}
        customer = customer_of(order)
        if event == "created" and self.on_created is not None:
            return await self.on_created(uow, customer, order)
        if event in ("confirmed", "cancelled") and self.on_decided is not None:
            await self.on_decided(uow, order)
        if event == "return_received" and order.refunded_minor:
            text_key = "notify_return_refunded"
        if details.get("reason") and event in _WITH_REASON:
            text_key = _WITH_REASON[event]
        if not order.tracking_url and self._texts.has(customer.language, text_key + "_no_link"):
            text_key += "_no_link"  # no "Track it here: -" when the shop gave no page
        refund = details.get("amount_minor", order.refunded_minor)
        await self.tell(
            uow, customer, text_key,
            about=order.number,
            number=order.number,
            carrier=order.carrier or "-",
            tracking_number=order.tracking_number or "-",
            tracking_url=order.tracking_url,
            refund=Amount(refund, order.currency),
            reason=details.get("reason", ""),
            total=Amount(order.total_minor, order.currency),
        )

    async def tell(
        self,
        uow: Repositories,
        customer: CustomerView,
        text_key: str,
        *buttons: tuple[str, str],
        flow: tuple[str, str, dict[str, Any]] | None = None,
        about: str | None = None,
        **params: object,
    ) -> ConversationState:
        """Write to a customer in the conversation chosen as the class says, in its language.

        buttons are (text key, payload) pairs; flow (name, step, slots) makes the customer's
        next message an answer to this one; about (an order number): the news also goes, as a
        copy, to the chats watching that order. Durable with the caller's transaction.
        """
        state = await self._conversation(uow, customer)
        await self._write(uow, state, text_key, buttons, flow, params)
        if about is not None:
            for watcher in await self._store.watchers(uow, about, besides=state.id):
                await self._write(uow, watcher, text_key, (), None, params)
        return state

    async def tell_owner(
        self,
        uow: Repositories,
        customer: CustomerView,
        text_key: str,
        *buttons: tuple[str, str],
        avoid: int,
        channel: str | None = None,
        **params: object,
    ) -> ConversationState | None:
        """Write to the customer in a conversation of their own (on `channel` first, when it
        can reach them; else as `tell` chooses), never in conversation `avoid`; None when that
        would be the one."""
        state = None
        if channel is not None and channel in self._openers:
            state = await self._store.latest_for_customer(uow, customer.id, channel)
            if state is None:
                state = await self._open(uow, customer, channel)
        if state is None:
            state = await self._conversation(uow, customer)
        if state.id == avoid:
            return None
        await self._write(uow, state, text_key, buttons, None, params)
        return state

    async def _write(
        self,
        uow: Repositories,
        state: ConversationState,
        text_key: str,
        buttons: tuple[tuple[str, str], ...],
        flow: tuple[str, str, dict[str, Any]] | None,
        params: dict[str, object],
    ) -> None:
        language = state.language
        text = self._texts.get(language, text_key, shop=self._shop_name, **params)
        choices = tuple(Button(self._texts.get(language, key), payload) for key, payload in buttons)
        message = Outbound(key=state.key, text=text, buttons=choices)
        if flow is not None or choices:  # a question: "2" or a button's words now answer it
            if flow is not None:
                state.flow, state.step, state.slots = flow[0], flow[1], dict(flow[2])
            state.offered = offered_buttons([message])
            await self._store.save(uow, state)
        # (News alone leaves the question the customer was answering, and its buttons, open.)
        deliveries = await self._store.add_replies(
            uow, state.id, [message], context=state.context, language=language,
            opening=state.fresh,
        )
        state.fresh = False
        uow.after_commit(lambda: self._outbox.enqueue(deliveries))

    async def _conversation(self, uow: Repositories, customer: CustomerView) -> ConversationState:
        preferred = customer.preferred_channel
        if preferred:
            state = await self._store.latest_for_customer(uow, customer.id, preferred)
            if state is None:
                state = await self._open(uow, customer, preferred)
            if state is not None:
                return state
        state = await self._store.latest_for_customer(uow, customer.id)
        if state is None:
            state = await self._open(uow, customer, "webchat")
        if state is None:  # no web chat either: the message waits in a conversation of its own
            state = await self._start(uow, customer, "webchat", secrets.token_hex(16), {})
        return state

    async def _open(
        self, uow: Repositories, customer: CustomerView, channel: str
    ) -> ConversationState | None:
        """A new conversation on `channel`, if that channel is on and can reach the customer."""
        opener = self._openers.get(channel)
        if opener is None:
            return None
        contact = Contact(
            customer_id=customer.id,
            name=customer.name,
            email=None if customer.email_undeliverable else customer.email,
            language=customer.language,
            identities=await uow.shop.identities_of(customer.id),
        )
        opened = await opener.open_conversation(contact)
        if opened is None:
            return None
        chat_id, context = opened
        return await self._start(uow, customer, channel, chat_id, context)

    async def _start(
        self, uow: Repositories, customer: CustomerView, channel: str, chat_id: str,
        context: dict[str, Any],
    ) -> ConversationState:
        state = await self._store.load(
            uow, ConversationKey(channel, chat_id), customer.language, customer.id
        )
        state.context = dict(context)
        await self._store.save(uow, state)
        return state
