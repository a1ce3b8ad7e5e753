"""Which implementation stands behind each of orders/'s small protocols: the HTTP client of
the shop's own system when [adapters] names its URL, else the bot's local stand-in."""

from __future__ import annotations

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


def _client(settings: Settings, url: str) -> tuple[str, str, float]:
    """What every HTTP adapter is built with: the shop's URL, the API key, the timeout."""
    return url, settings.adapters.api_key, settings.adapters.timeout_seconds


def payments(settings: Settings) -> Payments:
    url = settings.adapters.payments_url
    return HttpPayments(*_client(settings, url)) if url else LocalPayments(settings.base_url)


def inventory(settings: Settings) -> Inventory:
    url = settings.adapters.inventory_url
    return HttpInventory(*_client(settings, url)) if url else LocalInventory()


def credit_check(settings: Settings) -> CreditCheck:
    url = settings.adapters.credit_check_url
    return HttpCreditCheck(*_client(settings, url)) if url else LocalCreditCheck()


def vouchers(settings: Settings) -> Vouchers:
    url = settings.adapters.vouchers_url
    return HttpVouchers(*_client(settings, url)) if url else LocalVouchers()


def courier(settings: Settings) -> Courier:
    url = settings.adapters.courier_url
    return HttpCourier(*_client(settings, url)) if url else LocalCourier()


def shop_orders(settings: Settings) -> ShopOrders | None:
    """The shop's open orders ([adapters] orders_url); None: there is nothing to reconcile."""
    url = settings.adapters.orders_url
    return HttpShopOrders(*_client(settings, url)) if url else None
