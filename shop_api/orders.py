"""The shop REST API: orders, order events, stock and the catalogue (shop_api/products.py),
behind Bearer API keys."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Message, Receive

from http_guards.bodies import read_body
from http_guards.validation_errors import shown_errors
from orders.billing import cancel_payment_reminders, set_payment_due_date
from orders.facts import record_fact
from orders.payments import PaymentFailed
from orders.service import (
    DuplicateOrder,
    OrderNotifier,
    OrderService,
    UnknownOrder,
    UnknownProduct,
)
from orders.stock import BackInStockNotifier, notify_back_in_stock
from shop_api.idempotency import Idempotency
from shop_api.order_schemas import (
    OrderEvent,
    OrderIn,
    RefundedEvent,
    StockIn,
    UpdatedEvent,
    order_out,
)
from shop_api.products import make_products_router
from storage.database import Database

Links = Callable[[str], dict[str, str | None]]  # a new chat link token -> the links
_bearer = HTTPBearer(auto_error=False)
OrderNumber = Annotated[str, Path(max_length=64)]
# An order of 200 lines with long names and a full address is some tens of kB: a megabyte
# leaves ample room and keeps one request from filling the memory of a worker.
MAX_BODY_BYTES = 1024 * 1024


class _LimitedBody(APIRoute):
    """Refuses a body over MAX_BODY_BYTES with 413, read no further than that (declared in
    Content-Length or streamed), before the body is parsed; with an Idempotency-Key (and a
    valid API key), answers through `idempotency` (shop_api/idempotency.py)."""

    idempotency: ClassVar[Idempotency | None] = None
    api_keys: ClassVar[Sequence[bytes]] = ()

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            too_large = JSONResponse(
                {"detail": f"the body is larger than {MAX_BODY_BYTES} bytes"},
                status_code=status.HTTP_413_CONTENT_TOO_LARGE,
            )
            body = await read_body(request, MAX_BODY_BYTES)
            if body is None:
                return too_large

            async def handle() -> Response:
                try:
                    return await handler(Request(request.scope, _replay(body, request.receive)))
                except RequestValidationError as invalid:
                    return JSONResponse({"detail": shown_errors(invalid.errors())},
                                        status_code=422)
                except HTTPException as refused:  # answered here, so that it can be stored
                    return await http_exception_handler(request, refused)

            if self.idempotency is None or "idempotency-key" not in request.headers:
                return await handle()
            # An unauthenticated request claims no key: the handler answers it 401.
            api_key = _valid_key(request, self.api_keys)
            if api_key is None:
                return await handle()
            return await self.idempotency.answer(request, body, api_key, handle)

        return limited


def _valid_key(request: Request, keys: Sequence[bytes]) -> bytes | None:
    """The API key of the request's Bearer header when it is one of `keys`."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    given_bytes = given.strip().encode()
    return given_bytes if _one_of(given_bytes, keys) else None


