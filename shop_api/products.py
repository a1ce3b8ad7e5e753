"""The catalogue in the shop API: PUT, GET and DELETE /api/products/{sku}, and
GET /api/products?q= (search, paged by sku)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from orders.catalogue import Outcome, delete_product, get_product, put_products, search_products
from orders.service import OrderService
from orders.stock import BackInStockNotifier, notify_back_in_stock
from shop_api.product_schemas import MAX_SKU_CHARS, SKU_PATTERN, ProductIn, product_out
from storage.database import Database

SkuPath = Annotated[str, Path(max_length=MAX_SKU_CHARS, pattern=SKU_PATTERN)]
MAX_PAGE = 100


def make_products_router(
    database: Database, service: OrderService, stock_notifier: BackInStockNotifier | None,
    route_class: type[APIRoute],
) -> APIRouter:
    router = APIRouter(route_class=route_class)

    @router.put("/products/{sku}", responses={201: {"description": "created"}})
    async def put_product(sku: SkuPath, body: ProductIn) -> JSONResponse:
        async with database.transaction() as session:
            [stored] = await put_products(session, [body.to_product(sku)])
            if stored.came_back and stock_notifier is not None:
                # As PUT /api/stock/{sku} does: in this transaction, so told once.
                await notify_back_in_stock(session, sku, service, stock_notifier)
            product = await get_product(session, sku)
        assert product is not None
        code = status.HTTP_201_CREATED if stored.outcome is Outcome.CREATED else status.HTTP_200_OK
        return JSONResponse(product_out(product), status_code=code)

    @router.get("/products/{sku}")
    async def read_product(sku: SkuPath) -> dict[str, Any]:
        async with database.transaction() as session:
            product = await get_product(session, sku)
        if product is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {sku}")
        return product_out(product)

    @router.delete("/products/{sku}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove_product(sku: SkuPath) -> Response:
        async with database.transaction() as session:
            if not await delete_product(session, sku):
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {sku}")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/products")
    async def list_products(
        q: Annotated[str, Query(max_length=200)] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
        cursor: Annotated[str | None, Query(max_length=MAX_SKU_CHARS)] = None,
    ) -> dict[str, Any]:
        async with database.transaction() as session:
            found = await search_products(session, q, limit + 1, after=cursor)
        page = found[:limit]
        return {"products": [product_out(product) for product in page],
                "next_cursor": page[-1].sku if len(found) > limit else None}

    return router
