"""Secrets and personal data never reach the logs: a realistic session over the real server
(web chat with an email, a postcode and an order number; a verified web chat customer; the shop
API with its key; console logins, right and wrong; Telegram updates with the webhook secret)
runs with every logger at INFO (production) and the app's own loggers at DEBUG, then every
record is searched for the secrets and the customer's data."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from channels.webchat.identity import signed_identity
from tests.conftest import API_KEY, BotFactory, serve
from tests.doubles.telegram_api import TelegramApiDouble, text_update
from tests.e2e.test_webchat import chat
from tests.servers import free_port

APP_LOGGERS = ("orderbot", "bot", "config", "channels", "dialog", "orders", "console",
               "coordination", "scheduling", "adapters")
TELEGRAM_TOKEN = "987654:TG-token-5ecr3t-QWERTY"
WEBHOOK_SECRET = "wh-5ecr3t-ZXCVB"
IDENTITY_SECRET = "test-identity-secret"  # tests/conftest.py make_settings
PASSWORD = "Pa55word-never-logged-7431"
WRONG_PASSWORD = "Wr0ng-pa55word-never-logged-1190"
EMAIL = "olivia.brown@example.com"
POSTCODE = "EH1 1YZ"
VERIFIED_EMAIL = "verified.customer.7731@example.org"
VERIFIED_NAME = "Zbigniew Verified-Customer"
CHAT_TEXTS = ["Where is my order A-1015?", EMAIL, "I am at EH1 1YZ, call me maybe",
              "please talk to a real person about my parcel"]
TELEGRAM_TEXTS = ["where is my telegram parcel A-1015 please", POSTCODE]


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[_Keep]:
    root = logging.getLogger()
    keep, level = _Keep(), root.level
    levels = {name: logging.getLogger(name).level for name in APP_LOGGERS}
    root.addHandler(keep)
    root.setLevel(logging.INFO)
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield keep
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


@pytest.fixture
async def telegram_api() -> AsyncIterator[TelegramApiDouble]:
    double = TelegramApiDouble(token=TELEGRAM_TOKEN)
    await double.start()
    yield double
    await double.stop()


def _text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args)]
    try:
        parts.append(record.getMessage())
    except Exception:  # a bad format string is not our concern here
        pass
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


async def test_a_full_session_logs_no_secret_and_no_personal_data(
    make_bot: BotFactory, telegram_api: TelegramApiDouble, captured: _Keep
) -> None:
    bot = await make_bot(
        http={"port": free_port()},
        telegram=telegram_api.bot_settings(token=TELEGRAM_TOKEN, webhook_secret=WEBHOOK_SECRET),
    )
    server = await serve(bot)
    try:
        # Web chat: an anonymous customer proves an order with the email, then a person.
        async with chat(server, language="en") as conversation:
            for text in CHAT_TEXTS:
                await conversation.say(text)
        # A verified customer of the shop.
        signed = signed_identity(IDENTITY_SECRET, VERIFIED_EMAIL)
        async with chat(server, customer={"email": VERIFIED_EMAIL, "name": VERIFIED_NAME},
                        **signed, language="en") as conversation:
            await conversation.say("hello, what can you do")
        async with httpx.AsyncClient(base_url=server.url) as client:
            # The shop API, with the right key and a wrong one.
            shop = {"Authorization": f"Bearer {API_KEY}"}
            shipped = await client.post("/api/orders/A-1013/events", headers=shop, json={
                "type": "shipped", "carrier": "DPD", "tracking_number": "DPD123",
                "tracking_url": "https://dpd.example/DPD123"})
            assert shipped.status_code == 200, shipped.text
            assert (await client.get("/api/orders/A-1013", headers=shop)).status_code == 200
            wrong = {"Authorization": f"Bearer {API_KEY}-wrong"}
            assert (await client.get("/api/orders/A-1013", headers=wrong)).status_code == 401
            # The console: a wrong password, then the right one.
            await bot.console.accounts.create("anna", "Anna K.", PASSWORD, "operator")
            login = {"Origin": server.url}
            refused = await client.post("/console/api/login", headers=login,
                                        json={"username": "anna", "password": WRONG_PASSWORD})
            assert refused.status_code == 401
            accepted = await client.post("/console/api/login", headers=login,
                                         json={"username": "anna", "password": PASSWORD})
            assert accepted.status_code == 200
            # Telegram: updates with the webhook secret, and one with a wrong secret.
            for text in TELEGRAM_TEXTS:
                posted = await client.post(
                    "/telegram/webhook", json=text_update(telegram_api.next_update_id(),
                                                          "olivia", text),
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
                assert posted.status_code == 200
            forged = await client.post(
                "/telegram/webhook", json=text_update(telegram_api.next_update_id(), "olivia",
                                                      "forged"),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET + "x"})
            assert forged.status_code == 403
        await bot.inbox.drain()
        await bot.outbox.drain()
    finally:
        await server.stop()

    assert captured.records, "nothing was logged: the capture does not work"
    secrets = {
        "shop API key": API_KEY, "identity secret": IDENTITY_SECRET,
        "Telegram token": TELEGRAM_TOKEN, "webhook secret": WEBHOOK_SECRET,
        "console password": PASSWORD, "wrong console password": WRONG_PASSWORD,
        "customer email": EMAIL, "verified email": VERIFIED_EMAIL,
        "verified name": VERIFIED_NAME, "postcode": POSTCODE,
        **{f"message {i}": text for i, text in enumerate(CHAT_TEXTS + TELEGRAM_TEXTS)},
    }
    leaks = [
        f"{what} in {record.name} ({record.levelname}): {_text(record)[:300]}"
        for record in captured.records
        for what, secret in secrets.items()
        if secret.lower() in _text(record).lower()
    ]
    assert not leaks, "\n".join(leaks)


async def test_a_database_error_logged_with_its_traceback_quotes_no_customer_data(
    postgres_url: str,
) -> None:
    """PostgreSQL explains a refused row in DETAIL ("Key (email)=(...) already exists"), and
    a logged traceback shows the driver's exception with it; the parameters are hidden too."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from orders.tables import Customer
    from storage.database import Database, make_engine
    from storage.upgrade import upgrade

    database = Database(make_engine(postgres_url))
    try:
        await upgrade(database.engine)
        async with database.transaction() as session:
            await session.execute(insert(Customer).values(name=VERIFIED_NAME, email=EMAIL))
        with pytest.raises(IntegrityError) as refused:
            async with database.transaction() as session:
                await session.execute(insert(Customer).values(name=VERIFIED_NAME, email=EMAIL))
        logged = "".join(traceback.format_exception(refused.value))
        assert "customers" in logged  # the error is still explained
        assert EMAIL not in logged and VERIFIED_NAME not in logged
    finally:
        await database.dispose()
