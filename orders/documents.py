"""Documents the bot hands to customers (PDFs): stored with an unguessable token, served at
GET /documents/{token}. Holding the link is what allows reading it, like a shared-file link,
so the token is long and random and never derived from the order number."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from orders.tables import Document

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
