"""The shop of one transaction: the order core's use cases and the shop's adapters bound to
the unit of work's session (dialog/flows/shop.py is the port, `uow.shop` gives this).

This is where the order core meets the turn's transaction: the order core's use cases and the
adapters that keep local data take a session; the dialog reaches them only through the port.
An adapter is read from the ShopServices when used, so that a test assigning one
(`bot.services.payments = ...`) is heard at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialog import events
from dialog.proof_limits import ProofCounts
from dialog.shop_services import ShopServices
from orders.cancellation import Cancellation, cancel_order
from orders.catalogue import names_in, with_names_in
from orders.confirmation import Confirmation, ConfirmationPlan, ConfirmationSettings
from orders.credit_check import CreditDecision
from orders.delivery import DeliveryPlan, change_delivery
from orders.inventory import Inventory, Place, StockLevel
from orders.payments import Payments, create_payment_link
from orders.returns import Eligibility, ReturnDesk, ReturnView
from orders.service import CustomerView, NewCustomer, OrderService, OrderView
from orders.stock import ProductInfo, find_products, product_info, subscribe
from orders.tracking import TrackingInfo
from orders.vouchers import VoucherQuote
from storage.jobs import cancel, schedule
from storage.repositories.proof_attempts import SqlProofAttempts

if TYPE_CHECKING:
    from dialog.unit_of_work import Repositories


@dataclass(eq=False)
class ShopParts:
    """What every transaction's shop is made of. `services` is set once the adapters are
    built (they are built on the units of work: composition/bootstrap.py); None in a bot
    built without the shop, whose flows then fail loudly."""

    orders: OrderService
    services: ShopServices | None = None


class SqlShop:
    """dialog.flows.shop.Shop over one session (the unit of work's, or a job's joined)."""

    def __init__(self, session: AsyncSession, uow: Repositories, parts: ShopParts) -> None:
        self._session = session
        self._uow = uow
        self._orders = parts.orders
        self._parts = parts
        self._proof_counts: ProofCounts | None = None

    @property
    def _wired(self) -> ShopServices | None:
        return self._parts.services

    @property
    def _services(self) -> ShopServices:
        if self._wired is None:
            raise LookupError("no shop services wired (composition/bootstrap.py)")
        return self._wired

    # Settings and guards that need no transaction.

    @property
    def settings(self) -> ConfirmationSettings:
        return self._services.confirmation

    @property
    def proof_limits(self) -> ProofCounts:
        """The proof limits counted in this transaction (storage/repositories/proof_attempts.py)."""
        if self._proof_counts is None:
            self._proof_counts = self._services.proof_limits.over(
                SqlProofAttempts(self._session, self.settings.clock))
        return self._proof_counts

    def today(self) -> date:
        return self.settings.clock().date()

    async def track(self, order: OrderView, now: datetime) -> TrackingInfo:
        """LookupError without a courier; TrackingUnavailable when it does not answer."""
        return await self._services.courier.track(order, now)

    # Orders and customers.

    async def get_order(self, number: str) -> OrderView | None:
        return await self._orders.get_order(self._session, number)

    async def orders_of_customer(self, customer_id: int) -> list[OrderView]:
        return await self._orders.orders_of_customer(self._session, customer_id)

    async def verified_order(self, number: str, proofs: list[str]) -> OrderView | None:
        return await self._orders.verified_order(self._session, number, proofs)

    async def order_by_link_token(self, token: str) -> OrderView | None:
        return await self._orders.order_by_link_token(self._session, token)

    async def customer_id_for(self, customer: NewCustomer) -> int:
        """The customer with this e-mail address, or a new one: their id."""
        return (await self._orders.find_or_create_customer(self._session, customer)).id

    async def get_customer(self, customer_id: int) -> CustomerView | None:
        return await self._orders.get_customer(self._session, customer_id)

    async def customer_for_identity(self, channel: str, sender: str,
                                    email: str | None = None) -> int | None:
        return await self._orders.customer_for_identity(self._session, channel, sender,
                                                        email=email)

    async def link_identity(self, customer_id: int, channel: str, sender: str) -> None:
        await self._orders.link_identity(self._session, customer_id, channel, sender)

    async def identities_of(self, customer_id: int) -> dict[str, str]:
        return await self._orders.identities_of(self._session, customer_id)

    async def mark_email_undeliverable(self, address: str) -> bool:
        return await self._orders.mark_email_undeliverable(self._session, address)

    async def cancel_order(self, number: str, cause: str) -> Cancellation:
        payments: Payments | None = None if self._wired is None else self._wired.payments
        return await cancel_order(self._session, self._orders, payments, number, cause)

    async def change_delivery(self, number: str, plan: DeliveryPlan | None,
                              address: dict[str, Any] | None = None) -> OrderView:
        return await change_delivery(
            self._session, self._orders, self._services.inventory, number, plan,
            self.settings.delivery_slots, self.today(), address=address,
        )

    # Catalogue and stock.

    async def with_names(self, order: OrderView, language: str) -> OrderView:
        return await with_names_in(self._session, order, language)

    async def names(self, skus: Iterable[str], language: str) -> dict[str, str]:
        return await names_in(self._session, skus, language)

    async def find_products(self, text: str, language: str) -> list[ProductInfo]:
        return await find_products(self._session, text, language)

    async def product_info(self, sku: str, language: str) -> ProductInfo | None:
        return await product_info(self._session, sku, language)

    async def subscribe(self, customer_id: int, sku: str) -> bool:
        return await subscribe(self._session, customer_id, sku)

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, StockLevel]:
        return await self._inventory.levels(self._session, skus)

    async def alternatives(self, sku: str, quantity: int) -> list[StockLevel]:
        return await self._inventory.alternatives(self._session, sku, quantity)

    async def accessory_for(self, skus: Sequence[str]) -> StockLevel | None:
        return await self._inventory.accessory_for(self._session, skus)

    async def stores_with(self, wanted: Mapping[str, int]) -> list[Place]:
        return await self._inventory.stores_with(self._session, wanted)

    async def pickup_points(self, postcode: str) -> list[Place]:
        return await self._inventory.pickup_points(self._session, postcode)

    @property
    def _inventory(self) -> Inventory:
        return self._services.inventory

    # Confirmation.

    @property
    def confirmation(self) -> SqlConfirmation:
        return SqlConfirmation(self._session, Confirmation(self._orders), self)

    async def credit_check(self, customer_id: int, amount_minor: int,
                           currency: str) -> CreditDecision:
        return await self._services.credit_check.check(
            self._session, customer_id, amount_minor, currency)

    async def quote_voucher(self, code: str, amount_minor: int, currency: str) -> VoucherQuote:
        return await self._services.vouchers.quote(
            self._session, code, amount_minor, currency, self.today())

    async def schedule_job(self, kind: str, key: str, due: datetime,
                           payload: dict[str, Any]) -> None:
        await schedule(self._session, kind, key, due, payload)

    async def cancel_jobs(self, key_prefix: str) -> None:
        await cancel(self._session, key_prefix)

    async def record_change(self, kind: str, data: dict[str, Any]) -> None:
        await self._orders.changes.record(self._session, kind, data=data)

    async def forget_changes(self, keys: list[str]) -> None:
        await self._orders.changes.forget(self._session, keys)

    # Payment.

    async def payment_link(self, order: OrderView) -> str:
        return await create_payment_link(
            self._session, self._orders, self._services.payments, order)

    async def invoice_url(self, order: OrderView, title: str, lines: Sequence[str],
                          watermark: str) -> str:
        return await self._services.invoices.invoice_url(
            self._session, order, title, lines, watermark)

    # Returns.

    async def return_eligibility(self, number: str) -> Eligibility:
        return await self._desk.eligibility(self._session, number)

    async def find_return(self, rma: str) -> ReturnView | None:
        return await self._desk.find_return(self._session, rma)

    async def request_return(self, number: str, quantities: Mapping[int, int], reason: str,
                             method: str, *, photo: str | None = None) -> ReturnView:
        return await self._desk.request_return(self._session, number, quantities, reason,
                                               method, photo=photo)

    @property
    def return_window_days(self) -> int:
        return self._desk.policy.window_days

    @property
    def _desk(self) -> ReturnDesk:
        return self._services.returns

    # The conversation's own records and other conversations.

    async def latest_rating_offer(self, conversation_id: int) -> events.RatingOffer | None:
        return await self._uow.events.latest_rating_offer(conversation_id)

    async def tell_owner(self, customer: CustomerView, text_key: str,
                         *buttons: tuple[str, str], avoid: int, channel: str | None = None,
                         **params: Any) -> object | None:
        """A message to the customer in a conversation of their own (not `avoid`); None when
        that would be `avoid` (dialog/proactive.py)."""
        return await self._services.proactive.tell_owner(
            self._uow, customer, text_key, *buttons, avoid=avoid, channel=channel,
            **params)


class SqlConfirmation:
    """orders.confirmation.Confirmation in the turn's transaction."""

    def __init__(self, session: AsyncSession, confirmation: Confirmation, shop: SqlShop) -> None:
        self._session, self._confirmation, self._shop = session, confirmation, shop

    async def missing(self, order: OrderView, levels: dict[str, StockLevel]
                      ) -> list[tuple[str, int, StockLevel]]:
        return await self._confirmation.missing(self._session, order, levels)

    async def replace_line(self, number: str, sku: str, product: StockLevel) -> OrderView:
        return await self._confirmation.replace_line(self._session, number, sku, product)

    async def remove_line(self, number: str, sku: str) -> OrderView:
        return await self._confirmation.remove_line(self._session, number, sku)

    async def add_line(self, number: str, product: StockLevel) -> OrderView:
        return await self._confirmation.add_line(self._session, number, product)

    async def wait_for(self, number: str, sku: str, quantity: int,
                       expected_date: date | None) -> None:
        await self._confirmation.wait_for(self._session, number, sku, quantity, expected_date)

    async def offer_once(self, number: str, sku: str) -> bool:
        return await self._confirmation.offer_once(self._session, number, sku)

    async def confirm(self, number: str, plan: ConfirmationPlan) -> OrderView:
        shop = self._shop
        return await self._confirmation.confirm(
            self._session, number, plan, shop._services.vouchers, shop.today())

    async def save_document(self, number: str, content: bytes) -> str:
        return await self._confirmation.save_document(self._session, number, content)

    async def decline(self, number: str, cause: str) -> OrderView:
        return await self._confirmation.decline(self._session, number, cause)
