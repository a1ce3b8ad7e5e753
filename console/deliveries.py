"""The webhook deliveries of the console API (admin only; docs/webhooks.md, Console):

    GET  /console/deliveries                     the page (console/static/deliveries.*)
    GET  /console/api/webhooks                   recent deliveries, newest first
                                                 (?status=pending|delivered|failed, type, order)
    POST /console/api/webhooks/{id}/resend       queue it again ("send again")

The rows live in shop_api/webhooks/; bot.py hands the console their view (WebhookDeliveries).
"""

# No `from __future__ import annotations`: FastAPI reads the annotations at run time.
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from fastapi import APIRouter, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from orders.changes import TYPES

if TYPE_CHECKING:
    from console.app import OperatorConsole

PAGE = Path(__file__).resolve().parent / "static" / "deliveries.html"
Status = Literal["pending", "delivered", "failed"]
EventType = Literal[TYPES]  # type: ignore[valid-type]
MAX_ID = 2**63 - 1


class Deliveries(Protocol):
    async def recent(self, status: Status | None = None, type: str | None = None,
                     order: str | None = None) -> list[dict[str, Any]]: ...

    async def resend(self, delivery_id: int, by: str) -> dict[str, Any] | None: ...


def add_delivery_routes(router: APIRouter, console: "OperatorConsole", admin: Any) -> None:
    """Register the endpoints on the console's router; `admin` is its admin dependency."""

    def deliveries() -> Deliveries:
        if console.deliveries is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "webhooks are not set up")
        return console.deliveries

    @router.get("/deliveries", include_in_schema=False)
    async def page() -> FileResponse:
        """The page; it asks the API for everything (and shows who may see it)."""
        return FileResponse(PAGE, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @router.get("/api/webhooks")
    async def recent(
        me: admin, state: Annotated[Status | None, Query(alias="status")] = None,
        type: EventType | None = None,
        order: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        return {"deliveries": await deliveries().recent(state, type, order)}

    @router.post("/api/webhooks/{delivery_id}/resend")
    async def resend(
        delivery_id: Annotated[int, PathParam(ge=1, le=MAX_ID)], me: admin,
    ) -> dict[str, Any]:
        queued = await deliveries().resend(delivery_id, f"console:{me.username}")
        if queued is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no webhook delivery {delivery_id}")
        return {"delivery": queued}
