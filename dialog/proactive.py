"""Messages the shop's events send to a customer, through the same outbox as replies."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from dialog.messages import ConversationKey, Outbound
from dialog.outbox import OutboxSender
from dialog.store import ConversationState, ConversationStore
from dialog.texts import Texts
from orders.database import after_commit
from orders.service import OrderService, OrderView

EVENT_TEXTS = {
    "created": "notify_created",
    "shipped": "notify_shipped",
    "delivered": "notify_delivered",
    "payment_received": "notify_payment_received",
    "return_received": "notify_return_received",
}


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
    """

    def __init__(
        self, store: ConversationStore, texts: Texts, outbox: OutboxSender, orders: OrderService,
        shop_name: str,
    ) -> None:
        self._store = store
        self._texts = texts
        self._outbox = outbox
        self._orders = orders
        self._shop_name = shop_name
        self._openers: dict[str, ConversationOpener] = {}

    def add_opener(self, opener: ConversationOpener) -> None:
        self._openers[opener.name] = opener

    async def order_changed(self, session: Any, order: OrderView, event: str) -> None:
        text_key = EVENT_TEXTS.get(event)
        if text_key is None:
            return
        state = await self._conversation(session, order)
        text = self._texts.get(
            state.language,
            text_key,
            number=order.number,
            shop=self._shop_name,
            carrier=order.carrier or "-",
            tracking_number=order.tracking_number or "-",
            tracking_url=order.tracking_url or "-",
        )
        deliveries = await self._store.add_replies(
            session, state.id, [Outbound(key=state.key, text=text)], context=state.context
        )
        after_commit(session, lambda: self._outbox.enqueue(deliveries))

    async def _conversation(self, session: Any, order: OrderView) -> ConversationState:
        preferred = order.preferred_channel
        if preferred:
            state = await self._store.latest_for_customer(session, order.customer_id, preferred)
            if state is None:
                state = await self._open(session, order, preferred)
            if state is not None:
                return state
        state = await self._store.latest_for_customer(session, order.customer_id)
        if state is None:
            state = await self._open(session, order, "webchat")
        if state is None:  # no web chat either: the message waits in a conversation of its own
            state = await self._start(session, order, "webchat", secrets.token_hex(16), {})
        return state

    async def _open(
        self, session: Any, order: OrderView, channel: str
    ) -> ConversationState | None:
        """A new conversation on `channel`, if that channel is on and can reach the customer."""
        opener = self._openers.get(channel)
        if opener is None:
            return None
        contact = Contact(
            customer_id=order.customer_id,
            name=order.customer_name,
            email=None if order.customer_email_undeliverable else order.customer_email,
            language=order.customer_language,
            identities=await self._orders.identities_of(session, order.customer_id),
        )
        opened = await opener.open_conversation(contact)
        if opened is None:
            return None
        chat_id, context = opened
        return await self._start(session, order, channel, chat_id, context)

    async def _start(
        self, session: Any, order: OrderView, channel: str, chat_id: str, context: dict[str, Any]
    ) -> ConversationState:
        state = await self._store.load(
            session, ConversationKey(channel, chat_id), order.customer_language, order.customer_id
        )
        state.context = dict(context)
        await self._store.save(session, state)
        return state
