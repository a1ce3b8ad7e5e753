"""The email channel over real SMTP: a customer's mail client (aiosmtplib) talks to the bot's
listener, and the bot's answers go out through a relay double (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest
from sqlalchemy import func, select

from channels.email import EmailChannel
from channels.email.sending import RelaySender
from composition.app import make_app
from composition.bootstrap import Orderbot
from config import EmailSettings, SettingsError
from dialog.messages import DeliveryFailed
from dialog.proactive import Contact
from dialog.tables import Conversation, InboxRow, OutboxRow
from orders.tables import Customer as CustomerRow
from tests.conftest import API_KEY, BotFactory
from tests.doubles.smtp_relay import MTA, ReceivedMail, SmtpRelayDouble, customer_mail
from tests.servers import free_port

SHOP = "orders@shop.example"
OLIVIA = "olivia.brown@example.com"
ANNA = "anna.kowalska@example.com"
STRANGER = "someone.else@example.net"


@pytest.fixture
async def bot(make_bot: BotFactory, relay: SmtpRelayDouble) -> AsyncIterator[Orderbot]:
    started = await make_bot(email={"enabled": True, "listen_port": free_port(),
                                    "address": SHOP, "relay_host": "127.0.0.1",
                                    "relay_port": relay.port, "authserv_id": MTA})
    yield started
    # A test ends when the relay has a mail, while the sender may still be in its SMTP QUIT.
    # Let it finish first: a stop that cancels it there can hang (see the report on
    # OutboxSender.stop).
    await settle(started)


class MailClient:
    """One customer's mail client: sends to the bot's listener, reads what the relay got."""

    def __init__(self, bot: Orderbot, relay: SmtpRelayDouble, address: str) -> None:
        self.bot, self.relay, self.address = bot, relay, address

    async def send(self, message: EmailMessage, **options: Any) -> None:
        await aiosmtplib.send(message, hostname="127.0.0.1",
                              port=self.bot.settings.email.listen_port, **options)

    async def write(self, text: str, **mail: Any) -> ReceivedMail:
        """Send a mail; return the bot's answer as the relay received it."""
        before = len(self.replies)
        await self.send(customer_mail(self.address, text, to=SHOP, **mail))
        return await self.next_reply(before)

    @property
    def replies(self) -> list[ReceivedMail]:
        return self.relay.to(self.address)

    async def next_reply(self, before: int) -> ReceivedMail:
        await self.bot.inbox.drain()
        return (await self.relay.wait_for(before + 1, self.address))[before]


async def settle(bot: Orderbot) -> None:
    """Every recorded mail has been answered, and the answers sent (or given up)."""
    await bot.inbox.drain()
    await bot.outbox.drain()


async def tracking_number(bot: Orderbot, number: str) -> str:
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, number)
    assert order is not None and order.tracking_number
    return order.tracking_number


async def email_conversations(bot: Orderbot) -> list[Conversation]:
    async with bot.database.transaction() as session:
        rows = await session.scalars(select(Conversation).where(Conversation.channel == "email"))
        return list(rows)


async def inbox_rows(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxRow)) or 0)


def ids(header: str) -> list[str]:
    return header.split()


# Conversations


