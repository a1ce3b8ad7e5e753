"""The console's HTTP API (docs/console.md): the page, /console/api/* and WS /console/ws.

A thin layer over the operators' desk (dialog/desk.py) and the order use cases. Every endpoint
but login needs the session cookie (401 without one); the admin's endpoints refuse operators
(403). Errors are {"detail": "<a reason a person can read>"}, validation errors included.
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at
# run time, and the dependencies they name (Me, Admin) are local to make_router.
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import date as Date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Query,
    Request,
    Response,
    WebSocket,
    status,
)
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from console.accounts import Account, AccountError, DuplicateUsername, UnknownOperator
from console.accounts import normalise_username as _username
from console.actions import ActionRefused, ActionRequest
from console.analytics.api import add_analytics_routes
from console.canned import CannedError
from console.deliveries import add_delivery_routes
from console.desk_routes import add_desk_routes
from console.labels import add_label_routes, message_intents
from console.live import COOKIE
from console.static_files import RevalidatedStaticFiles
from console.tasks import add_task_routes
from console.views import customer_json, transcript_text
from dialog.desk_values import DeskError, NotFound, QueueFilter, QueueItem
from dialog.erasure import erase_customer
from http_guards.downloads import download
from orders.tables import Customer
from storage.clock import utcnow

if TYPE_CHECKING:
    from console.app import OperatorConsole

STATIC = Path(__file__).parent / "static"
PAGE = STATIC / "console.html"
ORDERS_SHOWN = 100
EXPORT_LIMIT = 100_000

Language = Literal["en", "pl", "ru"]
Role = Literal["operator", "admin"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_Body):
    username: Annotated[str, Field(max_length=200)]
    password: Annotated[str, Field(max_length=1000)]


class TextIn(_Body):
    text: Text


class ActionIn(_Body):
    action: Literal["cancel", "reschedule", "return", "payment_link"]
    order: Annotated[str, Field(min_length=1, max_length=64)]
    date: Date | None = None
    slot: Annotated[str, Field(max_length=20)] | None = None
    method: Literal["courier_pickup", "drop_off"] | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None


class CannedIn(_Body):
    language: Language
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=100)]
    text: Text


class OperatorIn(_Body):
    username: Annotated[str, Field(max_length=64)]
    display_name: Annotated[str, Field(max_length=100)]
    password: Annotated[str, Field(max_length=1000)]
    role: Role = "operator"


class OperatorChange(_Body):
    active: bool | None = None
    role: Role | None = None
    display_name: Annotated[str, Field(max_length=100)] | None = None
    password: Annotated[str, Field(max_length=1000)] | None = None


def readable(errors: Any) -> str:
    """Pydantic's validation errors as one sentence: "text: String should have ..."."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            parts.append("the body is not valid JSON")
            continue
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query",
                                                                          "path"))
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "the request is not valid"


class _ReadableErrors(APIRoute):
    """422 {"detail": "<sentence>"} instead of FastAPI's list, for the console only."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return JSONResponse({"detail": readable(error.errors())},
                                    status.HTTP_422_UNPROCESSABLE_CONTENT)

        return handle


@contextmanager
def desk_errors(refused: int = status.HTTP_409_CONFLICT) -> Iterator[None]:
    """The desk's refusals as HTTP answers: 404 for no such conversation, `refused` (409
    unless told) for what cannot be done now, with the desk's reason."""
    try:
        yield
    except NotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
    except DeskError as error:
        raise HTTPException(refused, str(error)) from None


