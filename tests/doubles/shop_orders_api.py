"""The shop's order service on 127.0.0.1 (adapters/orders/http.py's contract): its open orders,
`page_size` a page, following the cursor. `broken` makes it answer badly: "500", "not json",
or "bad order" (the second page holds an order without a number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.doubles.http_api import HttpApiDouble


@dataclass
class OrdersCall:
    method: str
    cursor: str
    auth: str | None
    status: int

    @property
    def ok(self) -> bool:
        return self.status == 200


class ShopOrdersDouble(HttpApiDouble[OrdersCall]):
    route = "/orders"

    def __init__(self, orders: list[dict[str, Any]], page_size: int = 2) -> None:
        super().__init__()
        self.orders = orders
        self.page_size = page_size
        self.broken: str | None = None

    async def _answer(self, request: web.Request) -> web.Response:
        cursor = request.query.get("cursor", "")
        start = int(cursor or 0)
        status, response = self._page(request, start)
        self.calls.append(OrdersCall("orders", cursor, request.headers.get("Authorization"),
                                     status))
        self._changed.set()
        return response

    def _page(self, request: web.Request, start: int) -> tuple[int, web.Response]:
        if request.query.get("status") != "open":
            return 400, web.json_response({"error": "status=open only"}, status=400)
        if self.broken == "500":
            return 500, web.Response(status=500, text="Internal Server Error")
        if self.broken == "not json":
            return 200, web.Response(text="<html>maintenance</html>",
                                     content_type="text/html")
        page = self.orders[start:start + self.page_size]
        if self.broken == "bad order" and start > 0:
            page = [{"status": "confirmed"}]
        following = start + self.page_size
        body: dict[str, Any] = {"orders": page}
        if following < len(self.orders):
            body["next_cursor"] = str(following)
        return 200, web.json_response(body)