async def test_status_question_is_answered_in_the_same_thread(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    question = customer_mail(OLIVIA, "Hello, where is my order A-1015?", to=SHOP,
                             subject="Order A-1015")
    await olivia.send(question)
    answer = await olivia.next_reply(0)

    assert await tracking_number(bot, "A-1015") in answer.text  # no proof: she wrote from it
    assert answer.mail_from == SHOP and answer.rcpt_tos == [OLIVIA]
    assert answer["Subject"] == "Re: Order A-1015"
    assert answer["In-Reply-To"] == question["Message-ID"]
    assert ids(answer["References"]) == [question["Message-ID"]]
    assert answer["Auto-Submitted"] == "auto-replied"
    assert "Reply with the number of your choice:\n1. Another order\n2. Talk to a person" \
        in answer.text
    assert await tracking_number(bot, "A-1015") in answer.html
    assert "<ol><li>Another order</li><li>Talk to a person</li></ol>" in answer.html

    again = customer_mail(OLIVIA, "Thank you!", to=SHOP, reply_to=answer)
    await olivia.send(again)
    thanks = await olivia.next_reply(1)
    assert "welcome" in thanks.text
    assert thanks["In-Reply-To"] == again["Message-ID"]
    assert ids(thanks["References"]) == [question["Message-ID"], answer["Message-ID"],
                                         again["Message-ID"]]
    assert len(await email_conversations(bot)) == 1


async def test_a_stranger_proves_the_order_in_the_same_thread(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    stranger = MailClient(bot, relay, STRANGER)
    asked = await stranger.write("Where is my order A-1015?")
    assert "email address or the delivery postcode of order A-1015" in asked.text

    told = await stranger.write("EH1 1YZ", reply_to=asked)
    assert await tracking_number(bot, "A-1015") in told.text
    assert len(await email_conversations(bot)) == 1


async def test_a_polish_mail_gets_a_polish_answer(bot: Orderbot, relay: SmtpRelayDouble) -> None:
    anna = MailClient(bot, relay, ANNA)
    answer = await anna.write("Dzień dobry, gdzie jest moje zamówienie A-1017?",
                              subject="Zamówienie")
    assert "Zamówienie A-1017 jest w drodze" in answer.text
    assert "Odpisz, podając numer wybranej opcji:" in answer.text
    assert answer["Subject"] == "Re: Zamówienie"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("", "<html><body><p>Where is my order <b>A-1015</b>?</p>"
             "<blockquote>I want to talk to a person</blockquote></body></html>"),
        ("Where is my order A-1015?", "<p>I want to talk to a person</p>"),
        ("Where is my order A-1015?\n\n-- \nOlivia Brown\nTalk to a person: +44 131 496 0000\n\n"
         "On Mon, 2 Mar 2026 at 10:00, Shop <orders@shop.example> wrote:\n"
         "> I want to talk to a person\n> talk to a person\n", None),
    ],
    ids=["html-only-mail", "plain-alternative-preferred", "quotes-and-signature-ignored"],
)
async def test_only_what_the_customer_wrote_is_read(
    bot: Orderbot, relay: SmtpRelayDouble, text: str, html: str | None
) -> None:
    """The question is answered; "talk to a person" in a quote, signature or the HTML
    alternative of a plain mail escalates nothing."""
    olivia = MailClient(bot, relay, OLIVIA)
    answer = await olivia.write(text, html=html)
    assert await tracking_number(bot, "A-1015") in answer.text
    assert (await email_conversations(bot))[0].status == "bot"


@pytest.mark.parametrize(
    ("choice", "expected", "status"),
    [
        ("2", "passing you to a colleague", "escalated"),  # 2. Talk to a person
        ("Another order", "What is your order number?", "bot"),  # 1. Another order
    ],
    ids=["by-number", "by-words"],
)
async def test_answering_with_an_option_picks_it(
    bot: Orderbot, relay: SmtpRelayDouble, choice: str, expected: str, status: str
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    offered = await olivia.write("Where is my order A-1015?")
    assert "1. Another order\n2. Talk to a person" in offered.text

    answer = await olivia.write(choice, reply_to=offered)  # the quote repeats the options
    assert expected in answer.text
    [conversation] = await email_conversations(bot)
    assert conversation.status == status


async def test_answers_go_to_the_from_address_never_to_reply_to_or_the_envelope(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    """Someone who forges Olivia's From (and asks for the answer elsewhere) never reads it,
    and what Olivia gets tells nothing of her orders (tests/security/test_email_identity.py)."""
    forged = customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP, authenticated=False,
                           Reply_To=STRANGER, Sender=STRANGER, Return_Path=f"<{STRANGER}>")
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=bot.settings.email.listen_port) as client:
        await client.sendmail(STRANGER, [SHOP], forged.as_bytes())  # MAIL FROM the forger
    answer = await MailClient(bot, relay, OLIVIA).next_reply(0)
    assert await tracking_number(bot, "A-1015") not in answer.text
    assert "email address or the delivery postcode of order A-1015" in answer.text
    assert answer.rcpt_tos == [OLIVIA] and OLIVIA in answer["To"]
    assert STRANGER not in answer["To"] and not answer["Cc"] and not answer["Bcc"]
    await settle(bot)
    assert relay.to(STRANGER) == [] and len(relay.received) == 1