def _one_of(given: bytes, keys: Sequence[bytes]) -> bool:
    # Compare with every key, always, so the time taken tells nothing.
    matches = [hmac.compare_digest(given, key) for key in keys]
    return any(matches)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, once; then the connection's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def make_router(
    database: Database,
    service: OrderService,
    notifier: OrderNotifier,
    api_keys: Sequence[str],
    links: Links,
    stock_notifier: BackInStockNotifier | None = None,
    idempotency_hours: int = 24,
) -> APIRouter:
    keys = [key.encode() for key in api_keys]

    async def fresh_links(number: str) -> dict[str, str | None]:
        async with database.transaction() as session:
            return links(await service.issue_link_token(session, number))

    route_class = type("_ShopRoute", (_LimitedBody,), {
        "idempotency": Idempotency(database, idempotency_hours, fresh_links),
        "api_keys": keys,
    })

    def authorised(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        given = credentials.credentials.encode() if credentials else b""
        if not credentials or not _one_of(given, keys):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a valid API key is needed: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    router = APIRouter(prefix="/api", tags=["shop"], dependencies=[Depends(authorised)],
                       route_class=route_class)

    @router.post("/orders", status_code=status.HTTP_201_CREATED)
    async def create_order(body: OrderIn) -> dict[str, Any]:
        try:
            async with database.transaction() as session:
                order = await service.create_order(session, body.to_new_order(), "shop api")
                if body.payment.due_date is not None:
                    await set_payment_due_date(session, order.number, body.payment.due_date)
                    order = await service.get_order(session, order.number) or order
                # A confirmed order is told so; a pending one starts its confirmation.
                await notifier.order_changed(
                    session, order, "created" if body.status == "pending_confirmation"
                    else "confirmed",
                )
                link_token = await service.issue_link_token(session, order.number)
        except DuplicateOrder:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"order {body.number.upper()} exists already"
            ) from None
        return order_out(order, links(link_token))

    @router.get("/orders/{number}")
    async def get_order(
        number: OrderNumber,
        with_links: Annotated[bool, Query(alias="links")] = True,
    ) -> dict[str, Any]:
        async with database.transaction() as session:
            order = await service.get_order(session, number.upper())
            # Only hashes are kept: each answer carries a new link, the older ones keep
            # working until they expire ([security] link_token_days). ?links=false, for a
            # shop that polls, issues none.
            link_token = (await service.issue_link_token(session, order.number)
                          if order is not None and with_links else None)
        if order is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {number.upper()}")
        return order_out(order, links(link_token) if link_token is not None else None)

    @router.post("/orders/{number}/events")
    async def order_event(number: OrderNumber, event: OrderEvent) -> dict[str, Any]:
        details = event.model_dump(exclude={"type"}, exclude_none=True)
        if isinstance(event, RefundedEvent):
            details = {"amount_minor": event.amount_minor}
        elif isinstance(event, UpdatedEvent):
            details = {"change": event.change()}
        cause = f"shop api: {event.type}"
        if "reason" in details:
            cause = f"{cause}: {details['reason']}"
        try:
            async with database.transaction() as session:
                # A fact is never refused (orders/facts.py): a contradiction is a task.
                recorded = await record_fact(
                    service, session, number.upper(), event.type, cause, **details
                )
                order = recorded.order
                if event.type in ("payment_received", "cancelled"):
                    await cancel_payment_reminders(session, order.number)
                if isinstance(event, UpdatedEvent) and event.payment is not None:
                    # A new due date, or a payment made: the reminders follow it.
                    if event.payment.due_date is not None:
                        await set_payment_due_date(session, order.number, event.payment.due_date)
                        order = await service.get_order(session, order.number) or order
                    elif order.payment_status == "paid":
                        await cancel_payment_reminders(session, order.number)
                if not recorded.repeat:
                    await notifier.order_changed(session, order,
                                                 recorded.told_as or event.type, details)
        except UnknownOrder:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {number.upper()}") from None
        except PaymentFailed as failed:  # the refund of a return: nothing stored, retry later
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"refund failed: {failed}") from None
        answer = order_out(order)
        if recorded.conflict is not None:
            answer["conflict"] = recorded.conflict
        return answer

    @router.put("/stock/{sku}")
    async def set_stock(sku: Annotated[str, Path(max_length=64)], body: StockIn) -> dict[str, Any]:
        try:
            async with database.transaction() as session:
                stock, _previous = await service.set_stock(
                    session, sku, body.available, body.expected_date
                )
                if stock.available > 0 and stock_notifier is not None:
                    await notify_back_in_stock(session, sku, service, stock_notifier)
        except UnknownProduct:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no product {sku}") from None
        return {
            "sku": stock.sku,
            "name": stock.name,
            "available": stock.available,
            "expected_date": stock.expected_date.isoformat() if stock.expected_date else None,
        }

    router.include_router(make_products_router(database, service, stock_notifier, route_class))
    return router
