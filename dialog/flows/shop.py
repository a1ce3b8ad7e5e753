"""What the dialog may ask of the shop in one transaction: the order core's use cases and the
shop's adapters, bound to the unit of work (`uow.shop`, which a flow sees as `turn.shop`).

A port: the dialog never holds a database session. Its SQL implementation is
storage/repositories/shop.py (`SqlShop`, the order core in the unit of work's transaction);
unit tests of a flow pass an in-memory fake with the same methods (tests/dialog/flow_chat.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from orders.cancellation import Cancellation
from orders.confirmation import ConfirmationPlan, ConfirmationSettings
from orders.credit_check import CreditDecision
from orders.delivery import DeliveryPlan
from orders.inventory import Place, StockLevel
from orders.returns import Eligibility, ReturnView
from orders.service import CustomerView, NewCustomer, OrderView
from orders.stock import ProductInfo
from orders.tracking import TrackingInfo
from orders.vouchers import VoucherQuote

if TYPE_CHECKING:
    from dialog.events import RatingOffer
    from dialog.proof_limits import ProofCounts


class ShopConfirmation(Protocol):
    """orders.confirmation.Confirmation in the transaction."""

    async def missing(self, order: OrderView, levels: dict[str, StockLevel]
                      ) -> list[tuple[str, int, StockLevel]]: ...

    async def replace_line(self, number: str, sku: str, product: StockLevel) -> OrderView: ...

    async def remove_line(self, number: str, sku: str) -> OrderView: ...

    async def add_line(self, number: str, product: StockLevel) -> OrderView: ...

    async def wait_for(self, number: str, sku: str, quantity: int,
                       expected_date: date | None) -> None: ...

    async def offer_once(self, number: str, sku: str) -> bool: ...

    async def confirm(self, number: str, plan: ConfirmationPlan) -> OrderView: ...

    async def save_document(self, number: str, content: bytes) -> str: ...

    async def decline(self, number: str, cause: str) -> OrderView: ...


class Shop(Protocol):
    # Settings and guards that need no transaction.

    @property
    def settings(self) -> ConfirmationSettings: ...

    @property
    def proof_limits(self) -> ProofCounts: ...

    def today(self) -> date: ...

    async def track(self, order: OrderView, now: datetime) -> TrackingInfo:
        """LookupError without a courier; TrackingUnavailable when it does not answer."""
        ...

    # Orders and customers.

    async def get_order(self, number: str) -> OrderView | None: ...

    async def orders_of_customer(self, customer_id: int) -> list[OrderView]: ...

    async def verified_order(self, number: str, proofs: list[str]) -> OrderView | None: ...

    async def order_by_link_token(self, token: str) -> OrderView | None: ...

    async def get_customer(self, customer_id: int) -> CustomerView | None: ...

    async def customer_id_for(self, customer: NewCustomer) -> int:
        """The customer with this e-mail address, or a new one: their id."""
        ...

    async def customer_for_identity(self, channel: str, sender: str,
                                    email: str | None = None) -> int | None:
        """The customer this chat identity (or, failing that, e-mail address) belongs to."""
        ...

    async def link_identity(self, customer_id: int, channel: str, sender: str) -> None: ...

    async def identities_of(self, customer_id: int) -> dict[str, str]:
        """The customer's chat identities, by channel."""
        ...

    async def mark_email_undeliverable(self, address: str) -> bool:
        """False if no customer has this address."""
        ...

    async def cancel_order(self, number: str, cause: str) -> Cancellation: ...

    async def change_delivery(self, number: str, plan: DeliveryPlan | None,
                              address: dict[str, Any] | None = None) -> OrderView: ...

    # Catalogue and stock.

    async def with_names(self, order: OrderView, language: str) -> OrderView: ...

    async def names(self, skus: Iterable[str], language: str) -> dict[str, str]: ...

    async def find_products(self, text: str, language: str) -> list[ProductInfo]: ...

    async def product_info(self, sku: str, language: str) -> ProductInfo | None: ...

    async def subscribe(self, customer_id: int, sku: str) -> bool: ...

    async def stock_levels(self, skus: Sequence[str]) -> dict[str, StockLevel]: ...

    async def alternatives(self, sku: str, quantity: int) -> list[StockLevel]: ...

    async def accessory_for(self, skus: Sequence[str]) -> StockLevel | None: ...

    async def stores_with(self, wanted: Mapping[str, int]) -> list[Place]: ...

    async def pickup_points(self, postcode: str) -> list[Place]: ...

    # Confirmation.

    @property
    def confirmation(self) -> ShopConfirmation: ...

    async def credit_check(self, customer_id: int, amount_minor: int,
                           currency: str) -> CreditDecision: ...

    async def quote_voucher(self, code: str, amount_minor: int, currency: str
                            ) -> VoucherQuote: ...

    # Due jobs (storage/jobs.py), in the transaction.

    async def schedule_job(self, kind: str, key: str, due: datetime,
                           payload: dict[str, Any]) -> None: ...

    async def cancel_jobs(self, key_prefix: str) -> None: ...

    # What the shop learns of conversations and customers (orders/changes.py: webhooks).

    async def record_change(self, kind: str, data: dict[str, Any]) -> None: ...

    async def forget_changes(self, keys: list[str]) -> None:
        """Drop the recorded changes about these keys that the shop has (or that failed)."""
        ...

    # Payment.

    async def payment_link(self, order: OrderView) -> str: ...

    async def invoice_url(self, order: OrderView, title: str, lines: Sequence[str],
                          watermark: str) -> str: ...

    # Returns.

    async def return_eligibility(self, number: str) -> Eligibility: ...

    async def find_return(self, rma: str) -> ReturnView | None: ...

    async def request_return(self, number: str, quantities: Mapping[int, int], reason: str,
                             method: str, *, photo: str | None = None) -> ReturnView: ...

    @property
    def return_window_days(self) -> int: ...

    # The conversation's own records and other conversations.

    async def latest_rating_offer(self, conversation_id: int) -> RatingOffer | None: ...

    async def tell_owner(self, customer: CustomerView, text_key: str,
                         *buttons: tuple[str, str], avoid: int, channel: str | None = None,
                         **params: Any) -> object | None:
        """A message to the customer in a conversation of their own (not `avoid`); None when
        that would be `avoid` (dialog/proactive.py)."""
        ...
