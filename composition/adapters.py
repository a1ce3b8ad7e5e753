"""Which implementation stands behind each of orders/'s small protocols: the HTTP client of
the shop's own system when [adapters] names its URL, else the bot's local stand-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from adapters.courier.http import HttpCourier
from adapters.courier.local import LocalCourier
from adapters.credit_check.http import HttpCreditCheck
from adapters.credit_check.local import LocalCreditCheck
from adapters.inventory.http import HttpInventory
from adapters.inventory.local import LocalInventory
from adapters.orders.http import HttpShopOrders
from adapters.payments.http import HttpPayments
from adapters.payments.local import LocalPayments
from adapters.vouchers.http import HttpVouchers
from adapters.vouchers.local import LocalVouchers
from config import Settings
from orders.credit_check import CreditCheck
from orders.inventory import Inventory
from orders.payments import Payments
from orders.shop_orders import ShopOrders
from orders.tracking import Courier
from orders.vouchers import Vouchers

T = TypeVar("T")


def _adapter(settings: Settings, url: str, http: Callable[[str, str, float], T], local: T) -> T:
    """`local` is typed as the protocol by the caller, so that T is the protocol."""
    if url:
        return http(url, settings.adapters.api_key, settings.adapters.timeout_seconds)
    return local


def payments(settings: Settings) -> Payments:
    local: Payments = LocalPayments(settings.base_url)
    return _adapter(settings, settings.adapters.payments_url, HttpPayments, local)


def inventory(settings: Settings) -> Inventory:
    local: Inventory = LocalInventory()
    return _adapter(settings, settings.adapters.inventory_url, HttpInventory, local)


def credit_check(settings: Settings) -> CreditCheck:
    local: CreditCheck = LocalCreditCheck()
    return _adapter(settings, settings.adapters.credit_check_url, HttpCreditCheck, local)


def vouchers(settings: Settings) -> Vouchers:
    local: Vouchers = LocalVouchers()
    return _adapter(settings, settings.adapters.vouchers_url, HttpVouchers, local)


def courier(settings: Settings) -> Courier:
    local: Courier = LocalCourier()
    return _adapter(settings, settings.adapters.courier_url, HttpCourier, local)


def shop_orders(settings: Settings) -> ShopOrders | None:
    """The shop's open orders ([adapters] orders_url); None: there is nothing to reconcile."""
    url = settings.adapters.orders_url
    return _adapter(settings, url, HttpShopOrders, None) if url else None