async def test_a_stranger_writing_into_a_customers_thread_gets_a_conversation_of_their_own(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    answer = await olivia.write("Where is my order A-1015?")
    stranger = MailClient(bot, relay, STRANGER)
    forged = await stranger.write("Where is my order?", reply_to=answer)  # knows her thread
    assert await tracking_number(bot, "A-1015") not in forged.text
    assert "What is your order number?" in forged.text
    assert len(await email_conversations(bot)) == 2


# The SMTP conversation


async def test_mail_for_another_address_is_refused(bot: Orderbot) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=bot.settings.email.listen_port)
    async with client:
        await client.mail(OLIVIA)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt("sales@shop.example")
        assert refused.value.code == 550
        assert (await client.rcpt(SHOP.upper())).code == 250


async def test_an_oversized_mail_is_refused(bot: Orderbot, relay: SmtpRelayDouble) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    huge = customer_mail(OLIVIA, "Where is my order A-1015?\n" + "x" * 70 + "\n", to=SHOP)
    huge.add_attachment(b"\0" * (11 * 1024 * 1024), maintype="image", subtype="jpeg",
                        filename="parcel.jpg")
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await olivia.send(huge)  # declares its size (SIZE=...): refused at MAIL FROM
    assert refused.value.code == 552
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=bot.settings.email.listen_port) as client:
        await client.mail(OLIVIA)  # no SIZE: refused after the data
        await client.rcpt(SHOP)
        with pytest.raises(aiosmtplib.SMTPDataError) as too_much:
            await client.data(huge.as_bytes())
        assert too_much.value.code == 552
    assert await inbox_rows(bot) == 0


async def test_malformed_mail_is_answered_or_refused_with_a_reason_never_half_recorded(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    nested = "".join(f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'
                     for i in range(3000))
    unreadable = (f"From: {OLIVIA}\r\nTo: {SHOP}\r\nMessage-ID: <deep@example.com>\r\n"
                  f'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n{nested}').encode()
    broken = (f"From: {OLIVIA}\r\nTo: {SHOP}\r\nMessage-ID: <broken@example.com>\r\n"
              "Content-Type: text/plain; charset=x-no-such-charset\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n%%% not base64 %%%\r\n").encode()
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=bot.settings.email.listen_port) as client:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.sendmail(OLIVIA, [SHOP], unreadable)
        assert refused.value.code == 554 and "more than 100 MIME parts" in refused.value.message
        assert await inbox_rows(bot) == 0
        await client.sendmail(OLIVIA, [SHOP], broken)  # 250: read as well as it goes
    olivia = MailClient(bot, relay, OLIVIA)
    answer = await olivia.next_reply(0)
    assert answer["In-Reply-To"] == "<broken@example.com>"
    assert await inbox_rows(bot) == 1


async def test_a_mail_seen_twice_is_answered_once(bot: Orderbot, relay: SmtpRelayDouble) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    mail = customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP)
    await olivia.send(mail)
    await olivia.send(mail)  # the customer's server retried after a lost 250
    await settle(bot)
    assert len(olivia.replies) == 1
    assert await inbox_rows(bot) == 1


def auto_reply() -> EmailMessage:
    return customer_mail(OLIVIA, "I am out of the office until Monday.", to=SHOP,
                         subject="Automatic reply: Your order", Auto_Submitted="auto-replied")


def bulk_mail() -> EmailMessage:
    return customer_mail(OLIVIA, "Where is my order A-1015? Our newsletter!", to=SHOP,
                         Precedence="bulk")


def list_mail() -> EmailMessage:
    return customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP,
                         List_Id="<news.example.com>")


