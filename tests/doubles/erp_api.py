"""An ERP (inventory service) on 127.0.0.1 speaking adapters/inventory/http.py's contract.

It keeps stock per sku, holds reservations by their key (a second call with a key it knows
answers as the first did, as an idempotent ERP does), and records every call with the
Idempotency-Key header it carried. `down = True` answers 503 to everything, `nonsense = True`
a JSON list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.doubles.http_api import HttpApiDouble


@dataclass
class ErpCall:
    method: str  # stock, alternatives, accessory, stores, pickup-points, reserve, release, commit
    key: str | None  # the Idempotency-Key header
    body: dict[str, Any]
    status: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class ErpProduct:
    name: str
    category: str
    price_minor: int
    available: int


@dataclass
class Held:
    order: str
    items: dict[str, int]
    state: str = "reserved"  # reserved | released | committed
    answer: dict[str, Any] = field(default_factory=dict)


class ErpDouble(HttpApiDouble[ErpCall]):
    route = "/{path:.*}"

    def __init__(self, products: dict[str, ErpProduct]) -> None:
        super().__init__()
        self.products = products
        self.held: dict[str, Held] = {}
        self.down = False
        self.nonsense = False  # 200 with a JSON list instead of an object

    def calls_of(self, method: str) -> list[ErpCall]:
        return [call for call in self.calls if call.method == method]

    async def _answer(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body = await request.json() if request.can_read_body else {}
        parts = path.split("/")
        method = parts[-1] if parts[0] == "reservations" and len(parts) == 3 else (
            "reserve" if path == "reservations" else path)
        status, answer = (503, {}) if self.down else self._handle(method, parts, request, body)
        self.calls.append(ErpCall(method, request.headers.get("Idempotency-Key"), body, status))
        self._changed.set()
        return web.json_response(["nonsense"] if self.nonsense else answer, status=status)

    def _handle(self, method: str, parts: list[str], request: web.Request,
                body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        skus = request.query.getall("sku", [])
        if method == "stock":
            return 200, {"items": [self._item(sku) for sku in skus if sku in self.products]}
        if method == "alternatives":
            wanted = self.products[request.query["sku"]]
            return 200, {"items": [
                self._item(sku) for sku, product in self.products.items()
                if sku != request.query["sku"] and product.category == wanted.category
                and product.available >= int(request.query["quantity"])]}
        if method == "accessory":
            return 200, {"item": None}
        if method == "stores":
            return 200, {"stores": []}
        if method == "pickup-points":
            return 200, {"points": [{"id": "PP-1", "name": "Locker", "address": "1 Main St"}]}
        if method == "reserve":
            return self._reserve(body)
        held = self.held.get(parts[1])
        if held is None:
            return 404, {"error": "unknown reservation"}
        if held.state == "reserved" and method == "release":
            for sku, quantity in held.items.items():
                self.products[sku].available += quantity
        held.state = {"release": "released", "commit": "committed"}[method]
        return 200, {}

    def _reserve(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key, items = body["key"], body["items"]
        if key in self.held:
            return 200, self.held[key].answer
        short = {sku: self.products[sku].available for sku, quantity in items.items()
                 if sku in self.products and self.products[sku].available < quantity}
        if short:
            return 409, {"short": short}
        for sku, quantity in items.items():
            if sku in self.products:
                self.products[sku].available -= quantity
        answer = {"reservation": f"R-{len(self.held) + 1}", "items": items}
        self.held[key] = Held(body["order"], dict(items), answer=answer)
        return 201, answer

    def _item(self, sku: str) -> dict[str, Any]:
        product = self.products[sku]
        return {"sku": sku, "name": product.name, "category": product.category,
                "price_minor": product.price_minor, "available": product.available,
                "expected_date": None}
