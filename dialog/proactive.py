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
    """The orders' notifier: tells the customer in the conversation they used last.

    A customer with no conversation yet gets one on their preferred channel if it can reach
    them, else in the web chat, where the message waits until they open the widget.
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
        state = await self._store.latest_for_customer(session, order.customer_id)
        if state is None:
            state = await self._open(session, order)
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

    async def _open(self, session: Any, order: OrderView) -> ConversationState:
        contact = Contact(
            customer_id=order.customer_id,
            name=order.customer_name,
            email=None if order.customer_email_undeliverable else order.customer_email,
            language=order.customer_language,
            identities=await self._orders.identities_of(session, order.customer_id),
        )
        for channel in dict.fromkeys([order.preferred_channel, "webchat"]):
            opener = self._openers.get(channel)
            opened = await opener.open_conversation(contact) if opener else None
            if opened is not None:
                chat_id, context = opened
                break
        else:
            channel, chat_id, context = "webchat", secrets.token_hex(16), {}
        state = await self._store.load(
            session, ConversationKey(channel, chat_id), contact.language, contact.customer_id
        )
        state.context = dict(context)
        await self._store.save(session, state)
        return state
