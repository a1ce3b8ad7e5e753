"""The inventory (ERP) over HTTP, with Authorization: Bearer <api_key>:

- GET  {base}/stock?sku=A&sku=B      -> {"items": [{"sku","name","category","price_minor",
                                          "available","expected_date": "YYYY-MM-DD"|null}]}
- GET  {base}/alternatives?sku=A&quantity=1&limit=3 -> {"items": [... as above]}
- POST {base}/stores {"items": {"SKU": quantity}}   -> {"stores": [{"id","name","address"}]}
- GET  {base}/pickup-points?postcode=P              -> {"points": [{"id","name","address"}]}
- GET  {base}/accessory?sku=A&sku=B                  -> {"item": {...} | null}
Anything else (unreachable, timeout, non-2xx, a malformed body) is InventoryUnavailable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import httpx

from orders.inventory import InventoryUnavailable, Place, StockLevel


class HttpInventory:
    def __init__(self, base_url: str, api_key: str = "", timeout_seconds: float = 5) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_seconds

    async def levels(self, session: Any, skus: Sequence[str]) -> dict[str, StockLevel]:
        data = await self._call("GET", "/stock", params={"sku": list(skus)})
        return {level.sku: level for level in map(_level, _list(data, "items"))}

    async def alternatives(
        self, session: Any, sku: str, quantity: int, limit: int = 3
    ) -> list[StockLevel]:
        data = await self._call("GET", "/alternatives",
                                params={"sku": sku, "quantity": quantity, "limit": limit})
        return [_level(item) for item in _list(data, "items")][:limit]

    async def stores_with(self, session: Any, wanted: Mapping[str, int]) -> list[Place]:
        data = await self._call("POST", "/stores", json={"items": dict(wanted)})
        return [_place(item) for item in _list(data, "stores")]

    async def pickup_points(self, session: Any, postcode: str) -> list[Place]:
        data = await self._call("GET", "/pickup-points", params={"postcode": postcode})
        return [_place(item) for item in _list(data, "points")]

    async def accessory_for(self, session: Any, skus: Sequence[str]) -> StockLevel | None:
        data = await self._call("GET", "/accessory", params={"sku": list(skus)})
        item = data.get("item")
        return _level(item) if item else None

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.request(method, self._base_url + path,
                                                headers=self._headers, **kwargs)
        except httpx.HTTPError as error:
            raise InventoryUnavailable(f"inventory unreachable: {type(error).__name__}") from None
        if not response.is_success:
            raise InventoryUnavailable(f"inventory answered {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise InventoryUnavailable("inventory answered with no JSON") from None
        if not isinstance(data, dict):
            raise InventoryUnavailable("inventory answered with no JSON object")
        return data


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
