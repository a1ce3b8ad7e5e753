"""An order's chat links: capabilities that tie a chat to the order, kept only as hashes.

A link is issued when the shop is given one (POST /api/orders, GET /api/orders/{n}): each
time a new token, working until its own expiry, so that a link seen once long ago (a
forwarded email, an old screenshot) stops opening the order. The payment page has a token of
its own (Order.pay_token) that this module never accepts.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.tables import ChatLink

MAX_TOKEN_CHARS = 64  # longer than any token issued: refused before any query


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_chat_link(
    session: AsyncSession, order_id: int, lifetime: timedelta, now: datetime
) -> str:
    """A new chat link token for the order; the caller shows it once (only its hash stays)."""
    token = secrets.token_urlsafe(24)
    # The order's expired links go now: a shop that fetches the order often leaves no pile.
    await session.execute(
        delete(ChatLink).where(ChatLink.order_id == order_id, ChatLink.expires_at <= now)
    )
    session.add(ChatLink(token_hash=token_hash(token), order_id=order_id, created_at=now,
                         expires_at=now + lifetime))
    await session.flush()
    return token


async def order_id_of_chat_link(
    session: AsyncSession, token: str, now: datetime
) -> int | None:
    """The order a live chat link token opens; None for unknown and expired ones alike."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return await session.scalar(
        select(ChatLink.order_id).where(
            ChatLink.token_hash == token_hash(token), ChatLink.expires_at > now
        )
    )
