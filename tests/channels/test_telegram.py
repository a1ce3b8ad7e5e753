"""The Telegram channel over the real server: updates posted to the webhook (or queued for
getUpdates), Bot API calls out to a Telegram double on 127.0.0.1, real aiogram in between."""

from __future__ import annotations

import asyncio
import copy
import io
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from channels.telegram import TelegramChannel
from channels.telegram.pacing import ChatPacer
from channels.telegram.sending import split_text
from channels.telegram.webhook import MAX_UPDATE_BYTES
from composition.bootstrap import Orderbot
from config import SettingsError, TelegramSettings
from dialog.messages import Button, ConversationKey, Delivery, DeliveryFailed, Inbound, Outbound
from dialog.proactive import Contact
from dialog.tables import Conversation, InboxRow, OutboxRow, TranscriptEntry
from tests.attachment_files import GPS_IFD, pdf_with_javascript, photo_with_gps, png
from tests.conftest import API_KEY, BotFactory, LiveServer
from tests.doubles.telegram_api import (
    BOT_USER,
    TOKEN,
    USERS,
    ApiCall,
    TelegramApiDouble,
    press_update,
    text_update,
)
from tests.doubles.telegram_api import WEBHOOK_SECRET as SECRET

OLIVIA = USERS["olivia"]["id"]
ANNA = USERS["anna"]["id"]


# This module's short names for the fixtures of tests/doubles/fixtures.py


@pytest.fixture
def double(telegram_api: TelegramApiDouble) -> TelegramApiDouble:
    return telegram_api


@pytest.fixture
def server(telegram_server: LiveServer) -> LiveServer:
    return telegram_server


def telegram(bot: Orderbot) -> TelegramChannel:
    return next(c for c in bot.channels if isinstance(c, TelegramChannel))


class Customer:
    """A Telegram user in a private chat with the bot, as Telegram would deliver them."""

    def __init__(self, server: LiveServer, double: TelegramApiDouble, user: str) -> None:
        self.server, self.double, self.user = server, double, user
        self.chat_id = int(USERS[user]["id"])

    async def post(self, body: bytes, **headers: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.server.url) as client:
            return await client.post("/telegram/webhook", content=body, headers={
                "Content-Type": "application/json", **headers})

    async def send(self, update: dict[str, Any]) -> httpx.Response:
        response = await self.post(json.dumps(update).encode(),
                                   **{"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 200, response.text
        return response

    async def say(self, text: str) -> dict[str, Any]:
        """Write; return the bot's first answer as the double received it."""
        before = len(self.replies)
        await self.send(text_update(self.double.next_update_id(), self.user, text))
        return await self.next_reply(before)

    async def start_chat(self) -> dict[str, Any]:
        """/start; the bot's greeting as the customer's app shows it (a copy: the double's
        own record of the message loses its keyboard when the bot removes it)."""
        await self.say("/start")
        return copy.deepcopy(self.double.last_with_buttons(self.chat_id))

    async def press(self, message: dict[str, Any], index: int) -> httpx.Response:
        return await self.send(press_update(self.double.next_update_id(), self.user, message,
                                            index))

    @property
    def replies(self) -> list[dict[str, Any]]:
        return self.double.sent(self.chat_id)

    async def next_reply(self, before: int, count: int = 1) -> dict[str, Any]:
        await self.server.bot.inbox.drain()
        await self.double.wait_until(lambda: len(self.replies) >= before + count)
        return self.replies[before]


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    assert all(len(row) == 1 for row in rows)  # one button a row
    return [(row[0]["text"], row[0]["callback_data"]) for row in rows]


async def settle(bot: Orderbot) -> None:
    """Every turn recorded so far has run and its replies went out (or were given up)."""
    await bot.inbox.drain()
    await bot.outbox.drain()


async def inbox_rows(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxRow)) or 0)


async def conversation_status(bot: Orderbot, chat_id: int) -> str | None:
    async with bot.database.transaction() as session:
        return await session.scalar(select(Conversation.status).where(
            Conversation.channel == "telegram", Conversation.chat_id == str(chat_id)))


