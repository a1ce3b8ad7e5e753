"""Platform faults from the doubles: replies are retried with backoff (honouring the
platform's own wait), stay in order per conversation, are never dropped silently, and a
permanent failure hands the conversation to an operator (handoff reason delivery_failed).

One fault at a time is tested per channel in tests/channels (test_telegram.py
::test_a_rate_limited_reply_is_delivered_once_after_the_wait, ::test_server_errors_are_retried
_until_delivered, ::test_a_blocked_bot_gives_up_and_hands_the_chat_to_a_person; test_slack.py
::test_a_reply_slack_refuses_for_a_while_is_delivered_once_and_in_order; test_email.py
::test_a_relay_that_says_try_later_gets_the_mail_again) and over a scripted channel in
tests/integration/test_outbox.py. Here the faults come in series, over several replies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiosmtplib
import httpx
import pytest
from sqlalchemy import select

from channels.telegram import TelegramChannel
from composition.bootstrap import Orderbot
from dialog.messages import Delivery, DeliveryFailed
from dialog.outbox import Deliverer
from dialog.tables import Conversation, Handoff, OutboxRow
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles import slack_api as slack
from tests.doubles.slack_api import SlackApiDouble
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble, customer_mail
from tests.doubles.telegram_api import USERS, WEBHOOK_SECRET, TelegramApiDouble, text_update
from tests.servers import free_port

OLIVIA = USERS["olivia"]["id"]
TEXTS = ("hello", "thanks", "bye")
ANSWERS = ("Hello!", "You're", "Goodbye")  # how the bot's answers to TEXTS begin


def quick_retries(bot: Orderbot, attempts: int = 8) -> Orderbot:
    """The production policy (doubling from 1 s up to 60 s), only faster; a platform's own
    wait (retry_after, Retry-After) is still honoured as given."""
    bot.outbox.first_backoff, bot.outbox.max_backoff = 0.01, 0.05
    bot.outbox.max_attempts = attempts
    return bot


async def settle(bot: Orderbot) -> None:
    await bot.inbox.drain()
    await bot.outbox.drain()


async def escalation(bot: Orderbot, channel: str) -> tuple[str, str | None, list[str]]:
    """The conversation's status and reason, and the reasons of its handoffs."""
    async with bot.database.transaction() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.channel == channel))
        assert conversation is not None
        reasons = await session.scalars(
            select(Handoff.reason).where(Handoff.conversation_id == conversation.id))
        return conversation.status, conversation.escalation_reason, list(reasons)


async def outbox_errors(bot: Orderbot, channel: str) -> list[str | None]:
    async with bot.database.transaction() as session:
        return list(await session.scalars(
            select(OutboxRow.last_error).where(OutboxRow.channel == channel)
            .order_by(OutboxRow.id)))


# Telegram


@pytest.fixture
async def telegram_bot(
    make_bot: BotFactory, telegram_api: TelegramApiDouble
) -> AsyncIterator[LiveServer]:
    bot = await make_bot(http={"port": free_port()}, telegram=telegram_api.bot_settings(),
                         demo={"enabled": False})
    channel = next(c for c in bot.channels if isinstance(c, TelegramChannel))
    channel.bot.session.timeout = 0.3  # seconds; aiogram's default is 60
    server = await serve(quick_retries(bot))
    yield server
    await server.stop()


