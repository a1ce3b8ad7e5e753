"""The same platform message delivered twice, also at the same moment to two bot processes
that share one PostgreSQL and one Redis: one reply, one state change.

Replays to one process are tested per channel (tests/channels/test_telegram.py
::test_the_same_update_twice_is_answered_once, test_slack.py
::test_concurrent_duplicates_are_answered_once, test_email.py
::test_a_mail_seen_twice_is_answered_once, tests/integration/test_inbox.py); here the
copies race across processes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiosmtplib
import httpx
import pytest
from sqlalchemy import func, select

from composition.bootstrap import Orderbot
from dialog.tables import Conversation, Handoff, InboxRow, TranscriptEntry
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles import slack_api as slack
from tests.doubles.slack_api import SlackApiDouble
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble, customer_mail
from tests.doubles.telegram_api import WEBHOOK_SECRET, TelegramApiDouble, text_update
from tests.servers import free_port

SHOP = "orders@shop.example"
OLIVIA_MAIL = "olivia.brown@example.com"


@dataclass
class Pair:
    """Two bot processes' worth of parts on one PostgreSQL and one Redis, both served."""

    servers: tuple[LiveServer, LiveServer]

    @property
    def bots(self) -> tuple[Orderbot, Orderbot]:
        return self.servers[0].bot, self.servers[1].bot

    async def settle(self) -> None:
        for bot in self.bots:
            await bot.inbox.drain()
        for bot in self.bots:
            await bot.outbox.drain()

    async def count(self, table: type, *where: object) -> int:
        async with self.bots[0].database.transaction() as session:
            query = select(func.count()).select_from(table)
            if where:
                query = query.where(*where)
            return int(await session.scalar(query) or 0)

    async def transcript(self, channel: str) -> list[str]:
        async with self.bots[0].database.transaction() as session:
            rows = await session.scalars(
                select(TranscriptEntry.sender)
                .join(Conversation, Conversation.id == TranscriptEntry.conversation_id)
                .where(Conversation.channel == channel)
                .order_by(TranscriptEntry.id)
            )
            return list(rows)




@pytest.fixture
async def pair(
    make_bot: BotFactory, postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble,
    slack_api: SlackApiDouble, relay: SmtpRelayDouble,
) -> AsyncIterator[Pair]:
    bots = []
    for _ in range(2):
        bots.append(await make_bot(
            postgres_url, http={"port": free_port()}, redis={"url": redis_url},
            demo={"enabled": False}, telegram=telegram_api.bot_settings(),
            slack=slack_api.bot_settings(),
            email={"enabled": True, "listen_port": free_port(), "address": SHOP,
                   "relay_host": "127.0.0.1", "relay_port": relay.port, "authserv_id": MTA},
        ))
    servers = (await serve(bots[0]), await serve(bots[1]))
    yield Pair(servers)
    for server in servers:
        await server.stop()


async def post_to_both(pair: Pair, path: str, body: str, headers: dict[str, str]) -> list[int]:
    async with httpx.AsyncClient() as client:
        responses = await asyncio.gather(*(
            client.post(f"{server.url}{path}", content=body, headers=headers)
            for server in pair.servers
        ))
    return [response.status_code for response in responses]


async def test_a_telegram_update_sent_to_two_processes_at_once_is_answered_once(
    pair: Pair, telegram_api: TelegramApiDouble
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
               "Content-Type": "application/json"}
    hello = json.dumps(text_update(telegram_api.next_update_id(), "olivia", "hello"))
    person = json.dumps(text_update(telegram_api.next_update_id(), "olivia",
                                    "I want to talk to a person"))
    for update in (hello, person):
        assert await post_to_both(pair, "/telegram/webhook", update, headers) == [200, 200]
        await pair.settle()
        # ...and once more to each, as Telegram retries a webhook it thinks was lost
        assert await post_to_both(pair, "/telegram/webhook", update, headers) == [200, 200]
        await pair.settle()
    assert await pair.count(InboxRow) == 2
    senders = await pair.transcript("telegram")
    assert senders.count("customer") == 2
    assert len(telegram_api.sent()) == senders.count("bot")  # every reply sent exactly once
    assert telegram_api.sent()[0]["text"].startswith("Hello!")
    assert await pair.count(Handoff) == 1  # the escalation happened once


async def test_a_slack_event_sent_to_two_processes_at_once_is_answered_once(
    pair: Pair, slack_api: SlackApiDouble
) -> None:
    body = json.dumps(slack_api_direct("hello"))
    headers = slack_api_headers(body)
    assert await post_to_both(pair, "/slack/events", body, headers) == [200, 200]
    retry = {**slack_api_headers(body), "X-Slack-Retry-Num": "1",
             "X-Slack-Retry-Reason": "http_timeout"}
    assert await post_to_both(pair, "/slack/events", body, retry) == [200, 200]
    await pair.settle()
    assert await pair.count(InboxRow) == 1
    assert await pair.transcript("slack") == ["customer", "bot"]
    posted = slack_api.posted("D_OLIVIA")
    assert len(posted) == 1 and "Hello!" in posted[0]["text"]


def slack_api_direct(text: str) -> dict[str, object]:
    return slack.direct_message("U_OLIVIA", "D_OLIVIA", text, event_id="EvTWICE0001")


def slack_api_headers(body: str) -> dict[str, str]:
    return slack.signed_headers(slack.SIGNING_SECRET, body)


async def test_a_mail_delivered_to_two_processes_at_once_is_answered_once(
    pair: Pair, relay: SmtpRelayDouble
) -> None:
    mail = customer_mail(OLIVIA_MAIL, "hello", to=SHOP, message_id="<twice-1@example.com>")
    ports = [bot.settings.email.listen_port for bot in pair.bots]
    await asyncio.gather(*(aiosmtplib.send(mail, hostname="127.0.0.1", port=port)
                           for port in ports))
    await aiosmtplib.send(mail, hostname="127.0.0.1", port=ports[0])  # and a late retry
    await pair.settle()
    assert await pair.count(InboxRow) == 1
    assert await pair.transcript("email") == ["customer", "bot"]
    assert len(relay.to(OLIVIA_MAIL)) == 1