async def customer_entries(bot: Orderbot) -> list[tuple[str, str | None]]:
    """What the transcript holds from customers: (text, button payload)."""
    async with bot.database.transaction() as session:
        rows = await session.scalars(select(TranscriptEntry).where(
            TranscriptEntry.sender == "customer").order_by(TranscriptEntry.id))
        return [(row.text, row.action) for row in rows]


def answers(double: TelegramApiDouble, query_id: str) -> list[ApiCall]:
    return [c for c in double.successful("answerCallbackQuery")
            if c.params["callback_query_id"] == query_id]


def delivery(chat_id: int, text: str, *buttons: Button, outbox_id: int = 90_001,
             language: str = "en", **outbound: Any) -> Delivery:
    return Delivery(
        outbox_id=outbox_id, message_id=1, at="2026-01-01T00:00:00Z",
        outbound=Outbound(ConversationKey("telegram", str(chat_id)), text, tuple(buttons),
                          **outbound),
        language=language,  # the conversation's, as the dialog hands it over
    )


# Conversations


async def test_start_registers_the_webhook_with_its_secret(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    assert double.webhook == {
        "url": f"{server.url}/telegram/webhook", "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }
    assert telegram(server.bot).username == BOT_USER["username"]


async def test_status_conversation_in_english(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    asked = await olivia.say("Where is my order A-1015?")
    assert "postcode of order A-1015" in asked["text"]
    answer = await olivia.say("olivia.brown@example.com")
    assert "Order A-1015 is on its way with DHL" in answer["text"]
    assert "Tracking number: DHL" in answer["text"]
    assert keyboard(answer) == [("Another order", "status:another"),
                                ("Talk to a person", "intent:human")]
    assert "parse_mode" not in answer  # plain text: nothing the customer typed is markup
    assert answer["link_preview_options"] == {"is_disabled": True}


async def test_polish_customer_is_answered_in_polish(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    anna = Customer(server, double, "anna")
    assert "kod pocztowy" in (await anna.say("Gdzie jest moje zamówienie A-1017?"))["text"]
    answer = await anna.say("00-950")
    assert "Zamówienie A-1017 jest w drodze, przewoźnik: InPost" in answer["text"]


async def test_a_deep_link_proves_its_order_and_tells_the_status_without_proof(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    bot = server.bot
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "A-1015")
        link = await bot.orders.issue_link_token(session, "A-1015")
    assert order is not None
    olivia = Customer(server, double, "olivia")
    linked = await olivia.say(f"/start {link}")
    assert linked["text"] == "Hello Olivia! This chat is now linked to your order A-1015."
    status = await olivia.next_reply(1)
    assert "Order A-1015 is on its way with DHL" in status["text"]
    # the link proved the order at the strong level: it is told again without a proof...
    again = await olivia.say("where is my order A-1015?")
    assert "on its way with DHL" in again["text"] and "postcode" not in again["text"]
    # ...but the chat did not become the customer's (a link can be forwarded: one order only)
    async with bot.database.transaction() as session:
        identities = await bot.orders.identities_of(session, order.customer_id)
    assert "telegram" not in identities
    # and a copy of the shop's news about the order come to this chat
    async with httpx.AsyncClient(base_url=server.url) as client:
        event = await client.post("/api/orders/A-1015/events", json={"type": "delivered"},
                                  headers={"Authorization": f"Bearer {API_KEY}"})
    assert event.status_code == 200, event.text
    before = len(olivia.replies)
    await bot.outbox.drain()
    news = await olivia.next_reply(before)
    assert news["text"] == "Your order A-1015 has been delivered. Enjoy!"


async def test_a_stale_deep_link_is_told_politely(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    reply = await Customer(server, double, "olivia").say("/start no-such-token")
    assert reply["text"].startswith("This link is not valid any more.")


async def test_plain_start_greets(server: LiveServer, double: TelegramApiDouble) -> None:
    greeting = await Customer(server, double, "olivia").say("/start")
    assert greeting["text"].startswith("Hello! I'm the Demo Shop assistant.")
    assert keyboard(greeting) == [("Track my order", "intent:order_status"),
                                  ("Talk to a person", "intent:human")]


# Buttons


async def test_a_press_is_answered_its_keyboard_removed_and_acted_on(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    greeting = await olivia.start_chat()
    await olivia.press(greeting, 0)  # "Track my order"
    reply = await olivia.next_reply(1)
    assert "What is your order number?" in reply["text"]
    [answered] = await double.wait_for("answerCallbackQuery")
    assert answered.params == {"callback_query_id": f"q{double.next_update_id() - 1}"}
    [edited] = await double.wait_for("editMessageReplyMarkup")
    assert edited.params["chat_id"] == str(OLIVIA)
    assert edited.params["message_id"] == str(greeting["message_id"])
    assert edited.params["reply_markup"] == {"inline_keyboard": []}
    assert "reply_markup" not in double.messages[(OLIVIA, greeting["message_id"])]


async def test_a_second_press_on_the_same_message_changes_nothing(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    greeting = await olivia.start_chat()
    await olivia.press(greeting, 0)
    await olivia.next_reply(1)
    rows = await inbox_rows(bot)
    # an app that had not yet removed the keyboard: "Talk to a person", a new update
    await olivia.press(greeting, 1)
    await settle(bot)
    answers = await double.wait_for("answerCallbackQuery", 2)
    assert answers[1].params["text"] == "You have already made a choice here."
    assert len(olivia.replies) == 2  # the greeting and the one answer to the first press
    assert await inbox_rows(bot) == rows
    assert await conversation_status(bot, OLIVIA) == "bot"  # not handed to a person


async def test_a_double_tap_at_the_same_moment_acts_once(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    greeting = await olivia.start_chat()
    # two taps on "Talk to a person": two updates that Telegram delivers at the same moment
    taps = [press_update(double.next_update_id(), "olivia", greeting, 1) for _ in range(2)]
    await asyncio.gather(*(olivia.send(tap) for tap in taps))
    await settle(bot)
    await double.wait_for("answerCallbackQuery", 2)
    assert [r["text"] for r in olivia.replies[1:]] == [
        "I'm passing you to a colleague. A person will answer you here.",
        "Customers ahead of you in the queue: 0. Expected wait: about 6 min. "
        "Meanwhile I can still answer questions about your orders."]
    assert [action for _, action in await customer_entries(bot)] == [
        "intent:greet", "intent:human"]
    notices = [c.params.get("text") for c in double.successful("answerCallbackQuery")]
    assert sorted(notices, key=str) == [None, "You have already made a choice here."]
    assert await conversation_status(bot, OLIVIA) == "escalated"


async def test_the_same_press_delivered_twice_at_once_is_answered_and_acted_on_once(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    tap = press_update(double.next_update_id(), "olivia", await olivia.start_chat(), 1)
    await asyncio.gather(olivia.send(tap), olivia.send(tap))
    await settle(bot)
    await double.wait_for("editMessageReplyMarkup")  # the first delivery's answer went out
    assert [r["text"][:22] for r in olivia.replies] == [
        "Hello! I'm the Demo Sh", "I'm passing you to a c", "Customers ahead of you"]
    assert [action for _, action in await customer_entries(bot)] == [
        "intent:greet", "intent:human"]
    # no "You have already made a choice" for a single tap
    assert [c.params.get("text") for c in answers(double, tap["callback_query"]["id"])] == [
        None]


@pytest.mark.parametrize(("failure", "count", "statuses"), [
    ("500", 2, [500, 500, 200]), ("429", 1, [429, 200])])
async def test_a_press_is_answered_even_when_telegram_fails_at_first(
    server: LiveServer, double: TelegramApiDouble, failure: str, count: int,
    statuses: list[int],
) -> None:
    olivia = Customer(server, double, "olivia")
    greeting = await olivia.start_chat()
    double.fail_next(count, failure, retry_after=1, method="answerCallbackQuery")
    await olivia.press(greeting, 0)
    assert "What is your order number?" in (await olivia.next_reply(1))["text"]
    await double.wait_for("answerCallbackQuery")  # the spinner stops
    assert [c.status for c in double.calls if c.method == "answerCallbackQuery"] == statuses


async def test_a_press_that_cannot_be_recorded_is_answered_and_taken_when_sent_again(
    server: LiveServer, double: TelegramApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    greeting = await olivia.start_chat()
    tap = press_update(double.next_update_id(), "olivia", greeting, 0)
    record = bot.inbox.accept

    async def database_down(inbound: Inbound) -> bool:
        raise ConnectionError("database unavailable")

    monkeypatch.setattr(bot.inbox, "accept", database_down)
    response = await olivia.post(json.dumps(tap).encode(),
                                 **{"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 503  # not recorded (database down): Telegram sends it again
    await double.wait_for("answerCallbackQuery")  # but the spinner stopped
    assert "reply_markup" in double.messages[(OLIVIA, greeting["message_id"])]
    monkeypatch.setattr(bot.inbox, "accept", record)
    await olivia.send(tap)  # Telegram's retry
    assert "What is your order number?" in (await olivia.next_reply(1))["text"]
    await double.wait_for("editMessageReplyMarkup")
    await settle(bot)
    assert len(olivia.replies) == 2


async def test_a_press_whose_action_fails_is_still_answered(
    server: LiveServer, double: TelegramApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    greeting = await olivia.start_chat()

    async def failing_turn(inbound: Inbound) -> list[Outbound]:
        raise RuntimeError("the order system failed")

    monkeypatch.setattr(bot.manager, "handle", failing_turn)
    await olivia.press(greeting, 0)
    await settle(bot)
    [answered] = await double.wait_for("answerCallbackQuery")
    assert answered.params["callback_query_id"] == f"q{double.next_update_id() - 1}"
    assert len(olivia.replies) == 1  # only the greeting: the failed turn said nothing


# Webhook security and bad input


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                                     {"X-Telegram-Bot-Api-Secret-Token": ""}])
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_recorded(
    server: LiveServer, double: TelegramApiDouble, headers: dict[str, str]
) -> None:
    olivia = Customer(server, double, "olivia")
    before = await inbox_rows(server.bot)
    update = text_update(double.next_update_id(), "olivia", "hello")
    response = await olivia.post(json.dumps(update).encode(), **headers)
    assert response.status_code == 403
    await settle(server.bot)
    assert await inbox_rows(server.bot) == before
    assert olivia.replies == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"message": {"text": "hi"}}',
                                  b'{"update_id": "many"}', b"\xff\xfe"])
async def test_a_body_that_is_not_an_update_is_a_400(
    server: LiveServer, double: TelegramApiDouble, body: bytes
) -> None:
    olivia = Customer(server, double, "olivia")
    response = await olivia.post(body, **{"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 400
    assert await inbox_rows(server.bot) == 0


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_oversized_body_is_a_413_and_nothing_recorded(
    server: LiveServer, double: TelegramApiDouble, declared: bool
) -> None:
    olivia = Customer(server, double, "olivia")
    update = text_update(double.next_update_id(), "olivia",
                         "where is my order A-1015? " + "x" * MAX_UPDATE_BYTES)
    body = json.dumps(update).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/telegram/webhook", content=body if declared else chunks(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 413
    await settle(server.bot)
    assert await inbox_rows(server.bot) == 0
    assert olivia.replies == []


async def test_updates_the_bot_does_not_answer_are_acknowledged_and_ignored(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    edited = text_update(double.next_update_id(), "olivia", "hello")
    edited["edited_message"] = edited.pop("message")
    sticker = text_update(double.next_update_id(), "olivia", "")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "x", "file_unique_id": "y", "type": "regular",
                                     "width": 512, "height": 512, "is_animated": False,
                                     "is_video": False}
    group = text_update(double.next_update_id(), "olivia", "where is my order A-1015?")
    group["message"]["chat"] = {"id": -100123, "type": "group", "title": "Friends"}
    for update in (edited, sticker, group):
        await olivia.send(update)
    await settle(server.bot)
    assert await inbox_rows(server.bot) == 0
    assert double.sent() == []
    # and the chat goes on
    assert "Hello!" in (await olivia.say("hello"))["text"]


async def test_a_photo_caption_is_read_as_the_message(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    photo = text_update(double.next_update_id(), "olivia", "")
    del photo["message"]["text"]
    photo["message"].update(caption="where is my order A-1015?", photo=[
        {"file_id": double.add_file(png()), "file_unique_id": "u", "width": 32, "height": 32}])
    await olivia.send(photo)
    assert "postcode of order A-1015" in (await olivia.next_reply(0))["text"]


async def test_a_photo_is_fetched_checked_and_shown_with_its_message(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    """getFile and the file's download through the Bot API double; the largest size is
    taken, its EXIF position dropped; an operator finds it in the transcript."""
    olivia = Customer(server, double, "olivia")
    photo = text_update(double.next_update_id(), "olivia", "")
    del photo["message"]["text"]
    photo["message"]["photo"] = [
        {"file_id": double.add_file(png((8, 8))), "file_unique_id": "s", "width": 8, "height": 8},
        {"file_id": double.add_file(photo_with_gps()), "file_unique_id": "l", "width": 64,
         "height": 48}]
    await olivia.send(photo)
    assert "I've got your file" in (await olivia.next_reply(0))["text"]
    assert [c.params["file_id"] for c in double.successful("getFile")] == [
        photo["message"]["photo"][1]["file_id"]]
    _language, history = await server.bot.conversations.history(
        ConversationKey("telegram", str(OLIVIA)))
    [shown] = history[0].attachments
    files = server.bot.console.attachments
    assert files is not None
    found = await files.for_operator(shown.id)
    assert found is not None and shown.content_type == "image/jpeg"
    kept = Image.open(io.BytesIO(found.path.read_bytes()))
    assert kept.size == (64, 48) and not kept.getexif().get_ifd(GPS_IFD)


async def test_a_document_that_is_no_photo_or_pdf_is_refused_and_the_customer_told(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    document = text_update(double.next_update_id(), "olivia", "")
    del document["message"]["text"]
    document["message"]["document"] = {
        "file_id": double.add_file(pdf_with_javascript()), "file_unique_id": "d",
        "file_name": "invoice.pdf", "mime_type": "application/pdf"}
    await olivia.send(document)
    told = await olivia.next_reply(0)
    assert "contains scripts or embedded files" in told["text"]
    await settle(server.bot)
    assert await inbox_rows(server.bot) == 0  # nothing else was said: nothing to answer


async def test_the_same_update_twice_is_answered_once(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    asking = text_update(double.next_update_id(), "olivia", "Where is my order A-1015?")
    await olivia.send(asking)
    await olivia.send(asking)  # Telegram sends it again
    proof = text_update(double.next_update_id(), "olivia", "olivia.brown@example.com")
    await asyncio.gather(olivia.send(proof), olivia.send(proof))  # twice at the same moment
    await settle(server.bot)
    replies = [r["text"] for r in olivia.replies]
    assert len(replies) == 2
    assert "postcode of order A-1015" in replies[0]
    assert "Order A-1015 is on its way with DHL" in replies[1]
    assert await customer_entries(server.bot) == [("Where is my order A-1015?", None),
                                                  ("olivia.brown@example.com", None)]


async def test_a_message_acknowledged_by_the_webhook_is_already_answered_and_recorded(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    """The 200 goes once the turn's one transaction committed: the message, its inbox row
    (processed) and the reply are all stored by then, nothing waits in the background."""
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    await olivia.send(text_update(double.next_update_id(), "olivia", "Where is my order A-1015?"))
    async with bot.database.transaction() as session:
        inbox = (await session.execute(select(InboxRow.processed_at))).all()
        # Olivia's (from 09:00 UTC the demo shop's payment reminder of the day is queued
        # too, for another conversation)
        queued = await session.scalar(select(func.count()).select_from(OutboxRow)
                                      .where(OutboxRow.channel == "telegram"))
    assert len(inbox) == 1 and inbox[0][0] is not None
    assert queued == 1
    assert await customer_entries(bot) == [("Where is my order A-1015?", None)]
    assert "postcode of order A-1015" in (await olivia.next_reply(0))["text"]


async def test_a_message_whose_turn_fails_is_acknowledged_and_answered_after_a_restart(
    server: LiveServer, double: TelegramApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    handle = bot.manager.handle

    async def failing_turn(inbound: Inbound, *, record: bool = False) -> list[Outbound]:
        raise RuntimeError("the order system failed")

    monkeypatch.setattr(bot.manager, "handle", failing_turn)
    asking = text_update(double.next_update_id(), "olivia", "Where is my order A-1015?")
    await olivia.send(asking)  # 200: kept, so Telegram need not send it again
    await olivia.send(asking)  # and a retry all the same is no second message
    assert await inbox_rows(bot) == 1
    assert olivia.replies == []
    monkeypatch.setattr(bot.manager, "handle", handle)
    await bot.inbox.start()  # what the next start does with what it had not answered
    assert "postcode of order A-1015" in (await olivia.next_reply(0))["text"]
    await settle(bot)
    assert len(olivia.replies) == 1


async def test_a_message_that_cannot_be_recorded_is_a_503_and_answered_when_sent_again(
    server: LiveServer, double: TelegramApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = server.bot
    olivia = Customer(server, double, "olivia")
    handle = bot.manager.handle

    async def database_down(inbound: Inbound, **_: bool) -> list[Outbound]:
        raise ConnectionError("database unavailable")

    monkeypatch.setattr(bot.manager, "handle", database_down)
    monkeypatch.setattr(bot.inbox, "_record", database_down)
    asking = text_update(double.next_update_id(), "olivia", "Where is my order A-1015?")
    response = await olivia.post(json.dumps(asking).encode(),
                                 **{"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 503  # nothing kept: Telegram sends it again
    assert await inbox_rows(bot) == 0
    monkeypatch.undo()
    assert bot.manager.handle == handle
    await olivia.send(asking)
    assert "postcode of order A-1015" in (await olivia.next_reply(0))["text"]


async def test_a_new_message_that_reuses_an_old_update_id_is_answered(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    """After a week without updates Telegram picks the next update_id at random."""
    olivia = Customer(server, double, "olivia")
    update_id = double.next_update_id()
    await olivia.send(text_update(update_id, "olivia", "hello", message_id=1))
    await olivia.next_reply(0)
    await olivia.send(text_update(update_id, "olivia", "Where is my order A-1015?", message_id=2))
    assert "postcode of order A-1015" in (await olivia.next_reply(1))["text"]


# Sending


async def test_a_long_reply_is_split_in_order_with_buttons_on_the_last_part(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    paragraph = " ".join(f"word{n:04d}" for n in range(100))  # 899 characters
    text = "\n".join(f"{paragraph} end{p}" for p in range(10))[:9000]
    await telegram(server.bot).send(delivery(OLIVIA, text, Button("Another order", "x:1")))
    parts = [m["text"] for m in double.sent(OLIVIA)]
    assert len(parts) == 3 and all(len(part) <= 4096 for part in parts)
    assert " ".join(parts).split() == text.split()  # nothing lost, nothing reordered
    assert [keyboard(m) for m in double.sent(OLIVIA)] == [[], [], [("Another order", "x:1")]]


async def test_a_split_reply_that_failed_halfway_is_not_sent_twice(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    channel = telegram(server.bot)
    text = "\n".join(f"line {n:05d}" for n in range(900))  # 9,899 characters: three parts
    double.fail_next(1, "500", method="sendMessage", after=1)
    with pytest.raises(DeliveryFailed):
        await channel.send(delivery(OLIVIA, text))
    await channel.send(delivery(OLIVIA, text))  # the outbox's retry
    parts = [m["text"] for m in double.sent(OLIVIA)]
    assert "\n".join(parts) == text  # each part once, in order


def test_splitting_counts_what_telegram_counts() -> None:
    emoji = split_text("😀" * 3000)  # 6,000 UTF-16 units
    assert [len(p.encode("utf-16-le")) // 2 for p in emoji] == [4096, 1904]
    assert split_text("short") == ["short"]
    assert split_text("a" * 5000) == ["a" * 4096, "a" * 904]
    assert split_text("x" * 4000 + "\n" + "y" * 200) == ["x" * 4000, "y" * 200]


async def test_customer_text_is_sent_as_plain_text(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    shown = "<b>Olivia</b> & <a href='https://evil.example'>me</a> *bold* _it_"
    await telegram(server.bot).send(delivery(OLIVIA, shown))
    [sent] = double.sent(OLIVIA)
    assert sent["text"] == shown and "parse_mode" not in sent and "entities" not in sent


async def test_an_operator_message_names_the_operator_in_the_customers_language(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    anna = Customer(server, double, "anna")
    await anna.say("Gdzie jest moje zamówienie A-1017?")
    channel = telegram(server.bot)
    language, _ = await server.bot.conversations.history(ConversationKey("telegram", str(ANNA)))
    await channel.send(delivery(ANNA, "Paczka jest już w drodze.", sender="operator",
                                author="Ewa", language=language))
    assert anna.replies[-1]["text"] == "Ewa (konsultant): Paczka jest już w drodze."
    await channel.send(delivery(OLIVIA, "Hello!", sender="operator", author="Sam"))
    assert double.sent(OLIVIA)[-1]["text"] == "Sam (operator): Hello!"


async def test_a_rate_limited_reply_is_delivered_once_after_the_wait(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    # Like Telegram, the double refuses a retry that comes before retry_after is over (the
    # outbox's own first backoff is 1 s): 429 then 200 means the wait was kept.
    double.fail_next(1, "429", retry_after=2, method="sendMessage")
    greeting = await olivia.say("hello")
    attempts = [c for c in double.calls if c.method == "sendMessage"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].params["text"] == greeting["text"]  # the same reply, retried
    assert len(olivia.replies) == 1


async def test_server_errors_are_retried_until_delivered(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    double.fail_next(2, "500", method="sendMessage")
    assert "Hello!" in (await olivia.say("hello"))["text"]
    assert [c.status for c in double.calls if c.method == "sendMessage"] == [500, 500, 200]


async def test_a_blocked_bot_gives_up_and_hands_the_chat_to_a_person(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    olivia = Customer(server, double, "olivia")
    double.fail_next(1, "403", method="sendMessage")
    await olivia.send(text_update(double.next_update_id(), "olivia", "hello"))
    await settle(server.bot)
    assert [c.status for c in double.calls if c.method == "sendMessage"] == [403]  # no retry
    async with server.bot.database.transaction() as session:
        row = (await session.scalars(
            select(OutboxRow).where(OutboxRow.channel == "telegram")
        )).one()
    assert row.sent_at is None and "blocked by the user" in (row.last_error or "")
    assert await conversation_status(server.bot, OLIVIA) == "escalated"


async def test_a_burst_to_one_chat_all_arrives_in_order(
    server: LiveServer, double: TelegramApiDouble
) -> None:
    telegram(server.bot).sender.pacer = ChatPacer(interval=0.01, burst=3)  # Telegram's, faster
    double.fail_next(1, "429", retry_after=1, method="sendMessage")
    server.bot.outbox.enqueue([delivery(OLIVIA, f"message {n}", outbox_id=90_000 + n)
                               for n in range(20)])
    await double.wait_for("sendMessage", 20)
    assert [m["text"] for m in double.sent(OLIVIA)] == [f"message {n}" for n in range(20)]
    assert [c.status for c in double.calls if c.method == "sendMessage"][:2] == [429, 200]


async def test_the_pacer_spaces_one_chat_and_lets_others_through() -> None:
    now = [0.0]
    waits: list[tuple[str, float]] = []
    current = ""

    async def sleep(seconds: float) -> None:
        waits.append((current, seconds))
        now[0] += seconds

    pacer = ChatPacer(interval=1.0, burst=3, overall_interval=0.0, clock=lambda: now[0],
                      sleep=sleep)
    for current in ["1"] * 6 + ["2"]:
        await pacer.wait(current)
    # three at once (a burst), then one a second; another chat is not held back
    assert waits == [("1", 1.0), ("1", 1.0), ("1", 1.0)]

    waits.clear()
    overall = ChatPacer(interval=0.0, burst=1, overall_interval=0.5, overall_burst=2,
                        clock=lambda: now[0], sleep=sleep)
    for current in ["a", "b", "c", "d"]:
        await overall.wait(current)
    assert waits == [("c", 0.5), ("d", 0.5)]  # all chats together stay under the limit


async def test_a_proactive_message_reaches_a_customer_known_on_telegram(
    server: LiveServer,
) -> None:
    channel = telegram(server.bot)
    known = Contact(customer_id=1, name="Olivia Brown", email=None, language="en",
                    identities={"telegram": str(OLIVIA)})
    assert await channel.open_conversation(known) == (str(OLIVIA), {})
    stranger = Contact(customer_id=2, name="Sam", email="sam@example.com", language="en")
    assert await channel.open_conversation(stranger) is None


# Polling mode


async def test_polling_mode_answers_updates_from_get_updates(
    make_bot: BotFactory, double: TelegramApiDouble
) -> None:
    bot = await make_bot(telegram=double.bot_settings(mode="polling"))
    assert telegram(bot).router() is None  # no webhook endpoint to attack
    await double.wait_for("deleteWebhook")
    first = double.next_update_id()
    double.push_update(text_update(first, "olivia", "hello"))
    [reply] = await double.wait_for("sendMessage")
    assert "Hello!" in reply.params["text"] and str(reply.params["chat_id"]) == str(OLIVIA)
    # the update is confirmed (asked past), so Telegram will not hand it over again
    await double.wait_until(lambda: any(
        c.method == "getUpdates" and c.params.get("offset") == str(first + 1)
        for c in double.calls))
    await bot.inbox.drain()
    assert await inbox_rows(bot) == 1


async def test_polling_answers_an_update_handed_over_twice_once(
    make_bot: BotFactory, double: TelegramApiDouble
) -> None:
    bot = await make_bot(telegram=double.bot_settings(mode="polling"))
    await double.wait_for("deleteWebhook")
    asking = text_update(double.next_update_id(), "olivia", "Where is my order A-1015?")
    double.push_update(asking)
    double.push_update(copy.deepcopy(asking))  # as after a restart before it was confirmed
    double.push_update(text_update(double.next_update_id(), "olivia",
                                   "olivia.brown@example.com"))
    await double.wait_for("sendMessage", 2)
    await settle(bot)
    replies = [m["text"] for m in double.sent(OLIVIA)]
    assert len(replies) == 2 and "on its way with DHL" in replies[1]
    assert await inbox_rows(bot) == 2


# Settings


def _channel(**settings: Any) -> TelegramChannel:
    values = {"enabled": True, "token": TOKEN, "webhook_secret": SECRET, **settings}
    return TelegramChannel(TelegramSettings(**values), cast(Any, None),
                           base_url="https://bot.example", shop_name="Shop")


@pytest.mark.parametrize(("settings", "key"), [
    ({"webhook_secret": ""}, "telegram.webhook_secret"),
    ({"webhook_secret": "with spaces"}, "telegram.webhook_secret"),
    ({"token": ""}, "telegram.token"),
    ({"token": "not-a-token"}, "telegram.token"),
])
def test_bad_settings_stop_the_start_naming_the_key(settings: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError, match=key):
        _channel(**settings)


async def test_a_token_telegram_refuses_stops_the_start(double: TelegramApiDouble) -> None:
    channel = _channel(token="999:REVOKED", api_base=double.url)
    try:
        with pytest.raises(SettingsError, match="telegram.token"):
            await channel.start()
    finally:
        await channel.stop()
