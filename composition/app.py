"""The FastAPI app over a bot's parts: routers, middleware, /health, static pages and the
lifespan that starts and stops the parts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from redis.exceptions import RedisError
from sqlalchemy import text

from adapters.payments.page import make_payment_page_router
from channels.webchat.attachments import ENVELOPE_BYTES, UPLOAD_PATH
from channels.webchat.channel import STATIC as WEBCHAT_STATIC
from composition.bootstrap import Orderbot
from coordination.fallback import FallbackPubSub
from http_guards.body_limit import BodyLimit
from http_guards.conditional_get import ConditionalGet
from http_guards.security_headers import SecurityHeaders, page_policy
from http_guards.unavailable import add_unavailable_handler
from http_guards.validation_errors import add_validation_handler
from monitoring.endpoint import make_metrics_router
from shop_api.demo_page import make_demo_router
from shop_api.documents import make_documents_router
from shop_api.orders import make_router as make_shop_router
from shop_api.webhooks.deliveries import oldest_undelivered
from storage.clock import utcnow

GZIP_MINIMUM_BYTES = 1024  # smaller answers (most JSON) gain too little to be worth it
HEALTH_REDIS_TIMEOUT = 1.0  # GET /health waits this long for Redis's PONG
# The platforms' webhooks are limited per address here; the web chat counts its sessions and
# messages itself.
LIMITED_WEBHOOKS = ("telegram", "slack")


def make_app(bot: Orderbot) -> FastAPI:
    settings = bot.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await bot.start()
        try:
            yield
        finally:
            await bot.stop()

    app = FastAPI(title="orderbot", lifespan=lifespan)
    add_unavailable_handler(app)  # database down or locked: 503, nothing kept
    add_validation_handler(app)  # a 422 names the bad fields, echoes little
    app.add_api_route("/health", _health_of(bot), methods=["GET"], tags=["operations"])
    # The channels' routes first: a request is matched against the routes in order, and the
    # platforms' webhooks and the web chat carry nearly all requests (the Telegram webhook
    # behind the shop API and the console cost ~140 µs of route matching per update).
    for channel in bot.channels:
        router = channel.router()
        if router is not None:
            limited = channel.name in LIMITED_WEBHOOKS
            app.include_router(
                router, dependencies=[Depends(bot.limits.webhook_called)] if limited else None)
    app.include_router(make_documents_router(bot.database))
    if not settings.adapters.payments_url:  # local payments: the shop's own payment page
        app.include_router(make_payment_page_router(
            bot.database, bot.orders, bot.order_news, shop_name=settings.shop.name,
            base_url=settings.base_url, demo=settings.demo.enabled,
        ))
    app.include_router(make_shop_router(
        bot.database, bot.orders, bot.order_news, settings.shop.api_keys, _links(bot),
        stock_notifier=bot.stock_news,
        idempotency_hours=settings.shop.idempotency_hours,
    ))
    app.include_router(bot.console.router())
    if settings.metrics.enabled:
        app.include_router(make_metrics_router(bot.metrics, settings.metrics))
    if settings.webchat.enabled:
        # The widget on a shop's site opens its session cross-origin. Every origin may read
        # the answer, so that a refused one (403 from the session endpoint, which checks the
        # origin itself) shows "unavailable" instead of a network error. No credentials, and
        # no Authorization header: the shop API stays out of reach of browsers.
        # A customer's own attachments are read with their chat token in X-Chat-Token.
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "X-Chat-Token"])
    if settings.demo.enabled:
        app.include_router(
            make_demo_router(bot.database, bot.orders, WEBCHAT_STATIC / "demo.html"))
    # Static files and pages compressed when the browser asks (widget.js 32 KB -> ~9 KB), and a
    # repeat load answered 304 by its ETag (outside the compression: the ETag of what is sent).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(ConditionalGet)
    # Outermost last: the body limit sees a request before anything else reads it.
    app.add_middleware(SecurityHeaders, pages={
        "/": page_policy(WEBCHAT_STATIC / "demo.html"),
        "/webchat/chat": page_policy(WEBCHAT_STATIC / "chat.html"),
    })
    app.add_middleware(BodyLimit, max_bytes=settings.http.max_body_bytes,
                       refused=bot.metrics.refused, paths={
                           UPLOAD_PATH: settings.attachments.max_bytes + ENVELOPE_BYTES})
    return app


def _links(bot: Orderbot) -> Callable[[str], dict[str, str | None]]:
    def links(token: str) -> dict[str, str | None]:
        """The order's chat links for a newly issued link token (orders/links.py)."""
        base = bot.settings.base_url
        telegram = bot.telegram
        return {
            "webchat": (
                f"{base}/webchat/chat?link={token}" if bot.settings.webchat.enabled else None
            ),
            "telegram": (
                f"https://t.me/{telegram.username}?start={token}"
                if telegram is not None and telegram.username
                else None  # off, or Telegram not reached yet (its username comes from getMe)
            ),
        }

    return links


def _health_of(bot: Orderbot) -> Callable[[], Awaitable[dict[str, Any]]]:
    # named as before the split: the OpenAPI operation id comes from the name
    async def _health() -> dict[str, Any]:
        """For a load balancer or a monitor: 200 while this process can serve (the database
        answers; 503 when it does not); Redis "degraded" still serves, in this process only.
        The oldest webhook not yet delivered (nor failed) shows a shop that stopped taking
        them."""
        async with bot.database.transaction() as session:
            await session.execute(text("SELECT 1"))
            oldest = (await oldest_undelivered(session, utcnow())
                      if bot.webhooks is not None else None)
        redis = "off"
        client = bot.coordination.redis
        if client is not None:  # asked now: an idle process knows no more than that
            try:
                async with asyncio.timeout(HEALTH_REDIS_TIMEOUT):
                    await client.ping()
                # A PONG is not enough: "ok" once this process's stream reader reads again
                # and has caught up on what other processes published meanwhile.
                pubsub = bot.coordination.pubsub
                caught_up = not isinstance(pubsub, FallbackPubSub) or pubsub.caught_up
                redis = "ok" if caught_up else "degraded"
            except (TimeoutError, OSError, RedisError):
                redis = "degraded"
        return {"status": "ok", "database": "ok", "redis": redis, "process": bot.process_name,
                "webhook_oldest_undelivered_id": oldest.id if oldest else None,
                "webhook_oldest_undelivered_seconds": oldest.age_seconds if oldest else None}

    return _health

