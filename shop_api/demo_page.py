"""The demo shop's page at / (with the chat widget) and the demo orders it lists for
newcomers to try."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from orders.demo import demo_orders
from orders.service import OrderService
from storage.database import Database


def make_demo_router(database: Database, service: OrderService, page: Path) -> APIRouter:
    """The demo shop page at / and the demo orders it lists for newcomers."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def shop_page() -> FileResponse:
        return FileResponse(page, media_type="text/html")

    @router.get("/demo/orders")
    async def orders_to_try() -> list[dict[str, str]]:
        async with database.transaction() as session:
            return [asdict(order) for order in await demo_orders(session, service)]

    return router
