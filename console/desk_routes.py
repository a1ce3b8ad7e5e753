"""The desk's endpoints beyond the contract's core (docs/console.md, "Finding and sorting
conversations"): search, tags, transfer to a colleague, and who those colleagues are."""

# No `from __future__ import annotations`: FastAPI reads the annotations at run time.
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from fastapi import Query as QueryParam
from pydantic import BaseModel, ConfigDict, Field

from console.accounts import Account
from dialog.desk import MAX_SEARCH_CHARS, PAGE_LIMIT
from dialog.desk_values import DeskError, NotFound, NotHeld
from dialog.tags import MAX_TAG_CHARS
from storage.clock import utcnow

if TYPE_CHECKING:
    from console.app import OperatorConsole


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS * 2)]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operator_id: Annotated[int, Field(ge=1)]


def add_desk_routes(router: APIRouter, console: "OperatorConsole", operator: Any) -> None:
    """Register the endpoints on the console's router; `operator` is its login dependency."""
    Me = Annotated[Account, operator]
    desk, accounts = console.desk, console.accounts

    def refused(error: DeskError, code: int = status.HTTP_422_UNPROCESSABLE_CONTENT
                ) -> HTTPException:
        if isinstance(error, NotFound):
            return HTTPException(status.HTTP_404_NOT_FOUND, str(error))
        return HTTPException(code, str(error))

    @router.get("/api/search")
    async def search(
        me: Me, q: Annotated[str, QueryParam(max_length=MAX_SEARCH_CHARS * 2)] = "",
        offset: Annotated[int, QueryParam(ge=0, le=100_000)] = 0,
        limit: Annotated[int, QueryParam(ge=1, le=PAGE_LIMIT)] = 20,
    ) -> dict[str, Any]:
        try:
            found, more = await desk.search(q, offset, limit)
        except DeskError as error:
            raise refused(error) from None
        now = utcnow()
        return {"results": [hit.to_json(now) for hit in found], "more": more}

    @router.post("/api/conversations/{conversation_id}/tags")
    async def add_tag(conversation_id: int, body: TagIn, me: Me) -> dict[str, Any]:
        try:
            tagged = await desk.tag(conversation_id, body.tag)
        except DeskError as error:
            raise refused(error) from None
        return {"conversation": tagged.to_json()}

    @router.delete("/api/conversations/{conversation_id}/tags/{tag}")
    async def remove_tag(
        conversation_id: int, tag: Annotated[str, PathParam(max_length=MAX_TAG_CHARS * 2)],
        me: Me,
    ) -> dict[str, Any]:
        try:
            untagged = await desk.untag(conversation_id, tag)
        except DeskError as error:
            raise refused(error) from None
        return {"conversation": untagged.to_json()}

    @router.get("/api/colleagues")
    async def colleagues(me: Me) -> dict[str, Any]:
        """The active operators one may transfer a conversation to (oneself excluded)."""
        return {"operators": [
            {"id": account.id, "display_name": account.display_name}
            for account in await accounts.all() if account.active and account.id != me.id]}

    @router.post("/api/conversations/{conversation_id}/transfer")
    async def transfer(conversation_id: int, body: TransferIn, me: Me) -> dict[str, Any]:
        taker = next((a for a in await accounts.all()
                      if a.id == body.operator_id and a.active), None)
        if taker is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"no active operator {body.operator_id}")
        try:
            moved = await desk.transfer(conversation_id, me.ref, taker.ref, force=me.is_admin)
        except NotHeld as error:
            raise refused(error, status.HTTP_409_CONFLICT) from None
        except DeskError as error:
            raise refused(error) from None
        return {"conversation": moved.to_json()}
