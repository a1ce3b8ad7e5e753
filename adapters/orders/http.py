"""The shop's open orders over HTTP, with Authorization: Bearer <api_key>:

- GET {base}/orders?status=open&cursor=C -> {"orders": [{"number", "status",
      "tracking_number"?, "carrier"?, "delivery"?: {...}, "total"?,
      "lines"?: [{"sku", "quantity"}]}], "next_cursor"?: "C2" | null}
The first page is asked with an empty cursor; pages follow next_cursor until it is missing or
null. Anything else (unreachable, timeout, non-2xx, a malformed body, a cursor that repeats)
is ShopOrdersUnavailable: the reconciliation then changes nothing.
"""

from __future__ import annotations

from typing import Any

from adapters.http import JsonApi
from orders.shop_orders import ShopOrder, ShopOrdersUnavailable

MAX_PAGES = 10_000  # a shop that pages for ever is answering nonsense


class HttpShopOrders:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._api = JsonApi(base_url, api_key, timeout_seconds, "shop orders",
                            ShopOrdersUnavailable)

    async def open_orders(self) -> list[ShopOrder]:
        found: list[ShopOrder] = []
        cursor, seen = "", set()
        for _page in range(MAX_PAGES):
            data = await self._api.call("GET", "/orders",
                                        params={"status": "open", "cursor": cursor})
            orders = data.get("orders")
            if not isinstance(orders, list):
                raise ShopOrdersUnavailable("shop orders answered without a list of orders")
            found += [_order(item) for item in orders]
            following = data.get("next_cursor")
            if following in (None, ""):
                return found
            if not isinstance(following, str) or following in seen:
                raise ShopOrdersUnavailable("shop orders answered a bad next_cursor")
            seen.add(following)
            cursor = following
        raise ShopOrdersUnavailable("shop orders answered too many pages")


def _order(item: Any) -> ShopOrder:
    if not isinstance(item, dict):
        raise ShopOrdersUnavailable("shop orders answered an order that is not an object")
    number, status = item.get("number"), item.get("status")
    if not isinstance(number, str) or not number or not isinstance(status, str):
        raise ShopOrdersUnavailable("shop orders answered an order without number or status")
    delivery = item.get("delivery")
    return ShopOrder(
        number=number, status=status,
        tracking_number=_text(item, "tracking_number", number),
        carrier=_text(item, "carrier", number),
        delivery=delivery if isinstance(delivery, dict) else None,
        total=item.get("total"),
        lines=_lines(item.get("lines"), number),
    )


def _text(item: dict[str, Any], key: str, number: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise ShopOrdersUnavailable(f"shop orders answered a bad {key} for order {number}")
    return value or None


def _lines(lines: Any, number: str) -> dict[str, int] | None:
    if lines is None:
        return None
    items: dict[str, int] = {}
    for line in lines if isinstance(lines, list) else [None]:
        sku = line.get("sku") if isinstance(line, dict) else None
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if not isinstance(sku, str) or not isinstance(quantity, int) or isinstance(
            quantity, bool
        ):
            raise ShopOrdersUnavailable(f"shop orders answered a bad line for order {number}")
        items[sku] = items.get(sku, 0) + quantity
    return items
