"""Documents the bot hands to customers (PDFs): stored with an unguessable token, served at
GET /documents/{token}. Holding the link is what allows reading it, like a shared-file link,
so the token is long and random and never derived from the order number."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.tables import Document
from storage.database import Database

DOCUMENTS_PATH = "/documents"




async def save_document(
    session: AsyncSession, order_id: int, kind: str, filename: str, content: bytes
) -> str:
    """Store a PDF for an order; its token (the path under /documents/)."""
    token = secrets.token_urlsafe(24)
    session.add(Document(token=token, kind=kind, order_id=order_id, filename=filename,
                         content=content))
    await session.flush()
    return token


def document_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{DOCUMENTS_PATH}/{token}"


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
