"""The platforms' doubles, each on 127.0.0.1, started and stopped per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.slack_api import SlackApiDouble
from tests.doubles.smtp_relay import SmtpRelayDouble
from tests.doubles.telegram_api import TelegramApiDouble


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
