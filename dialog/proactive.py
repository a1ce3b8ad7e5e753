"""Messages the shop's events send to a customer, through the same outbox as replies."""

from __future__ import annotations

import secrets
from typing import Any

from dialog.messages import ConversationKey, Outbound
from dialog.outbox import OutboxSender
from dialog.store import ConversationStore
from dialog.texts import Texts
from orders.database import after_commit
from orders.service import OrderView

EVENT_TEXTS = {
    "shipped": "notify_shipped",
    "delivered": "notify_delivered",
    "payment_received": "notify_payment_received",
    "return_received": "notify_return_received",
}


class ProactiveMessages:
    """The orders' notifier: tells the customer in the conversation they used last.

    A customer who never chatted gets a web chat conversation, where the message waits in
    the history until they open the widget with their verified identity.
    """

    def __init__(self, store: ConversationStore, texts: Texts, outbox: OutboxSender) -> None:
        self._store = store
        self._texts = texts
        self._outbox = outbox

    async def order_changed(self, session: Any, order: OrderView, event: str) -> None:
        text_key = EVENT_TEXTS.get(event)
        if text_key is None:
            return
        state = await self._store.latest_for_customer(session, order.customer_id)
        if state is None:
            key = ConversationKey("webchat", secrets.token_hex(16))
            state = await self._store.load(
                session, key, order.customer_language, order.customer_id
            )
        text = self._texts.get(
            state.language,
            text_key,
            number=order.number,
            carrier=order.carrier or "-",
            tracking_number=order.tracking_number or "-",
            tracking_url=order.tracking_url or "-",
        )
        deliveries = await self._store.add_replies(
            session, state.id, [Outbound(key=state.key, text=text)], context=state.context
        )
        after_commit(session, lambda: self._outbox.enqueue(deliveries))