async def telegram_says(server: LiveServer, double: TelegramApiDouble, *texts: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for text in texts:
            response = await client.post(
                "/telegram/webhook",
                json=text_update(double.next_update_id(), "olivia", text),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
            assert response.status_code == 200


def telegram_replies(double: TelegramApiDouble) -> list[str]:
    return [message["text"] for message in double.sent(OLIVIA)]


def begin(replies: list[str]) -> list[str]:
    return [next(a for a in ANSWERS if reply.startswith(a)) for reply in replies]


async def test_telegram_429_5xx_and_timeouts_are_retried_and_replies_keep_their_order(
    telegram_bot: LiveServer, telegram_api: TelegramApiDouble
) -> None:
    telegram_api.fail_next(1, "429", retry_after=1, method="sendMessage")
    telegram_api.fail_next(2, "500", method="sendMessage")
    telegram_api.delay_next(1, 5.0, method="sendMessage")  # past the bot's 0.3 s timeout
    await telegram_says(telegram_bot, telegram_api, *TEXTS)
    await settle(telegram_bot.bot)
    assert begin(telegram_replies(telegram_api)) == list(ANSWERS)  # each once, in order
    statuses = [c.status for c in telegram_api.calls if c.method == "sendMessage"]
    held = [status for status in statuses if status in (0, 502)]  # timed out: 502, or held
    assert len(held) == 1
    assert sorted(set(statuses) - {0, 502}) == [200, 429, 500]
    assert (statuses.count(200), statuses.count(429), statuses.count(500)) == (3, 1, 2)
    assert await outbox_errors(telegram_bot.bot, "telegram") == [None] * 3


class FailureSpy:
    """The bot's channel, with a signal when a delivery fails (instead of sleeping)."""

    def __init__(self, channel: Deliverer) -> None:
        self.channel = channel
        self.failed = asyncio.Event()

    async def send(self, delivery: Delivery) -> None:
        try:
            await self.channel.send(delivery)
        except DeliveryFailed:
            self.failed.set()
            raise


async def test_a_refused_connection_is_retried_until_telegram_is_back(
    telegram_bot: LiveServer, telegram_api: TelegramApiDouble
) -> None:
    bot = quick_retries(telegram_bot.bot, attempts=1000)  # retried as long as it is down
    channel = next(c for c in bot.channels if isinstance(c, TelegramChannel))
    spy = FailureSpy(channel)
    bot.outbox.add_channel("telegram", spy)
    port = int(telegram_api.url.rsplit(":", 1)[1])
    await telegram_api.stop()
    await telegram_says(telegram_bot, telegram_api, "hello")  # the webhook still records it
    await bot.inbox.drain()
    await asyncio.wait_for(spy.failed.wait(), 10)  # connection refused, at least once
    await telegram_api.start(port)
    await telegram_api.wait_for("sendMessage", 1)
    await settle(bot)
    assert begin(telegram_replies(telegram_api)) == ["Hello!"]


async def test_failures_that_never_end_escalate_to_an_operator(
    telegram_bot: LiveServer, telegram_api: TelegramApiDouble
) -> None:
    bot = quick_retries(telegram_bot.bot, attempts=3)
    telegram_api.fail_next(3, "500", method="sendMessage")
    await telegram_says(telegram_bot, telegram_api, "hello")
    await settle(bot)
    assert telegram_replies(telegram_api) == []
    [error] = await outbox_errors(bot, "telegram")
    assert error is not None and "TelegramServerError" in error
    assert await escalation(bot, "telegram") == ("escalated", "delivery_failed",
                                                  ["delivery_failed"])


# Slack


@pytest.fixture
async def slack_bot(
    make_bot: BotFactory, slack_api: SlackApiDouble
) -> AsyncIterator[LiveServer]:
    bot = await make_bot(http={"port": free_port()}, slack=slack_api.bot_settings(),
                         demo={"enabled": False})
    server = await serve(quick_retries(bot))
    yield server
    await server.stop()


async def test_slack_429_retry_after_and_5xx_are_retried_in_order(
    slack_bot: LiveServer, slack_api: SlackApiDouble
) -> None:
    slack_api.fail_next(1, "429", retry_after=1, method="chat.postMessage")
    slack_api.fail_next(1, "500", method="chat.postMessage")
    async with httpx.AsyncClient(base_url=slack_bot.url) as client:
        for text in TEXTS:
            body = json.dumps(slack.direct_message("U_OLIVIA", "D_OLIVIA", text))
            response = await client.post("/slack/events", content=body,
                                         headers=slack.signed_headers(slack.SIGNING_SECRET, body))
            assert response.status_code == 200
    await settle(slack_bot.bot)
    assert begin([m["text"] for m in slack_api.posted("D_OLIVIA")]) == list(ANSWERS)
    statuses = [c.status for c in slack_api.calls if c.method == "chat.postMessage"]
    assert statuses[:2] == [429, 500] and statuses.count(200) == 3
    assert await outbox_errors(slack_bot.bot, "slack") == [None] * 3


# Email


async def test_a_relay_answering_4xx_then_5xx_retries_then_escalates(
    make_bot: BotFactory, relay: SmtpRelayDouble
) -> None:
    bot = quick_retries(await make_bot(
        demo={"enabled": False},
        email={"enabled": True, "listen_port": free_port(), "address": "orders@shop.example",
               "relay_host": "127.0.0.1", "relay_port": relay.port, "authserv_id": MTA}))
    relay.fail_next(1, 451, "RCPT")  # try later: retried
    relay.fail_next(1, 550, "DATA")  # refused for good: given up, a person told
    mail = customer_mail("olivia.brown@example.com", "hello", to="orders@shop.example")
    await aiosmtplib.send(mail, hostname="127.0.0.1", port=bot.settings.email.listen_port)
    await settle(bot)
    assert relay.refused == [("RCPT", 451), ("DATA", 550)] and relay.received == []
    [error] = await outbox_errors(bot, "email")
    assert error is not None and "550" in error
    assert await escalation(bot, "email") == ("escalated", "delivery_failed",
                                               ["delivery_failed"])
