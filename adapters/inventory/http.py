"""The inventory (ERP) over HTTP, with Authorization: Bearer <api_key>:

- GET  {base}/stock?sku=A&sku=B      -> {"items": [{"sku","name","category","price_minor",
                                          "available","expected_date": "YYYY-MM-DD"|null}]}
- GET  {base}/alternatives?sku=A&quantity=1&limit=3 -> {"items": [... as above]}
- POST {base}/stores {"items": {"SKU": quantity}}   -> {"stores": [{"id","name","address"}]}
- GET  {base}/pickup-points?postcode=P              -> {"points": [{"id","name","address"}]}
- GET  {base}/accessory?sku=A&sku=B                  -> {"item": {...} | null}
- POST {base}/reservations {"key","order","items":{"SKU":qty}}
                                  -> 200/201 {"reservation": "<id>", "items": {...granted...}}
                                  or 409 {"short": {"SKU": available}} when stock is short
- POST {base}/reservations/{key}/release               -> 200 (404: unknown key, already gone)
- POST {base}/reservations/{key}/commit                -> 200 (404: unknown key, already gone)
The reservation calls carry an Idempotency-Key header equal to the key: a retry with the same
key must get the same reservation. Anything else (unreachable, timeout, another status, a
malformed body) is InventoryUnavailable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from adapters.http import JsonApi
from orders.inventory import InventoryUnavailable, Place, Reservation, StockLevel


class HttpInventory:
    transactional = False  # release and commit leave as durable jobs (orders/reservations.py)

    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._api = JsonApi(base_url, api_key, timeout_seconds, "inventory",
                            InventoryUnavailable)

    async def levels(self, session: Any, skus: Sequence[str]) -> dict[str, StockLevel]:
        data = await self._api.call("GET", "/stock", params={"sku": list(skus)})
        return {level.sku: level for level in map(_level, _list(data, "items"))}

    async def alternatives(
        self, session: Any, sku: str, quantity: int, limit: int = 3
    ) -> list[StockLevel]:
        data = await self._api.call("GET", "/alternatives",
                                    params={"sku": sku, "quantity": quantity, "limit": limit})
        return [_level(item) for item in _list(data, "items")][:limit]

    async def stores_with(self, session: Any, wanted: Mapping[str, int]) -> list[Place]:
        data = await self._api.call("POST", "/stores", json={"items": dict(wanted)})
        return [_place(item) for item in _list(data, "stores")]

    async def pickup_points(self, session: Any, postcode: str) -> list[Place]:
        data = await self._api.call("GET", "/pickup-points", params={"postcode": postcode})
        return [_place(item) for item in _list(data, "points")]

    async def accessory_for(self, session: Any, skus: Sequence[str]) -> StockLevel | None:
        data = await self._api.call("GET", "/accessory", params={"sku": list(skus)})
        item = data.get("item")
        return _level(item) if item else None

    async def reserve(
        self, session: Any, key: str, order: str, items: Mapping[str, int]
    ) -> Reservation:
        response = await self._api.send(
            "POST", "/reservations", headers={"Idempotency-Key": key},
            json={"key": key, "order": order, "items": dict(items)})
        if response.status_code == 409:
            return Reservation("", {}, _quantities(self._api.json_object(response), "short"))
        if not response.is_success:
            raise InventoryUnavailable(f"inventory answered {response.status_code}")
        data = self._api.json_object(response)
        reference = data.get("reservation")
        if not isinstance(reference, str | int) or isinstance(reference, bool):
            raise InventoryUnavailable("inventory answered a reservation without its id")
        return Reservation(str(reference), _quantities(data, "items"), {})

    async def release(
        self, session: Any, key: str, order: str, items: Mapping[str, int]
    ) -> None:
        await self._finish(key, "release")

    async def commit(self, session: Any, key: str, order: str) -> None:
        await self._finish(key, "commit")

    async def _finish(self, key: str, step: str) -> None:
        """Release or commit: done on 2xx, and on 404 (the ERP has no such reservation, or no
        longer: nothing is held under the key)."""
        response = await self._api.send(
            "POST", f"/reservations/{quote(key, safe=':')}/{step}",
            headers={"Idempotency-Key": key})
        if not response.is_success and response.status_code != 404:
            raise InventoryUnavailable(f"inventory answered {response.status_code}")


def _quantities(data: dict[str, Any], key: str) -> dict[str, int]:
    found = data.get(key)
    if not isinstance(found, dict) or not all(
        isinstance(quantity, int) and not isinstance(quantity, bool) and quantity >= 0
        for quantity in found.values()
    ):
        raise InventoryUnavailable(f"inventory answered without {key} as {{sku: quantity}}")
    return {str(sku): int(quantity) for sku, quantity in found.items()}


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InventoryUnavailable(f"inventory answered without a list of {key}")
    return items


def _level(item: dict[str, Any]) -> StockLevel:
    try:
        expected = item.get("expected_date")
        return StockLevel(
            sku=str(item["sku"]), name=str(item["name"]),
            category=str(item.get("category", "general")),
            price_minor=int(item["price_minor"]), available=int(item["available"]),
            expected_date=date.fromisoformat(expected) if expected else None,
        )
    except (KeyError, TypeError, ValueError):
        raise InventoryUnavailable("inventory answered a malformed item") from None


def _place(item: dict[str, Any]) -> Place:
    try:
        return Place(str(item["id"]), str(item["name"]), str(item.get("address", "")))
    except KeyError:
        raise InventoryUnavailable("inventory answered a malformed place") from None