def null_sender_mail() -> EmailMessage:
    return customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP)


def x_autoreply_mail() -> EmailMessage:
    return customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP, X_Autoreply="yes")


def junk_mail() -> EmailMessage:
    return customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP, Precedence="junk")


def read_receipt() -> EmailMessage:
    """A multipart/report that is no bounce (RFC 8098), from a person's address."""
    receipt = customer_mail(OLIVIA, "Where is my order A-1015? was displayed", to=SHOP)
    receipt.make_mixed()
    receipt.set_type("multipart/report")
    receipt.set_param("report-type", "disposition-notification")
    return receipt


@pytest.mark.parametrize("automatic, envelope_sender", [
    (auto_reply, OLIVIA), (bulk_mail, OLIVIA), (list_mail, OLIVIA), (null_sender_mail, ""),
    (x_autoreply_mail, OLIVIA), (junk_mail, OLIVIA), (read_receipt, OLIVIA),
])
async def test_automatic_mail_is_never_answered(
    bot: Orderbot, relay: SmtpRelayDouble, automatic: Any, envelope_sender: str
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=bot.settings.email.listen_port) as server:
        await server.sendmail(envelope_sender, [SHOP], automatic().as_bytes())
    question = customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP)
    await olivia.send(question)
    await olivia.next_reply(0)
    await settle(bot)
    assert [m["In-Reply-To"] for m in relay.received] == [question["Message-ID"]]


def bounce_of(mail: ReceivedMail, recipient: str) -> bytes:
    """What a receiving server sends back when `recipient` does not exist (RFC 3464)."""
    return (
        "From: MAILER-DAEMON@mx.example.com\r\n"
        f"To: {SHOP}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce.1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system. Your message could not be delivered.\r\n"
        "\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "\r\n--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {mail['Message-ID']}\r\nTo: {recipient}\r\n"
        "\r\n--b1--\r\n"
    ).encode()


async def test_a_bounce_marks_the_address_undeliverable_and_is_not_answered(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    answer = await olivia.write("Where is my order A-1015?")
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=bot.settings.email.listen_port) as server:
        await server.sendmail("", [SHOP], bounce_of(answer, OLIVIA))  # MAIL FROM:<>

    stranger = MailClient(bot, relay, STRANGER)
    await stranger.write("Hello")
    await settle(bot)
    assert len(relay.received) == 2  # Olivia's answer and the stranger's: nothing to the bounce
    async with bot.database.transaction() as session:
        marked = await session.scalar(
            select(CustomerRow.email_undeliverable).where(CustomerRow.email == OLIVIA))
    assert marked is True


# The relay