def make_router(console: "OperatorConsole") -> APIRouter:
    accounts, desk, throttle = console.accounts, console.desk, console.throttle

    def same_origin(request: Request) -> None:
        """A change must come from the console's own pages (console/origins.py)."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if not console.origins.allowed(request.headers.get("origin"),
                                       request.headers.get("host")):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "requests from other sites are refused")

    async def operator(request: Request) -> Account:
        same_origin(request)
        account = await accounts.by_session(request.cookies.get(COOKIE))
        if account is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first")
        return account

    async def admin(account: Annotated[Account, Depends(operator)]) -> Account:
        if not account.is_admin:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may do that")
        return account

    Me = Annotated[Account, Depends(operator)]
    Admin = Annotated[Account, Depends(admin)]

    router = APIRouter(prefix="/console", tags=["console"], route_class=_ReadableErrors)
    # Mounts get no router prefix: the path is the whole one.
    router.mount("/console/static", RevalidatedStaticFiles(directory=STATIC, check_dir=False),
                 name="console-static")

    @router.get("", include_in_schema=False)
    async def page() -> FileResponse:
        if not PAGE.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, "the console page is not installed")
        return FileResponse(PAGE, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @router.websocket("/ws")
    async def live(websocket: WebSocket) -> None:
        await console.live.serve(websocket)

    # Logging in and out

    @router.post("/api/login")
    async def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
        same_origin(request)
        username = _username(body.username)
        address = request.client.host if request.client else "unknown"
        wait = await throttle.admit(username, address)
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many failed logins: try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )
        account = await accounts.authenticate(username, body.password)
        if account is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
        await throttle.succeeded(username, address)
        token = await accounts.open_session(account)
        response.set_cookie(COOKIE, token, max_age=accounts.session_seconds, path="/console",
                            httponly=True, samesite="strict", secure=console.secure_cookie)
        return {"operator": account.to_json()}

    @router.post("/api/logout", status_code=status.HTTP_204_NO_CONTENT)
    async def logout(me: Me, request: Request) -> Response:
        token = request.cookies.get(COOKIE, "")
        await accounts.close_session(token)
        console.live.logged_out(token)
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict",
                               secure=console.secure_cookie)
        return response

    @router.get("/api/me")
    async def me(me: Me) -> dict[str, Any]:
        return {"operator": me.to_json()}

    # Conversations

    async def item(conversation_id: int) -> QueueItem:
        with desk_errors():
            return await desk.get(conversation_id)

    @router.get("/api/conversations")
    async def conversations(
        me: Me, state: Literal["escalated", "claimed", "all"] = "escalated",
        view: Literal["open", "mine", "unassigned", "closed", "all"] | None = None,
        channel: Literal["webchat", "telegram", "slack", "email"] | None = None,
        language: Language | None = None,
        tag: Annotated[str, Query(max_length=64)] | None = None,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
    ) -> dict[str, Any]:
        now = utcnow()
        if view is None and channel is None and language is None and tag is None:
            return {"conversations": [i.to_json(now) for i in await desk.queue(state)]}
        chosen = QueueFilter(view or "open", me.ref.key, channel, language, tag, offset, limit)
        with desk_errors(status.HTTP_422_UNPROCESSABLE_CONTENT):  # a tag that cannot be one
            page, more = await desk.browse(chosen)
        return {"conversations": [i.to_json(now) for i in page], "more": more}

    @router.get("/api/conversations/{conversation_id}")
    async def conversation(conversation_id: int, me: Me) -> dict[str, Any]:
        found = await item(conversation_id)
        transcript = await desk.transcript(conversation_id)
        notes = await desk.notes(conversation_id)
        customer, orders = None, []
        if found.customer_id is not None:
            async with console.database.transaction() as session:
                view = await console.orders.get_customer(session, found.customer_id)
                phone = await session.scalar(
                    select(Customer.phone).where(Customer.id == found.customer_id))
                orders = await console.orders.orders_of_customer(
                    session, found.customer_id, limit=ORDERS_SHOWN)
            customer = customer_json(view, phone) if view is not None else None
        shown = {order.number for order in orders}
        if any(number not in shown for number in found.proven_orders):
            async with console.database.transaction() as session:  # proven in this chat
                for number in found.proven_orders:
                    proven = None if number in shown else await console.orders.get_order(
                        session, number)
                    if proven is not None:
                        orders.append(proven)
                if customer is None and orders:  # an anonymous chat: who proved the order
                    view = await console.orders.get_customer(session, orders[-1].customer_id)
                    customer = customer_json(view, None) if view is not None else None
        intents = await message_intents(console.units, console.accounts,
                                        [line.id for line in transcript])
        return {
            "conversation": found.to_json(),
            "customer": customer,
            "orders": await console.actions.orders_json(orders),
            "transcript": [line.to_json() for line in transcript],
            "notes": [note.to_json() for note in notes],
            # the bot's guess and the operator's label of each customer message, by its id
            "intents": intents,
        }

    @router.post("/api/conversations/{conversation_id}/claim")
    async def claim(conversation_id: int, me: Me) -> dict[str, Any]:
        with desk_errors():
            claimed = await desk.claim(conversation_id, me.ref)
        return {"conversation": claimed.to_json()}

    @router.post("/api/conversations/{conversation_id}/messages",
                 status_code=status.HTTP_201_CREATED)
    async def message(conversation_id: int, body: TextIn, me: Me) -> dict[str, Any]:
        with desk_errors():
            line = await desk.say(conversation_id, me.ref, body.text)
        return {"message": line.to_json()}

    @router.post("/api/conversations/{conversation_id}/typing",
                 status_code=status.HTTP_204_NO_CONTENT)
    async def typing(conversation_id: int, me: Me) -> None:
        """The operator is typing to the customer (the widget shows "Anna is typing…")."""
        with desk_errors():
            await desk.typing(conversation_id, me.ref)

    @router.post("/api/conversations/{conversation_id}/release")
    async def release(conversation_id: int, me: Me) -> dict[str, Any]:
        with desk_errors():
            released = await desk.hand_back(conversation_id, me.ref, force=me.is_admin)
        return {"conversation": released.to_json()}

    @router.post("/api/conversations/{conversation_id}/resolve")
    async def resolve(conversation_id: int, me: Me) -> dict[str, Any]:
        with desk_errors():
            resolved = await desk.resolve(conversation_id, me.ref, force=me.is_admin)
        return {"conversation": resolved.to_json()}

    @router.post("/api/conversations/{conversation_id}/notes",
                 status_code=status.HTTP_201_CREATED)
    async def note(conversation_id: int, body: TextIn, me: Me) -> dict[str, Any]:
        with desk_errors(status.HTTP_422_UNPROCESSABLE_CONTENT):
            added = await desk.add_note(conversation_id, me.ref, body.text)
        return {"note": added.to_json()}

    @router.post("/api/conversations/{conversation_id}/actions")
    async def action(conversation_id: int, body: ActionIn, me: Me) -> dict[str, Any]:
        request = ActionRequest(body.action, body.order, body.date, body.slot, body.method,
                                body.reason)
        try:
            done = await console.actions.run(conversation_id, me, request)
        except NotFound as missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
        except ActionRefused as refused:
            raise HTTPException(refused.status, str(refused)) from None
        shown = await console.actions.orders_json([done.order])
        return {"result": done.result, "order": shown[0]}

    @router.get("/api/attachments/{attachment_id}")
    async def attachment(attachment_id: str, me: Me) -> FileResponse:
        """A customer's photo or PDF that a message carries (docs/channels/attachments.md)."""
        files = console.attachments
        found = await files.for_operator(attachment_id) if files is not None else None
        if found is None:
            raise HTTPException(404, "no such attachment")
        ref = found.ref
        return download(found.path, ref.content_type, ref.name, inline=ref.is_image)

    @router.get("/api/conversations/{conversation_id}/export")
    async def export(conversation_id: int, me: Me) -> PlainTextResponse:
        await item(conversation_id)
        lines = await desk.transcript(conversation_id, limit=EXPORT_LIMIT)
        return PlainTextResponse(transcript_text(lines), headers={
            "Content-Disposition": f'attachment; filename="conversation-{conversation_id}.txt"',
            "X-Content-Type-Options": "nosniff",
        })

    @router.get("/api/orders/{number}/slots")
    async def slots(number: Annotated[str, PathParam(max_length=64)], me: Me) -> dict[str, Any]:
        async with console.database.transaction() as session:
            order = await console.orders.get_order(session, number.strip().upper())
        if order is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {number.upper()}")
        return {"slots": console.actions.slots()}

    # Canned replies

    @router.get("/api/canned")
    async def canned(me: Me, language: Language | None = None) -> dict[str, Any]:
        return {"replies": [r.to_json() for r in await console.canned.list(language)]}

    @router.post("/api/canned", status_code=status.HTTP_201_CREATED)
    async def add_canned(body: CannedIn, me: Admin) -> dict[str, Any]:
        try:
            added = await console.canned.add(body.language, body.title, body.text)
        except CannedError as refused:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(refused)) from None
        return {"reply": added.to_json()}

    @router.delete("/api/canned/{reply_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_canned(reply_id: int, me: Admin) -> Response:
        if not await console.canned.delete(reply_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no canned reply {reply_id}")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    # Operator accounts (admin)

    @router.get("/api/operators")
    async def operators(me: Admin) -> dict[str, Any]:
        return {"operators": [account.to_json() for account in await accounts.all()]}

    @router.post("/api/operators", status_code=status.HTTP_201_CREATED)
    async def add_operator(body: OperatorIn, me: Admin) -> dict[str, Any]:
        try:
            created = await accounts.create(body.username, body.display_name, body.password,
                                            body.role)
        except DuplicateUsername as duplicate:
            raise HTTPException(status.HTTP_409_CONFLICT, str(duplicate)) from None
        except AccountError as refused:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(refused)) from None
        return {"operator": created.to_json()}

    @router.patch("/api/operators/{operator_id}")
    async def change_operator(operator_id: int, body: OperatorChange, me: Admin
                              ) -> dict[str, Any]:
        if operator_id == me.id and body.active is False:
            raise HTTPException(status.HTTP_409_CONFLICT, "you cannot deactivate yourself")
        if operator_id == me.id and body.role == "operator":
            raise HTTPException(status.HTTP_409_CONFLICT,
                                "you cannot take away your own admin role")
        try:
            changed = await accounts.update(
                operator_id, active=body.active, role=body.role,
                display_name=body.display_name, password=body.password)
        except UnknownOperator as missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
        except AccountError as refused:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(refused)) from None
        return {"operator": changed.to_json()}

    # Data protection (admin): README "Data protection" says what is erased and what is kept

    @router.post("/api/customers/{customer_id}/erase")
    async def erase(customer_id: int, me: Admin) -> dict[str, Any]:
        async with console.units() as uow:
            erased = await erase_customer(uow, customer_id)
            await uow.commit()
        if erased is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such customer")
        return {"customer_id": customer_id, "already_erased": erased.already_erased,
                "conversations": erased.conversations, "identities": erased.identities,
                "orders_kept": erased.orders}

    add_analytics_routes(router, console, Admin)  # the dashboard's figures and exports (admin)
    add_task_routes(router, console, Depends(operator))  # operator tasks and their orders
    add_delivery_routes(router, console, Admin)  # the webhooks to the shop (admin)
    add_label_routes(router, console, Depends(operator), Admin)  # operators teach the bot
    add_desk_routes(router, console, Depends(operator))  # search, tags, transfer
    return router
