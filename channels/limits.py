"""Rate limits of the public endpoints (settings [limits]; README "Rate limits").

- web chat sessions per client IP address (POST /webchat/session): 429 with Retry-After;
- platform webhooks per IP address (POST /telegram/webhook, /slack/events): 429 with
  Retry-After, and the platform sends again later;
- customer messages per conversation, in every channel: the web chat answers an error frame;
  a Telegram chat, Slack user or email thread past the limit has its messages recorded in the
  inbox but not answered (dialog/inbox.py);
- new mail threads from senders whose From is not authenticated, per From address, per its
  domain and in all: past a limit the mail is accepted and not answered (a forger names any
  From, and every answer would go to that address, from the shop's).
A limit of 0 is off. Sessions and webhook calls are counted by the shared limiter (Redis with
several processes); messages per conversation are counted by each process in memory, so that a
customer's message costs no Redis round trip: a web chat conversation lives on one process,
and a flood on another channel spread over N processes meets N times the limit at most.
"""

from __future__ import annotations

import hashlib
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
        self._mail_threads = [
            (_per(RateLimitItemPerMinute, amount), scope) for amount, scope in (
                (settings.email_unverified_threads_per_address_per_minute, "address"),
                (settings.email_unverified_threads_per_domain_per_minute, "domain"),
                (settings.email_unverified_threads_per_minute, "all"),
            )
        ]

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


    async def unverified_mail_thread_admitted(self, address: str) -> bool:
        """Count a new mail thread of an unauthenticated sender; False past a limit (then it
        counts against none)."""
        domain = address.rpartition("@")[2]
        keys = {"address": _hashed(address), "domain": _hashed(domain), "all": "all"}
        limits = [(limit, ("mail-thread", scope, keys[scope]))
                  for limit, scope in self._mail_threads if limit is not None]
        for limit, key in limits:
            if await self._limiter.check(limit, *key) is not None:
                return False
        for limit, key in limits:
            await self._limiter.hit(limit, *key)
        return True


def _hashed(value: str) -> str:
    """A counter's key without the address in it (Redis keys are no place for them)."""
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:24]


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
