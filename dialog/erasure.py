"""Data protection: erase a customer on request, and delete transcripts past their retention.

Erasure deletes the customer's conversations (state, transcript, operators' intent labels,
outbox, handoffs, notes, links, recorded inbox messages), their channel identities and
back-in-stock subscriptions, and the order documents other than invoices; it blanks the
personal data on the customer and their orders (name, email, phone, delivery address and
postcode, return reasons). What
accounting law requires stays: orders with number, dates, status history, lines, amounts,
payments, refunds, returns' RMA numbers and lines, and issued invoices (README "Data
protection"). The customer row stays (the orders point at it) under a placeholder name, with a
SHA-256 of the erased address in place of the address, so that a repeated request is
recognised and answered "already erased". The webhooks delivered to the shop (or failed) about
the customer, their orders and conversations are deleted; those still to be sent stay
(docs/webhooks.md). Everything runs in the caller's one transaction (a unit of work; the
statements are the Erasures repository's, SQL in storage/repositories/erasure.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from orders.changes import CUSTOMER_ERASED
from orders.service import normalise_email

if TYPE_CHECKING:  # the unit of work's ports name this module's
    from dialog.unit_of_work import Repositories

ERASED_NAME = "(erased customer)"
ERASED_DOMAIN = "erased.invalid"  # .invalid: no mail is ever delivered there


@dataclass(frozen=True)
class Erasure:
    customer_id: int
    already_erased: bool
    conversations: int = 0
    identities: int = 0
    orders: int = 0


@dataclass(frozen=True)
class ErasedRecords:
    """What an erasure deleted and blanked (nothing, when the customer was erased before)."""

    already_erased: bool
    conversation_ids: list[int] = field(default_factory=list)
    order_numbers: list[str] = field(default_factory=list)
    identities: int = 0
    orders: int = 0


class Erasures(Protocol):
    async def customer_with_email(self, email: str) -> int | None:
        """The customer who has (or, before their erasure, had) this address."""
        ...

    async def erase(self, customer_id: int) -> ErasedRecords | None:
        """Delete and blank what the module's text says; None for an unknown customer."""
        ...

    async def delete_transcripts_before(self, before: datetime) -> int:
        """Delete the transcript lines (with their operators' labels) and the processed inbox
        messages older than `before`; how many transcript lines went."""
        ...


def erased_address(email: str) -> str:
    digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()
    return f"erased-{digest}@{ERASED_DOMAIN}"


async def erase_customer_by_email(uow: Repositories, email: str) -> Erasure | None:
    """Erase the customer with this email address; None when no customer ever had it."""
    customer_id = await uow.erasures.customer_with_email(email)
    return None if customer_id is None else await erase_customer(uow, customer_id)


async def erase_customer(uow: Repositories, customer_id: int) -> Erasure | None:
    """Erase one customer (see the module's text); None for an unknown id. Idempotent:
    the shop is told (customer.erased) the first time only."""
    erased = await uow.erasures.erase(customer_id)
    if erased is None:
        return None
    if erased.already_erased:
        return Erasure(customer_id, already_erased=True)
    numbers = erased.order_numbers
    # Webhooks the shop has (or that failed) hold the personal data as it was; the ones still
    # to be sent stay, as the shop must learn of those changes.
    await uow.shop.forget_changes([
        *numbers, *(f"conversation:{id}" for id in erased.conversation_ids),
        f"customer:{customer_id}"])
    await uow.shop.record_change(CUSTOMER_ERASED,
                                 {"customer": {"id": customer_id, "orders": numbers}})
    return Erasure(customer_id, already_erased=False,
                   conversations=len(erased.conversation_ids),
                   identities=erased.identities, orders=erased.orders)
