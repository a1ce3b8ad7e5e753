"""Rate limits of the public endpoints (settings [limits]; README "Rate limits").

- web chat sessions per client IP address (POST /webchat/session): 429 with Retry-After;
- platform webhooks per IP address (POST /telegram/webhook, /slack/events): 429 with
  Retry-After, and the platform sends again later;
- customer messages per conversation, in every channel: the web chat answers an error frame;
  a Telegram chat, Slack user or email thread past the limit has its messages recorded in the
  inbox but not answered (dialog/inbox.py).
A limit of 0 is off. Sessions and webhook calls are counted by the shared limiter (Redis with
several processes); messages per conversation are counted by each process in memory, so that a
customer's message costs no Redis round trip: a web chat conversation lives on one process,
and a flood on another channel spread over N processes meets N times the limit at most.
"""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request, status
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond

from config import LimitsSettings
from coordination.limits import RateLimiter
from dialog.messages import ConversationKey

log = logging.getLogger(__name__)


class PublicLimits:
    def __init__(self, settings: LimitsSettings, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self._in_process = RateLimiter()  # memory only: the message limit
        self._sessions = _per(RateLimitItemPerMinute, settings.webchat_sessions_per_ip_per_minute)
        self._webhooks = _per(RateLimitItemPerSecond, settings.webhook_requests_per_ip_per_second)
        self._messages = _per(RateLimitItemPerMinute,
                              settings.messages_per_conversation_per_minute)

    async def session_opened(self, request: Request) -> None:
        """Count a new web chat session of the client's address; 429 past the limit."""
        wait = await self._limiter.hit(self._sessions, "session", _address(request))
        if wait is not None:
            log.warning("web chat sessions refused for an address over the limit")
            raise _too_many(wait)

    async def webhook_called(self, request: Request) -> None:
        """A FastAPI dependency of the platform webhooks: 429 past the limit per address."""
        wait = await self._limiter.hit(self._webhooks, "webhook", _address(request))
        if wait is not None:
            log.warning("%s refused: an address over the webhook limit", request.url.path)
            raise _too_many(wait)

    async def message_admitted(self, key: ConversationKey) -> bool:
        """Count a customer message in the conversation; False past the limit."""
        wait = await self._in_process.hit(self._messages, "message", key.channel, key.chat_id)
        return wait is None


def _per(item: type[RateLimitItem], amount: int) -> RateLimitItem | None:
    return item(amount) if amount > 0 else None


def _address(request: Request) -> str:
    # Behind a reverse proxy uvicorn puts the client's address here from X-Forwarded-For,
    # for the proxies it trusts (FORWARDED_ALLOW_IPS; 127.0.0.1 by default).
    return request.client.host if request.client else "unknown"


def _too_many(wait: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many requests: try again in {wait} seconds",
        headers={"Retry-After": str(wait)},
    )
