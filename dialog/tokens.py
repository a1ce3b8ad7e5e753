"""Web chat tokens: a secret bound to one conversation, with an idle and a maximum age."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from dialog.messages import ConversationKey
from dialog.state import TokenRecord
from dialog.unit_of_work import Repositories
from storage.clock import utcnow


class TokenStore:
    """Web chat tokens: each works while used at least every `idle` and for at most
    `max_age` after it was issued; a resumed token is replaced by a new one."""

    def __init__(
        self,
        idle: timedelta = timedelta(days=30),
        max_age: timedelta = timedelta(days=90),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._idle = idle
        self._max_age = max_age
        self._clock = clock

    async def issue(self, uow: Repositories, conversation_id: int) -> str:
        token = secrets.token_urlsafe(32)
        await uow.tokens.add(_hash(token), conversation_id, self._clock())
        return token

    async def resolve(self, uow: Repositories, token: str) -> ConversationKey | None:
        """The token's conversation, counting this as a use; None if unknown or expired."""
        found = await self._live(uow, token)
        if found is None:
            return None
        await uow.tokens.touch(_hash(token), self._clock())
        return found.key

    async def rotate(
        self, uow: Repositories, token: str
    ) -> tuple[str, ConversationKey] | None:
        """A new token for the live token's conversation; the old one stops working now."""
        found = await self._live(uow, token)
        if found is None:
            return None
        if not await uow.tokens.remove(_hash(token)):  # another request rotated it first
            return None
        return await self.issue(uow, found.conversation_id), found.key

    async def _live(self, uow: Repositories, token: str) -> TokenRecord | None:
        now = self._clock()
        found = await uow.tokens.find(_hash(token))
        if found is None:
            return None
        if found.created_at <= now - self._max_age or found.last_used_at <= now - self._idle:
            # Expired: forgotten now, so that the table keeps only live tokens it meets.
            await uow.tokens.remove(_hash(token))
            return None
        return found


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
