"""The documents the shop's customers download by the link the bot gave them (return labels,
invoices): a PDF by its unguessable token, never cached, never indexed."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select

from orders.documents import DOCUMENTS_PATH
from orders.tables import Document
from storage.database import Database


def make_documents_router(database: Database) -> APIRouter:
    router = APIRouter(prefix=DOCUMENTS_PATH, tags=["documents"])

    @router.get("/{token}", response_class=Response)
    async def get_document(token: str) -> Response:
        async with database.transaction() as session:
            found = (await session.execute(
                select(Document.filename, Document.content).where(Document.token == token)
            )).first()
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such document")
        filename, content = found
        return Response(
            content, media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{filename}"',
                     "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"},
        )

    return router
