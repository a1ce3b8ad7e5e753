"""Erasing a customer, and deleting old transcripts, in SQL (dialog/erasure.py says what goes
and what stays, and why)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog.erasure import ERASED_DOMAIN, ERASED_NAME, ErasedRecords, erased_address
from dialog.tables import Conversation, InboxRow, IntentLabel, OrderWatcher, TranscriptEntry
from orders.service import normalise_email
from orders.tables import (
    ChatLink,
    Customer,
    CustomerIdentity,
    Document,
    Order,
    Return,
    StockSubscription,
)


class SqlErasure:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def customer_with_email(self, email: str) -> int | None:
        address = normalise_email(email)
        session = self._session
        customer_id = await session.scalar(select(Customer.id).where(Customer.email == address))
        if customer_id is None:
            customer_id = await session.scalar(
                select(Customer.id).where(Customer.email == erased_address(address)))
        return customer_id

    async def erase(self, customer_id: int) -> ErasedRecords | None:
        session = self._session
        customer = await session.get(Customer, customer_id)
        if customer is None:
            return None
        if customer.email and customer.email.endswith("@" + ERASED_DOMAIN):
            return ErasedRecords(already_erased=True)
        email = (customer.email or "").lower()
        identities = [(channel, external) for channel, external in await session.execute(
            select(CustomerIdentity.channel, CustomerIdentity.external_id)
            .where(CustomerIdentity.customer_id == customer_id))]
        senders = [external for _, external in identities] + ([email] if email else [])
        order_ids = list(await session.scalars(
            select(Order.id).where(Order.customer_id == customer_id)))

        conversation_ids = await _conversations(
            session, customer_id, identities, order_ids, email)
        keys = list(await session.execute(
            select(Conversation.channel, Conversation.chat_id)
            .where(Conversation.id.in_(conversation_ids))))
        inbox_of_customer = [InboxRow.customer_id == customer_id]
        if senders:
            inbox_of_customer.append(InboxRow.sender.in_(senders))
        if keys:
            inbox_of_customer.append(tuple_(InboxRow.channel, InboxRow.chat_id).in_(keys))
        if email:
            inbox_of_customer.append(func.lower(InboxRow.text).contains(email, autoescape=True))
            inbox_of_customer.append(
                func.lower(InboxRow.context["to"].as_string()) == email)
        await session.execute(delete(InboxRow).where(or_(*inbox_of_customer)))
        # Transcript, outbox, handoffs, notes, order links, tokens and Slack threads go with
        # their conversation (ON DELETE CASCADE); operators' labels of their messages too, said
        # here as they hold the customer's words (the model forgets them at its next start:
        # docs/deploy.md).
        if conversation_ids:
            await session.execute(
                delete(IntentLabel).where(IntentLabel.conversation_id.in_(conversation_ids)))
        await session.execute(delete(Conversation).where(Conversation.id.in_(conversation_ids)))
        await session.execute(
            delete(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id))
        await session.execute(
            delete(StockSubscription).where(StockSubscription.customer_id == customer_id))
        if order_ids:
            await session.execute(update(Order).where(Order.id.in_(order_ids))
                                  .values(delivery_address={}, postcode=""))
            await session.execute(update(Return).where(Return.order_id.in_(order_ids))
                                  .values(reason=""))
            await session.execute(delete(Document).where(
                Document.order_id.in_(order_ids), Document.kind != "invoice"))
            # A chat link sent before would tie a new chat to the erased customer's orders.
            await session.execute(delete(ChatLink).where(ChatLink.order_id.in_(order_ids)))
        customer.name = ERASED_NAME
        customer.email = erased_address(email) if email else None
        customer.phone = None
        customer.preferred_channel = ""
        customer.email_undeliverable = True  # nothing is ever sent to the placeholder
        await session.flush()
        numbers = list(await session.scalars(
            select(Order.number).where(Order.id.in_(order_ids)).order_by(Order.id)))
        return ErasedRecords(False, conversation_ids, numbers, len(identities), len(order_ids))

    async def delete_transcripts_before(self, before: datetime) -> int:
        session = self._session
        old = select(TranscriptEntry.id).where(TranscriptEntry.at < before)
        await session.execute(delete(IntentLabel).where(IntentLabel.transcript_id.in_(old)))
        deleted = await session.execute(
            delete(TranscriptEntry).where(TranscriptEntry.at < before))
        await session.execute(delete(InboxRow).where(
            InboxRow.received_at < before, InboxRow.processed_at.is_not(None)))
        return int(getattr(deleted, "rowcount", 0) or 0)


async def _conversations(
    session: AsyncSession, customer_id: int, identities: list[tuple[str, str]],
    order_ids: list[int], email: str,
) -> list[int]:
    """The customer's conversations: theirs by id, their chats on each channel, those in
    which one of their orders was proven, and those that quote their address."""
    found = set(await session.scalars(
        select(Conversation.id).where(Conversation.customer_id == customer_id)))
    if identities:
        found |= set(await session.scalars(select(Conversation.id).where(
            tuple_(Conversation.channel, Conversation.chat_id).in_(identities))))
    if order_ids:
        found |= set(await session.scalars(select(OrderWatcher.conversation_id).where(
            OrderWatcher.order_id.in_(order_ids))))
    if email:
        found |= set(await session.scalars(select(TranscriptEntry.conversation_id).where(
            func.lower(TranscriptEntry.text).contains(email, autoescape=True))))
        # Answered at the address without being the customer's: mail whose From was not
        # authenticated is a stranger's conversation, yet it holds the address.
        # (the reply context, kept in the state, names the recipient)
        found |= set(await session.scalars(select(Conversation.id).where(
            func.lower(Conversation.state[("context", "to")].as_string()) == email)))
    return sorted(found)
