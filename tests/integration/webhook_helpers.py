"""A bot that sends webhooks to the shop double, and what the tests ask of its rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from shop_api.tables import WebhookDelivery
from tests.conftest import BotFactory
from tests.doubles.webhook_shop import SECRET, WAIT_SECONDS, WebhookShop

FAST_BACKOFF = 0.05  # seconds: retries in tests come at once, in the same order


async def webhook_bot(make_bot: BotFactory, shop: WebhookShop, database_url: str | None = None,
                      **sections: dict[str, Any]) -> Orderbot:
    webhooks = {"url": shop.url, "secret": SECRET, "timeout_seconds": 1,
                **sections.pop("webhooks", {})}
    bot = await make_bot(database_url, webhooks=webhooks, **sections)
    assert bot.webhooks is not None
    bot.webhooks.first_backoff = FAST_BACKOFF
    bot.webhooks.max_backoff = FAST_BACKOFF * 4
    return bot


async def rows(bot: Orderbot) -> list[WebhookDelivery]:
    async with bot.database.transaction() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


@asynccontextmanager
async def admin_console(bot: Orderbot, username: str = "admin",
                        admin: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """A logged-in console client (an admin unless told), talking to the app in process."""
    await bot.console.accounts.create(username, username.title(), f"{username}-password-1",
                                      "admin" if admin else "operator")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://127.0.0.1") as client:
        answer = await client.post("/console/api/login", json={
            "username": username, "password": f"{username}-password-1"})
        assert answer.status_code == 200, answer.text
        yield client


async def record(bot: Orderbot, type: str, number: str | None = None,
                 **data: Any) -> None:
    """A change as the order core records it, in a transaction of its own."""
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, number) if number else None
        await bot.orders.changes.record(session, type, order=order, data=data)


async def until(check: Callable[[], Awaitable[bool]], seconds: float = WAIT_SECONDS) -> None:
    """Wait for a condition on the database, looking again every few milliseconds."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 (the database offers no event)
            await asyncio.sleep(0.02)


async def settled(bot: Orderbot) -> bool:
    """Every row delivered or failed."""
    return all(row.delivered_at or row.failed_at for row in await rows(bot))
