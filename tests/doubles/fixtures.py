"""Fixtures of the platforms' doubles, each on 127.0.0.1, started and stopped per test, and of
the bot served with one channel talking to its double. A pytest plugin of tests/conftest.py:
every test may ask for them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles.slack_api import SlackApiDouble
from tests.doubles.smtp_relay import SmtpRelayDouble
from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.webhook_shop import WebhookShop
from tests.servers import free_port


@pytest.fixture
async def telegram_api() -> AsyncIterator[TelegramApiDouble]:
    double = TelegramApiDouble()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def slack_api() -> AsyncIterator[SlackApiDouble]:
    double = SlackApiDouble()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def relay() -> AsyncIterator[SmtpRelayDouble]:
    double = SmtpRelayDouble()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def telegram_server(
    make_bot: BotFactory, telegram_api: TelegramApiDouble
) -> AsyncIterator[LiveServer]:
    """The bot with Telegram on (webhook mode), served over HTTP."""
    bot = await make_bot(http={"port": free_port()}, telegram=telegram_api.bot_settings())
    live = await serve(bot)
    yield live
    await live.stop()


@pytest.fixture
async def slack_server(
    make_bot: BotFactory, slack_api: SlackApiDouble
) -> AsyncIterator[LiveServer]:
    """The bot with Slack on, served over HTTP."""
    bot = await make_bot(http={"port": free_port()}, slack=slack_api.bot_settings())
    live = await serve(bot)
    yield live
    await live.stop()


@pytest.fixture
async def webhook_shop() -> AsyncIterator[WebhookShop]:
    shop = WebhookShop()
    await shop.start()
    yield shop
    await shop.stop()
