"""What several security tests share: a bot answering email through the relay double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from composition.bootstrap import Orderbot
from tests.conftest import BotFactory
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble
from tests.servers import free_port

SHOP = "orders@shop.example"


@pytest.fixture
async def mail_bot(make_bot: BotFactory, relay: SmtpRelayDouble) -> AsyncIterator[Orderbot]:
    bot = await make_bot(email={"enabled": True, "listen_port": free_port(), "address": SHOP,
                                "relay_host": "127.0.0.1", "relay_port": relay.port,
                                "authserv_id": MTA})
    yield bot
    await bot.inbox.drain()
    await bot.outbox.drain()