async def test_a_relay_that_says_try_later_gets_the_mail_again(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    relay.fail_next(1, 451, "RCPT")
    olivia = MailClient(bot, relay, OLIVIA)
    answer = await olivia.write("Where is my order A-1015?")
    await settle(bot)
    assert relay.refused == [("RCPT", 451)]
    assert olivia.replies == [answer]
    assert await tracking_number(bot, "A-1015") in answer.text


async def test_a_relay_that_refuses_for_good_is_given_up_and_recorded(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    relay.fail_next(1, 550, "DATA")
    olivia = MailClient(bot, relay, OLIVIA)
    await olivia.send(customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP))
    await settle(bot)
    assert relay.refused == [("DATA", 550)] and olivia.replies == []
    async with bot.database.transaction() as session:
        errors = list(await session.scalars(
            select(OutboxRow.last_error).where(OutboxRow.channel == "email")
        ))
    assert len(errors) == 1 and errors[0] is not None and "550" in errors[0]
    assert OLIVIA not in errors[0]  # the relay quoted the address; the record does not
    [conversation] = await email_conversations(bot)  # an operator must see she got nothing
    assert (conversation.status, conversation.escalation_reason) == ("escalated",
                                                                      "delivery_failed")

    stranger = MailClient(bot, relay, STRANGER)
    assert "order number" in (await stranger.write("Where is my order?")).text  # still works


async def test_an_unreachable_or_unsuitable_relay_is_retried_or_given_up(
    relay: SmtpRelayDouble
) -> None:
    message = EmailMessage()
    message["From"], message["To"] = SHOP, OLIVIA
    message.set_content("Hello")
    cases = [({"relay_port": free_port()}, False),  # connection refused: try again later
             ({"relay_port": relay.port, "relay_tls": "starttls"}, True)]  # no STARTTLS there
    for settings, permanent in cases:
        with pytest.raises(DeliveryFailed) as failed:
            await RelaySender(EmailSettings(**settings)).send(message, SHOP, OLIVIA)
        assert failed.value.permanent is permanent
    assert relay.received == []


# Proactive messages


async def test_a_new_order_opens_a_thread_the_customer_can_answer(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    new = "new.customer@example.org"
    body = {
        "number": "B-2001",
        "customer": {"name": "Nora New", "email": new, "language": "en",
                     "preferred_channel": "email"},
        "lines": [{"sku": "KB-100", "name": "Mechanical keyboard", "quantity": 1,
                   "unit_price": "89.00"}],
        "currency": "EUR",
        "delivery": {"method": "courier", "address": {"city": "Leeds", "postcode": "LS1 1AA"}},
        "payment": {"method": "card", "status": "paid"},
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://test",
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as api:
        assert (await api.post("/api/orders", json=body)).status_code == 201
    [created] = await relay.wait_for(1, new)
    assert "Thank you for your order B-2001" in created.text
    assert created["Auto-Submitted"] == "auto-generated"
    assert created["Subject"] == "Your order at Demo Shop"
    assert not created["In-Reply-To"]
    [conversation] = await email_conversations(bot)
    root = created["Message-ID"]
    assert conversation.chat_id.startswith(root.strip("<>") + "~")

    nora = MailClient(bot, relay, new)
    reply = customer_mail(new, "Where is my order B-2001?", to=SHOP, subject="Re: x")
    reply["In-Reply-To"] = root  # a client that keeps no References
    await nora.send(reply)
    answer = await nora.next_reply(1)
    assert "Order B-2001 is waiting for your confirmation" in answer.text
    assert answer["In-Reply-To"] == reply["Message-ID"]
    assert ids(answer["References"])[0] == root
    assert answer["Auto-Submitted"] == "auto-replied"

    again = customer_mail(new, "Thank you", to=SHOP)
    again["In-Reply-To"] = answer["Message-ID"]  # a later bot mail, again no References
    await nora.send(again)
    thanks = await nora.next_reply(2)
    assert ids(thanks["References"])[0] == root
    assert len(await email_conversations(bot)) == 1


async def test_only_customers_with_an_address_can_be_reached(bot: Orderbot) -> None:
    email = next(c for c in bot.channels if isinstance(c, EmailChannel))
    assert await email.open_conversation(Contact(1, "Nora", None, "en")) is None
    opened = await email.open_conversation(Contact(1, "Nora", "Nora@Example.org", "pl"))
    assert opened is not None
    _chat_id, context = opened
    assert context["to"] == "nora@example.org"
    assert context["subject"] == "Twoje zamówienie w Demo Shop"


# Settings


@pytest.mark.parametrize("change, key", [
    ({"address": "not an address"}, "email.address"),
    ({"listen_port": 0}, "email.listen_port"),
    ({"relay_username": "bot"}, "email.relay_username"),
])
def test_bad_settings_name_the_key(bot: Orderbot, change: dict[str, Any], key: str) -> None:
    settings = EmailSettings(enabled=True, **change)
    with pytest.raises(SettingsError, match=key):
        EmailChannel(settings, bot.conversations, base_url="http://x",
                     shop_name="Shop")


async def test_a_busy_listen_port_stops_the_start_with_the_key(bot: Orderbot) -> None:
    settings = EmailSettings(enabled=True, listen_port=bot.settings.email.listen_port)
    channel = EmailChannel(settings, bot.conversations, base_url="http://x",
                           shop_name="Shop")
    with pytest.raises(SettingsError, match="email.listen_port"):
        await channel.start()
