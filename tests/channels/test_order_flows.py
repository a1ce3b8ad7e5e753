"""The order conversations of issue 4 on Telegram, Slack and email, end to end: the real
server and channel code, the platforms played by the doubles on 127.0.0.1 (tests/doubles),
and every check on what the customer sees there."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from channels.telegram.payloads import callback_data as telegram_callback_data
from channels.telegram.payloads import original_payload
from channels.telegram.sending import keyboard as telegram_keyboard
from composition.bootstrap import Orderbot
from dialog.messages import Button
from orders.tables import Return
from tests.channels.test_email import MailClient
from tests.channels.test_slack import Customer as SlackCustomer
from tests.channels.test_slack import button_titles, texts
from tests.channels.test_telegram import Customer as TelegramCustomer
from tests.channels.test_telegram import keyboard, settle
from tests.conftest import API_KEY, BotFactory, LiveServer, serve
from tests.dialog.conftest import sent_code
from tests.doubles.slack_api import SlackApiDouble
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble, customer_mail
from tests.doubles.telegram_api import TelegramApiDouble, text_update
from tests.servers import free_port

SHOP_MAIL = "orders@shop.example"
OLIVIA_MAIL = "olivia.brown@example.com"
TELEGRAM_CALLBACK_LIMIT = 64  # bytes of callback_data Telegram keeps


# The platforms and the bot (telegram_server and slack_server: tests/doubles/fixtures.py)


@pytest.fixture
async def email_server(
    make_bot: BotFactory, relay: SmtpRelayDouble
) -> AsyncIterator[LiveServer]:
    bot = await make_bot(
        http={"port": free_port()},
        email={"enabled": True, "listen_port": free_port(), "address": SHOP_MAIL,
               "relay_host": "127.0.0.1", "relay_port": relay.port, "authserv_id": MTA},
    )
    live = await serve(bot)
    yield live
    await settle(bot)  # no relay session cut short by the stop (see test_email's bot fixture)
    await live.stop()


async def shop(server: LiveServer, method: str, path: str, **body: Any) -> dict[str, Any]:
    """The shop's system calling the shop API."""
    async with httpx.AsyncClient(base_url=server.url,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        response = await client.request(method, "/api" + path, json=body or None)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def order_of(bot: Orderbot, number: str) -> Any:
    async with bot.database.transaction() as session:
        found = await bot.orders.get_order(session, number)
    assert found is not None
    return found


# Telegram: the confirmation conversation, button by button


class TelegramChat(TelegramCustomer):
    """The Telegram customer of test_telegram, who reads every message of a turn and
    presses buttons by their title."""

    def question(self) -> dict[str, Any]:
        """The bot's last message that still shows buttons."""
        return self.double.last_with_buttons(self.chat_id)

    async def write(self, text: str) -> list[dict[str, Any]]:
        """Write; every message the bot answered with."""
        before = len(self.replies)
        await self.send(text_update(self.double.next_update_id(), self.user, text))
        await settle(self.server.bot)
        return self.replies[before:]

    async def press_title(
        self, title: str, message: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Press the button titled so (on `message`, else on the last question); every
        message the bot answered with."""
        message = self.question() if message is None else self.as_received(message)
        titles = [text for text, _ in keyboard(message)]
        before = len(self.replies)
        await self.press(message, titles.index(title))
        await settle(self.server.bot)
        return self.replies[before:]

    def as_received(self, sent: dict[str, Any]) -> dict[str, Any]:
        """The message in the customer's app (with its id) that the bot sent as `sent`."""
        return [m for (chat, _), m in self.double.messages.items()
                if chat == self.chat_id and m["text"] == sent["text"]][-1]

    def payloads(self) -> list[str]:
        """Every callback_data the bot sent to this chat."""
        return [data for message in self.replies for _, data in keyboard(message)]


async def linked_telegram_chat(
    server: LiveServer, double: TelegramApiDouble, number: str
) -> tuple[TelegramChat, dict[str, Any]]:
    """Olivia's Telegram chat, opened with the order's chat link (the shop sends it with the
    order): the chat may see and change that order, and is told its status (returned)."""
    olivia = TelegramChat(server, double, "olivia")
    link = (await shop(server, "GET", f"/orders/{number}"))["links"]["telegram"]
    linked, status = await olivia.write(f"/start {link.partition('?start=')[2]}")
    assert linked["text"] == f"Hello Olivia! This chat is now linked to your order {number}."
    return olivia, status


async def shop_creates(server: LiveServer, number: str, **customer: str) -> None:
    await shop(server, "POST", "/orders", **{
        "number": number,
        "customer": {"name": "Olivia Brown", "email": OLIVIA_MAIL, "language": "en",
                     **customer},
        "lines": [{"sku": "KB-110", "name": "Wireless keyboard", "quantity": 1,
                   "unit_price": "49.00"}],
        "currency": "EUR",
        "delivery": {"method": "courier",
                     "address": {"street": "5 High St", "city": "Edinburgh",
                                 "postcode": "EH1 1YZ"}},
    })
    await settle(server.bot)


async def test_telegram_confirmation_from_the_shops_order_to_the_pdf_by_buttons(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble
) -> None:
    bot = telegram_server.bot
    await shop_creates(telegram_server, "T-5001", preferred_channel="telegram")
    # The chat link proves the order, not the customer (docs/security.md): the shop's request
    # waits in a conversation of her own, and she confirms from the order's status here.
    olivia, status = await linked_telegram_chat(telegram_server, telegram_api, "T-5001")
    assert "Order T-5001 is waiting for your confirmation" in status["text"]
    [request] = await olivia.press_title("Confirm my order", status)
    assert request["text"].startswith("Here is your order T-5001:")
    assert "1 × Wireless keyboard — 49.00 EUR" in request["text"]
    assert keyboard(request) == [("Yes, let's confirm", "confirm:begin:go"),
                                 ("Cancel the order", "confirm:begin:decline")]

    [method] = await olivia.press_title("Yes, let's confirm")
    assert method["text"] == "How would you like to receive your order?"
    assert [title for title, _ in keyboard(method)] == [
        "Courier to your door", "Pickup point", "Pick up in a store"]
    [day] = await olivia.press_title("Courier to your door")
    assert day["text"].startswith("Which day?")
    first_day, first_day_payload = keyboard(day)[0]
    [slot] = await olivia.press_title(first_day)
    assert slot["text"] == f"At what time on {first_day}?"
    [payment] = await olivia.press_title("12:00-15:00")
    assert payment["text"] == "How would you like to pay?"
    [voucher] = await olivia.press_title("Card")
    assert "voucher or loyalty code" in voucher["text"]
    [cross_sell] = await olivia.press_title("No code")
    assert cross_sell["text"].startswith("Would you like to add HDMI cable 1.5 m for 11.00 EUR?")
    [final] = await olivia.press_title("No, thanks")
    assert final["text"].startswith("Please check your order T-5001:")
    assert f"Delivery: courier on {first_day}, 12:00-15:00" in final["text"]
    assert "Payment: Card" in final["text"] and "Total: 49.00 EUR" in final["text"]
    [done] = await olivia.press_title("Confirm the order")

    assert done["text"].startswith("Your order T-5001 is confirmed (49.00 EUR). Thank you!")
    assert "reply_markup" not in done
    url = done["text"].rsplit(" ", 1)[-1]
    async with httpx.AsyncClient() as client:
        document = await client.get(url)
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF")
    confirmed = await order_of(bot, "T-5001")
    assert confirmed.status.value == "confirmed"
    assert (confirmed.delivery_method, confirmed.delivery_slot, confirmed.payment_method) == (
        "courier", "12:00-15:00", "card")
    assert f"confirm:day:{confirmed.delivery_date.isoformat()}" == first_day_payload
    # every press stopped its spinner and took its keyboard away: nothing left to press
    presses = len(telegram_api.successful("answerCallbackQuery"))
    assert presses == 9
    await telegram_api.wait_for("editMessageReplyMarkup", presses)
    assert not any("reply_markup" in m for m in telegram_api.messages.values()
                   if m["text"].startswith(("How would", "Which day", "Please check")))
    assert all(len(data.encode()) <= TELEGRAM_CALLBACK_LIMIT for data in olivia.payloads())


async def test_telegram_cancelling_another_order_while_a_confirmation_waits_cancels_that_one(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble
) -> None:
    """The confirmation of T-5002 waits for an answer; "cancel my order A-1003" is about
    A-1003 (it used to decline T-5002, the order the customer had not named)."""
    bot = telegram_server.bot
    await shop_creates(telegram_server, "T-5002")
    olivia, status = await linked_telegram_chat(telegram_server, telegram_api, "T-5002")
    [summary] = await olivia.press_title("Confirm my order", status)
    assert summary["text"].startswith("Here is your order T-5002")
    # the link proved T-5002 only: another of her orders is proven as anywhere
    [proof] = await olivia.write("please cancel my order A-1003")
    assert "postcode of order A-1003" in proof["text"]
    asked, *_ = await olivia.write("EH1 1YZ")
    assert asked["text"] == "Cancel order A-1003? Please answer yes or no."
    cancelled, offer = await olivia.press_title("Yes, cancel it", asked)
    assert cancelled["text"] == "Order A-1003 is cancelled."
    assert offer["text"] == "Shall we go back to confirming your order, order T-5002?"
    assert (await order_of(bot, "A-1003")).status.value == "cancelled"
    assert (await order_of(bot, "T-5002")).status.value == "pending_confirmation"


def long_order_number(last: str) -> str:
    """An order number of the 64 characters the shop API allows, which the bot still reads
    in a message: letters, then groups of digits."""
    number = "WEBEU-" + "-".join(["2026052400001234"] * 3) + "-202605" + last
    assert len(number) == 64
    return number


async def test_telegram_buttons_of_orders_with_the_longest_numbers_work(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble
) -> None:
    """callback_data holds 64 bytes; "confirm:start:" or "cancel:yes:" and an order number
    the shop API accepts are longer. The customer still gets those buttons, and they work."""
    bot = telegram_server.bot
    first, second = long_order_number("1"), long_order_number("2")
    await shop_creates(telegram_server, first)
    await shop_creates(telegram_server, second)
    olivia, _ = await linked_telegram_chat(telegram_server, telegram_api, second)

    status, *_ = await olivia.write(f"where is my order {second}?")
    assert f"Order {second} is waiting for your confirmation" in status["text"]
    assert [title for title, _ in keyboard(status)] == [
        "Confirm my order", "Another order", "Talk to a person"]
    summary, *_ = await olivia.press_title("Confirm my order", status)
    assert summary["text"].startswith(f"Here is your order {second}:")

    [proof] = await olivia.write(f"please cancel my order {first}")
    assert f"postcode of order {first}" in proof["text"]  # the link proved {second} only
    asked, *_ = await olivia.write("EH1 1YZ")
    assert asked["text"] == f"Cancel order {first}? Please answer yes or no."
    cancelled, *_ = await olivia.press_title("Yes, cancel it", asked)
    assert cancelled["text"] == f"Order {first} is cancelled."
    assert (await order_of(bot, first)).status.value == "cancelled"
    assert (await order_of(bot, second)).status.value == "pending_confirmation"
    assert all(len(data.encode()) <= TELEGRAM_CALLBACK_LIMIT for data in olivia.payloads())


def test_every_button_payload_the_flows_make_fits_telegrams_callback_data() -> None:
    """The payload shapes of dialog/flows/*, with the longest order number, SKU and place id
    the shop API and inventory allow: each goes out within 64 bytes and comes back whole."""
    number, sku, place = long_order_number("3"), "S" * 64, "P" * 64
    payloads = [
        f"confirm:start:{number}", "confirm:begin:go", f"confirm:stock:alt-{sku}",
        f"confirm:point:{place}", f"confirm:store:{place}", "confirm:day:2026-11-25",
        "confirm:slot:09:00-12:00", "confirm:voucher:none", f"delivery:order:{number}",
        f"delivery:point:{place}", f"cancel:yes:{number}", f"cancel:no:{number}",
        f"cancel:{number}", f"returns:order:{number}", "returns:line:12", "returns:qty:6",
        "returns:reason:not_as_described", "returns:method:courier_pickup",
        "handoff:return_exception", f"payment:link:{number}", f"payment:invoice:{number}",
        f"status:{number}", f"availability:sku:{sku}", f"availability:notify:{sku}",
        "intent:order_status", "resume:continue", "status:another",
        "confirm:point:Пункт выдачи на вокзале №12",  # an id in Cyrillic: 2 bytes a letter
    ]
    buttons = [Button(f"option {n}", payload) for n, payload in enumerate(payloads)]
    markup = telegram_keyboard(buttons)
    assert markup is not None
    sent = [row[0]["callback_data"] for row in markup["inline_keyboard"]]
    assert all(len(data.encode()) <= TELEGRAM_CALLBACK_LIMIT for data in sent)
    assert len(set(sent)) == len(payloads)
    for payload, data in zip(payloads, sent, strict=True):
        if len(payload.encode()) <= TELEGRAM_CALLBACK_LIMIT:
            assert data == payload  # what fits goes out as it is
        assert original_payload(data, reversed(buttons)) == payload


async def test_telegram_a_stand_in_the_bot_never_offered_in_the_chat_does_nothing(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble
) -> None:
    """A forged callback_data standing for "cancel someone's order" is not taken for it."""
    bot = telegram_server.bot
    number = long_order_number("4")
    await shop(telegram_server, "POST", "/orders", **{
        "number": number,
        "customer": {"name": "Sam Other", "email": "sam.other@example.org", "language": "en"},
        "lines": [{"sku": "KB-110", "name": "Wireless keyboard", "quantity": 1,
                   "unit_price": "49.00"}],
        "currency": "EUR",
    })
    olivia = TelegramChat(telegram_server, telegram_api, "olivia")
    await olivia.write("/start")
    greeting = copy.deepcopy(olivia.question())
    greeting["reply_markup"]["inline_keyboard"][0][0]["callback_data"] = telegram_callback_data(
        f"cancel:yes:{number}")
    await olivia.press(greeting, 0)  # a client that sends what it likes
    await settle(bot)
    _greeting, answer = olivia.replies
    assert answer["text"].startswith("Sorry, I didn't understand that.")
    assert (await order_of(bot, number)).status.value == "pending_confirmation"


# Slack: self-service by Block Kit buttons, in signed requests


class SlackChat(SlackCustomer):
    """The Slack customer of test_slack, who reads every message of a turn."""

    async def write(self, text: str) -> list[dict[str, Any]]:
        before = len(self.replies)
        await self.say(text)
        await settle(self.server.bot)
        return self.replies[before:]

    async def choose(self, title: str) -> list[dict[str, Any]]:
        """Press the button titled so on the bot's last message with buttons."""
        before = len(self.replies)
        response = await self.press(title)
        assert response.status_code == 200, response.text
        await settle(self.server.bot)
        return self.replies[before:]


async def test_slack_return_of_a_delivered_order_by_buttons(
    slack_server: LiveServer, slack_api: SlackApiDouble
) -> None:
    bot = slack_server.bot
    olivia = SlackChat(slack_server, slack_api, "U_OLIVIA")
    [asked] = await olivia.write("I want to return my order A-1027")
    assert asked["text"].startswith("To make sure order A-1027 is yours")
    # a return needs the strong level: the code sent to her own conversation (not this chat)
    [code_asked] = await olivia.write("EH1 1YZ")
    assert "6-digit code" in code_asked["text"]
    code, where = await sent_code(bot, "A-1027")
    assert where.channel != "slack"
    [offer] = await olivia.write(code)
    assert "2. Bluetooth speaker × 2, 69.00 EUR each" in texts(offer)
    assert button_titles(offer) == [
        "Noise-cancelling headphones", "Bluetooth speaker", "USB-C cable 2 m", "All items"]
    [quantity] = await olivia.choose("Bluetooth speaker")
    assert "(1 to 2)" in quantity["text"] and button_titles(quantity) == ["1", "2"]
    [so_far] = await olivia.choose("2")
    assert "So far: 2 × Bluetooth speaker" in so_far["text"]
    [reason] = await olivia.choose("Continue")
    assert "Why are you returning 2 × Bluetooth speaker?" in reason["text"]
    [photo] = await olivia.choose("Damaged or faulty")
    assert "photo of the damage" in photo["text"]
    [method] = await olivia.choose("I have no photo")
    assert button_titles(method) == ["Courier pickup", "Drop-off point"]
    [done] = await olivia.choose("Drop-off point")

    assert re.match(r"Done! Your return R-\d{4}-\d{6} for order A-1027 is registered: "
                    r"2 × Bluetooth speaker\.", done["text"])
    assert "we will refund 138.00 EUR" in done["text"]
    label_url = re.search(r"Return label \(PDF\): (\S+)", done["text"])
    assert label_url is not None
    async with httpx.AsyncClient() as client:
        label = await client.get(label_url.group(1))
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    assert (await order_of(bot, "A-1027")).status.value == "return_requested"
    # each pressed message shows the choice made instead of its buttons
    updates = await slack_api.wait_for("chat.update", 6)
    assert [u.params["blocks"][-1]["elements"][0]["text"] for u in updates] == [
        "✓ Bluetooth speaker", "✓ 2", "✓ Continue", "✓ Damaged or faulty",
        "✓ I have no photo", "✓ Drop-off point"]


async def test_slack_cancel_of_a_pending_order_in_polish(
    slack_server: LiveServer, slack_api: SlackApiDouble
) -> None:
    bot = slack_server.bot
    anna = SlackChat(slack_server, slack_api, "U_ANNA")  # Slack locale pl-PL
    pending = await order_of(bot, "A-1005")
    assert (pending.customer_email, pending.status.value) == (
        "anna.kowalska@example.com", "pending_confirmation")
    [asked] = await anna.write("Chcę anulować zamówienie A-1005")
    assert "kod pocztowy" in asked["text"]
    [question] = await anna.write("00-950")
    assert question["text"] == "Anulować zamówienie A-1005? Odpowiedz tak lub nie."
    assert button_titles(question) == ["Tak, anuluj", "Nie, zostaw"]
    [done] = await anna.choose("Tak, anuluj")
    assert done["text"] == "Zamówienie A-1005 zostało anulowane."
    assert (await order_of(bot, "A-1005")).status.value == "cancelled"


# Email: the same conversations by replies, options numbered


class Mailbox(MailClient):
    """A customer's mail client (test_email's) that always answers the bot's last mail."""

    async def reply(self, text: str) -> str:
        """Answer the bot's last mail in its thread (quoting it); the text of the bot's
        mails that answer it (one a reply: "code applied", then the next question)."""
        before = len(self.replies)
        await self.send(customer_mail(self.address, text, to=SHOP_MAIL,
                                      reply_to=self.replies[-1]))
        await settle(self.bot)
        answers = self.replies[before:]
        assert answers, f"no answer to {text!r}"
        return "\n".join(mail.text for mail in answers)


async def test_email_confirmation_of_a_new_order_by_numbers_and_words(
    email_server: LiveServer, relay: SmtpRelayDouble
) -> None:
    bot = email_server.bot
    nora = Mailbox(bot, relay, "nora.new@example.org")
    await shop(email_server, "POST", "/orders", **{
        "number": "E-7001",
        "customer": {"name": "Nora New", "email": nora.address, "language": "en",
                     "preferred_channel": "email"},
        "lines": [{"sku": "KB-110", "name": "Wireless keyboard", "quantity": 1,
                   "unit_price": "49.00"}],
        "currency": "EUR",
        "delivery": {"method": "courier", "address": {"city": "Leeds", "postcode": "LS1 1AA"}},
    })
    [request] = await relay.wait_for(1, nora.address)
    assert request.text.startswith("Thank you for your order E-7001 at Demo Shop!")
    assert ("Reply with the number of your choice:\n1. Yes, let's confirm\n"
            "2. Cancel the order") in request.text

    assert "How would you like to receive" in await nora.reply("1")
    days = await nora.reply("courier")
    first_day = re.search(r"^1\. (.+)$", days, re.MULTILINE)
    assert days.startswith("Which day?") and first_day is not None
    assert f"At what time on {first_day.group(1)}?" in await nora.reply("1")
    assert "How would you like to pay?" in await nora.reply("9-12")
    assert "voucher or loyalty code" in await nora.reply("2")  # bank transfer
    offer = await nora.reply("welcome10")
    assert "Code WELCOME10 takes 4.90 EUR off. New total: 44.10 EUR." in offer
    assert "Would you like to add HDMI cable 1.5 m for 11.00 EUR?" in offer
    final = await nora.reply("No, thanks")
    assert f"Delivery: courier on {first_day.group(1)}, 09:00-12:00" in final
    assert "Payment: Bank transfer" in final and "Total: 44.10 EUR" in final
    done = await nora.reply("1\n\nThanks, Nora")

    assert "Your order E-7001 is confirmed (44.10 EUR). Thank you!" in done
    url = re.search(r"Your confirmation: (\S+)", done)
    assert url is not None
    async with httpx.AsyncClient() as client:
        document = await client.get(url.group(1))
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    confirmed = await order_of(bot, "E-7001")
    assert (confirmed.status.value, confirmed.payment_method, confirmed.voucher_code,
            confirmed.delivery_slot) == ("confirmed", "bank_transfer", "WELCOME10", "09:00-12:00")
    assert nora.replies[-1]["References"].split()[0] == request["Message-ID"]  # one thread


async def test_email_return_in_polish_by_numbers_and_own_words(
    email_server: LiveServer, relay: SmtpRelayDouble
) -> None:
    bot = email_server.bot
    anna = Mailbox(bot, relay, "anna.kowalska@example.com")
    offer = (await anna.write("Dzień dobry, chcę zwrócić zamówienie A-1029.",
                              subject="Zwrot")).text
    # she wrote from the order's address: no other proof asked
    assert "Które chcesz odesłać?" in offer
    assert "2. Lampka biurkowa × 2, 39,00 EUR za sztukę" in offer
    assert ("Odpisz, podając numer wybranej opcji:\n1. Etui na laptopa 14\"\n2. Lampka biurkowa\n"
            "3. Wszystkie produkty") in offer

    quantity = await anna.reply("2")
    assert "Ile sztuk produktu Lampka biurkowa chcesz zwrócić (od 1 do 2)?" in quantity
    so_far = await anna.reply("1")
    assert "Na razie: 1 × Lampka biurkowa." in so_far
    reason = await anna.reply("dalej")
    assert "Dlaczego zwracasz: 1 × Lampka biurkowa?" in reason
    method = await anna.reply("Lampa miga po włączeniu")
    assert "Jak chcesz odesłać produkty?" in method
    done = await anna.reply("2")

    assert re.search(r"Gotowe! Twój zwrot R-\d{4}-\d{6} do zamówienia A-1029 został "
                     r"zarejestrowany: 1 × Lampka biurkowa\.", done)
    assert "nadaj ją w punkcie nadania" in done and "zwrócimy Ci 39,00 EUR" in done
    assert anna.replies[-1]["Subject"] == "Re: Zwrot"
    async with bot.database.transaction() as session:
        made = await session.scalar(select(Return))
    assert made is not None
    assert (made.reason, made.method) == ("Lampa miga po włączeniu", "drop_off")
    assert [(line["sku"], line["quantity"]) for line in made.lines] == [("LM-800", 1)]


async def test_email_return_numbers_only_the_items_a_number_picks(
    email_server: LiveServer, relay: SmtpRelayDouble
) -> None:
    """One mail shows the order's lines and the numbered options: the same numbers mean the
    same items, and the gift card that cannot go back has no number."""
    piotr = Mailbox(email_server.bot, relay, "piotr.nowak@example.com")
    offer = (await piotr.write("Dzień dobry, chcę zwrócić zamówienie A-1030.",
                               subject="Zwrot")).text
    assert ("\n1. Dysk SSD 1 TB × 2, 99,00 EUR za sztukę\n2. Karta microSD 128 GB × 1, "
            "22,00 EUR za sztukę\n• Karta podarunkowa 50 EUR × 2: nie podlega zwrotowi (karty "
            "podarunkowe i podobne produkty)\n") in offer
    assert ("Odpisz, podając numer wybranej opcji:\n1. Dysk SSD 1 TB\n2. Karta microSD 128 GB\n"
            "3. Wszystkie produkty\n4. Zapytaj konsultanta") in offer

    so_far = await piotr.reply("2")
    assert "Na razie: 1 × Karta microSD 128 GB." in so_far
    assert "\n1. Dysk SSD 1 TB × 2, 99,00 EUR za sztukę\n• Karta podarunkowa" in so_far
    assert ("Odpisz, podając numer wybranej opcji:\n1. Dysk SSD 1 TB\n2. Dalej\n"
            "3. Zapytaj konsultanta") in so_far
    assert "Ile sztuk produktu Dysk SSD 1 TB chcesz zwrócić (od 1 do 2)?" in await piotr.reply("1")
    assert "Dlaczego zwracasz: 2 × Dysk SSD 1 TB, 1 × Karta microSD 128 GB?" in (
        await piotr.reply("2"))
