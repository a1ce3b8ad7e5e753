"""The real Chromium through Playwright: one browser per session, a fresh page per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    # No test may reach the internet: every host but the local test servers fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
    "--disable-gpu",
    "--disable-quic",
    "--no-sandbox",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh context (no storage shared between tests) with an English-speaking browser."""
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    yield page
    await context.close()


PageFactory = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[PageFactory]:
    """Pages in fresh contexts of a given locale and viewport, e.g. a Polish customer's phone:
    `await new_page(locale="pl-PL", viewport={"width": 390, "height": 844})`."""
    contexts: list[BrowserContext] = []

    async def make(locale: str = "en-US", **options: Any) -> Page:
        context = await browser.new_context(locale=locale, **options)
        contexts.append(context)
        return await context.new_page()

    yield make
    for context in contexts:
        await context.close()
