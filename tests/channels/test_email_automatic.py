"""Automatic mail is never answered and a person's mail always is (channels/email/automatic.py,
auto_reply_signs.py, bounce_formats.py): each sign on its own, the plain-text bounces of the
main MTAs with a non-empty envelope sender, who they say failed, the shop's extra patterns,
and over SMTP: not answered, logged without personal data, counted in /metrics by kind."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from sqlalchemy import select

from channels.email.automatic import (
    AUTO_REPLY,
    BOUNCE,
    BULK,
    CONFIGURED,
    OWN_MAIL,
    AutomaticRules,
)
from channels.email.parsing import parse_mail
from composition.app import make_app
from composition.bootstrap import Orderbot
from config import SettingsError, load_settings
from orders.tables import Customer as CustomerRow
from tests.conftest import BotFactory
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble, customer_mail
from tests.servers import free_port

DOMAIN = "shop.example"
SHOP = "orders@shop.example"
OLIVIA = "olivia.brown@example.com"
FORWARDER = "SRS0=x9Kq=NB=example.org=orders@forwarder.example"
OUR_ID = "<ob.7.0a1b2c3d4e.rn5xw4ylu@shop.example>"


def mail(headers: str, body: str = "Where is my order A-1015?") -> bytes:
    head = "\r\n".join(line.strip() for line in headers.strip().splitlines())
    if "From:" not in head:
        head = "From: Olivia Brown <olivia.brown@example.com>\r\n" + head
    return (f"{head}\r\nTo: {SHOP}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"\r\n{body}").replace("\r\n", "\n").replace("\n", "\r\n").encode()


def kind(raw: bytes, mail_from: str | None = OLIVIA) -> str | None:
    return parse_mail(raw, mail_from, DOMAIN).automatic


# Headers and subjects

@pytest.mark.parametrize("headers, expected", [
    ("X-Precedence: bulk", BULK),
    ("X-Precedence: auto_reply", AUTO_REPLY),
    ("X-Precedence: junk", BULK),
    ("Precedence: auto-reply", AUTO_REPLY),
    ("X-Autoresponder: vacation 1.2", AUTO_REPLY),
    ("X-Autoreply: yes", AUTO_REPLY),
    ("X-Autoreply: no", None),
    ("X-Autoreply: false", None),
    ("X-Auto-Response-Suppress: All", AUTO_REPLY),
    ("X-Auto-Response-Suppress: OOF, AutoReply", None),  # a request to us, not a statement
    ("X-Loop: helpdesk@example.com", AUTO_REPLY),
    ("List-Post: <mailto:news@example.com>", BULK),
    ("List-Help: <mailto:news-request@example.com?subject=help>", BULK),
    ("List-Subscribe: <mailto:news-join@example.com>", BULK),
    ("List-Owner: <mailto:news-owner@example.com>", BULK),
    ("List-Archive: <https://lists.example.com/news/>", BULK),
    ("From: Shop alerts <no-reply@alerts.example.com>", AUTO_REPLY),
    (f"Message-ID: {OUR_ID}", OWN_MAIL),  # our own mail coming back through a forward
    ("Message-ID: <ob.7.0a1b2c3d4e@shop.example>", OWN_MAIL),
    # A colleague at the shop's own domain is a person.
    ("From: Anna <anna@shop.example>\nMessage-ID: <DB9PR01MB12@shop.example>", None),
    ("Auto-Submitted: no\nPrecedence: first-class", None),
])
def test_each_header_sign(headers: str, expected: str | None) -> None:
    assert kind(mail(headers)) == expected


@pytest.mark.parametrize("subject", [
    "Automatic reply: Your order A-1015", "Auto-Reply: Your order", "Autosvar: Din ordre",
    "OOO: back on Monday", "OOF: Your order", "Out of Office: Re: your order",
    "Out of Office AutoReply: Order", "Out of the office", "Abwesenheitsnotiz: Ihre Bestellung",
    "Réponse automatique : Votre commande", "Risposta automatica: Ordine",
    "Respuesta automática: Su pedido", "Automatisch antwoord: Uw bestelling",
    "Автоответ: Ваш заказ", "Автоматический ответ: заказ", "Odpowiedź automatyczna: Zamówienie",
    "Automatyczna odpowiedź: Zamówienie", "Nieobecność w biurze: Zamówienie",
    "Poza biurem: zamówienie", "Jan Kowalski is out of the office.",
])
def test_out_of_office_subjects(subject: str) -> None:
    assert kind(mail(f"Subject: {subject}")) == AUTO_REPLY


@pytest.mark.parametrize("subject, body", [
    ("Re: Out of office policy question", "Can you hold my parcel?"),
    ("Out of office policy question", "I'll be away, can you hold order A-1030?"),
    ("Re: Automatic reply: my return", "Thanks, but I need a person."),
    ("Delivery failure - parcel never arrived", "The courier says delivery failed."),
    ("Failure notice from the courier", "They left a failure notice card."),
    ("Mail delivery failed for my address?", "Your confirmation never reached me."),
    ("Undeliverable address on my order", "Wrong postcode on A-1063."),
    ("Automatic payment didn't go through", "The automatic card payment failed."),
    ("OOO next week - please deliver Monday", "Thanks"),
    ("Fwd: Undelivered Mail Returned to Sender",
     "Is this the right address?\n\n---------- Forwarded message ---------\n"
     "This is the mail system at host mx.example.net.\n"),
    ("Niedostarczona paczka", "Kurier napisał, że paczka nie została dostarczona."),
    ("Nieobecność w domu w piątek", "Proszę przełożyć dostawę."),
    ("Не доставлено", "Курьер написал, что не удалось доставить заказ A-1307."),
    ("Ошибка доставки", "Мне привезли чужой заказ."),
])
def test_people_using_the_words_of_automatic_mail_are_answered(subject: str, body: str) -> None:
    raw = mail(f"Subject: {subject}", body)
    assert (kind(raw), kind(raw, FORWARDER)) == (None, None)
    assert parse_mail(raw, OLIVIA, DOMAIN).text


# Plain-text bounces of the main MTAs, from a relay that is no MAILER-DAEMON

RETURNED = f"Message-ID: {OUR_ID}\nFrom: Demo Shop <{SHOP}>\nTo: {OLIVIA}\nSubject: Re: order\n"
TEXT_BOUNCES = {
    "gmail": ("Delivery Status Notification (Failure)",
              "** Address not found **\n\nYour message wasn't delivered to "
              f"{OLIVIA} because the address couldn't be found.\n\n"
              f"Delivery to the following recipient failed permanently:\n\n     {OLIVIA}\n\n"
              f"----- Original message -----\n\n{RETURNED}"),
    "qmail": ("failure notice",
              "Hi. This is the qmail-send program at mx.example.net.\nI'm afraid I wasn't able "
              f"to deliver your message to the following addresses.\n\n<{OLIVIA}>:\nSorry, no "
              f"mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the "
              f"message.\n\n{RETURNED}"),
    "exim": ("Mail delivery failed: returning message to sender",
             "This message was created automatically by mail delivery software.\n\nA message "
             "that you sent could not be delivered to one or more of its\nrecipients. This is "
             f"a permanent error. The following address(es) failed:\n\n  {OLIVIA}\n    "
             "SMTP error from remote mail server after RCPT TO: 550 Unknown user\n\n"
             f"------ This is a copy of the message, including all the headers. ------\n\n"
             f"{RETURNED}"),
    "postfix": ("Undelivered Mail Returned to Sender",
                "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform "
                "you that your message could not\nbe delivered to one or more recipients.\n\n"
                f"<{OLIVIA}>: host mx.example.com[192.0.2.1] said: 550 5.1.1 User unknown\n\n"
                f"{RETURNED}"),
    "sendmail": ("Returned mail: see transcript for details",
                 "The original message was received at Mon, 3 Jun 2024 10:00:00 +0200\n\n"
                 "   ----- The following addresses had permanent fatal errors -----\n"
                 f"<{OLIVIA}>\n    (reason: 550 5.1.1 User unknown)\n\n"
                 f"   ----- Original message follows -----\n{RETURNED}"),
    "yahoo": ("Failure Notice",
              "Sorry, we were unable to deliver your message to the following address.\n\n"
              f"<{OLIVIA}>:\n554: delivery error: dd This user doesn't have an account\n\n"
              f"--- Below this line is a copy of the message.\n\n{RETURNED}"),
    "exchange": ("Undeliverable: Re: order",
                 "Your message did not reach some or all of the intended recipients.\n\n"
                 f"Delivery has failed to these recipients or groups:\n\n{OLIVIA}\nThe e-mail "
                 f"address you entered couldn't be found.\n\nOriginal message headers:\n\n"
                 f"{RETURNED}"),
    "exchange online": ("Undeliverable: Re: order",
                        f"Your message to {OLIVIA} couldn't be delivered.\n\n"
                        f"olivia.brown wasn't found at example.com.\n\n{OLIVIA}\n\n"
                        f"Original message headers:\n\n{RETURNED}"),
    "lotus notes": ("DELIVERY FAILURE: User olivia.brown not listed in Domino Directory",
                    f"Your message\n\n  Subject: Re: order\n\nwas not delivered to:\n\n  "
                    f"{OLIVIA}\n\nbecause:\n\n  User not listed in Domino Directory\n\n"
                    f"{RETURNED}"),
    "polish": ("Niedostarczona wiadomość",
               "Wiadomość nie została dostarczona do następujących odbiorców:\n\n"
               f"{OLIVIA}\n\nPowód: skrzynka nie istnieje\n\n{RETURNED}"),
    "russian": ("Не доставлено: Re: order",
                "Ваше сообщение не доставлено следующим получателям:\n\n"
                f"{OLIVIA}\n\nПричина: почтовый ящик не существует\n\n{RETURNED}"),
}


@pytest.mark.parametrize("mta", list(TEXT_BOUNCES))
def test_plain_text_bounces_are_recognised_and_name_who_failed(mta: str) -> None:
    subject, body = TEXT_BOUNCES[mta]
    raw = mail(f"From: Mail notices <notices@relay.example>\nSubject: {subject}\n"
               "Message-ID: <n1@relay.example>", body)
    parsed = parse_mail(raw, FORWARDER, DOMAIN)
    assert (parsed.automatic, parsed.failed_recipients, parsed.text) == \
        (BOUNCE, [OLIVIA], "")


def test_a_bounce_of_someone_elses_mail_or_a_delay_marks_nobody() -> None:
    subject, body = TEXT_BOUNCES["qmail"]
    someone_else = body.replace(OUR_ID, "<x1@elsewhere.example>")
    raw = mail(f"From: MAILER-DAEMON@mx.example.net\nSubject: {subject}", someone_else)
    assert parse_mail(raw, FORWARDER, DOMAIN).failed_recipients == []
    delay = mail("From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
                 "Subject: Warning: message 1abc delayed 24 hours",
                 f"This message was created automatically by mail delivery software.\n"
                 f"A message that you sent has not yet been delivered to one or more of its\n"
                 f"recipients after more than 24 hours on the queue.\n\n  {OLIVIA}\n\n"
                 f"No action is required on your part.\n\n{RETURNED}")
    parsed = parse_mail(delay, FORWARDER, DOMAIN)
    assert (parsed.automatic, parsed.failed_recipients) == (BOUNCE, [])


def test_exims_failed_recipients_header_names_them() -> None:
    subject, body = TEXT_BOUNCES["exim"]
    raw = mail(f"X-Failed-Recipients: {OLIVIA}\nSubject: {subject}", body)
    assert parse_mail(raw, FORWARDER, DOMAIN).failed_recipients == [OLIVIA]


@pytest.mark.parametrize("sender", [
    "From: MAILER-DAEMON@mx.example.net", "From: Mail Delivery System <bounces@mx.example.net>",
    "From: postmaster@example.net", "From: MAILER-DAEMON <>",
    "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.com>",
    "Return-Path: <MAILER-DAEMON>",
])
def test_a_mail_system_as_sender_is_a_bounce(sender: str) -> None:
    assert kind(mail(f"{sender}\nSubject: Notice", "Something happened.")) == BOUNCE


# The shop's extra patterns

def test_extra_patterns_refuse_what_they_name_and_nothing_else() -> None:
    rules = AutomaticRules.from_settings([r"Ticket #\d+ (?:received|closed)"],
                                         ["X-Mailer: Helpdesk", r"From: .*\bmonitoring@"])
    for headers in ("Subject: Ticket #123 received", "X-Mailer: HelpDesk 4.2",
                    "From: Ops <monitoring@example.com>"):
        parsed = parse_mail(mail(headers), OLIVIA, DOMAIN, rules=rules)
        assert (parsed.automatic, parsed.text) == (CONFIGURED, "")
    person = parse_mail(mail("Subject: Re: Ticket #123 received\nX-Mailer: Outlook"), OLIVIA,
                        DOMAIN, rules=rules)
    assert person.automatic is None


@pytest.mark.parametrize("name, value, key", [
    ("ORDERBOT__EMAIL__AUTOMATIC_SUBJECTS", '["Ticket (unclosed"]', "email.automatic_subjects"),
    ("ORDERBOT__EMAIL__AUTOMATIC_HEADERS", '["no colon here"]', "email.automatic_headers"),
    ("ORDERBOT__EMAIL__AUTOMATIC_HEADERS", '["X-Mailer: ["]', "email.automatic_headers"),
    ("ORDERBOT__EMAIL__AUTOMATIC_HEADERS", '["Bad Name: x"]', "email.automatic_headers"),
])
def test_a_bad_pattern_stops_the_start_naming_its_key(name: str, value: str, key: str) -> None:
    settings_toml = Path(__file__).resolve().parents[2] / "settings.toml"
    with pytest.raises(SettingsError) as refused:
        load_settings(settings_toml, {name: value})
    assert str(refused.value).startswith(key + ":")
    assert "\n" not in str(refused.value)


# Over SMTP

@pytest.fixture
async def bot(make_bot: BotFactory, relay: SmtpRelayDouble) -> AsyncIterator[Orderbot]:
    started = await make_bot(email={"enabled": True, "listen_port": free_port(),
                                    "address": SHOP, "relay_host": "127.0.0.1",
                                    "relay_port": relay.port, "authserv_id": MTA,
                                    "automatic_subjects": ["Ticket #[0-9]+ received"]})
    yield started
    await started.inbox.drain()
    await started.outbox.drain()


async def refused_counts(bot: Orderbot) -> dict[str, str]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://127.0.0.1") as client:
        metrics = (await client.get("/metrics")).text
    prefix = 'orderbot_email_refused_total{kind="'
    return {row[len(prefix):].split('"')[0]: row.split()[-1]
            for row in metrics.splitlines() if row.startswith(prefix)}


async def test_automatic_mail_over_smtp_is_logged_counted_and_never_answered(
    bot: Orderbot, relay: SmtpRelayDouble, caplog: pytest.LogCaptureFixture
) -> None:
    question = customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP)
    await aiosmtplib.send(question, hostname="127.0.0.1", port=bot.settings.email.listen_port)
    await bot.inbox.drain()
    answer = (await relay.wait_for(1, OLIVIA))[0]
    subject, body = TEXT_BOUNCES["qmail"]
    bounce = mail(f"From: MAILER-DAEMON@mx.example.com\nSubject: {subject}",
                  body.replace(OUR_ID, str(answer["Message-ID"])))
    out_of_office = customer_mail(OLIVIA, "Back on Monday.", to=SHOP,
                                  subject="Automatische Antwort: Your order")
    ticket = customer_mail(OLIVIA, "We got it.", to=SHOP, subject="Ticket #42 received")
    caplog.set_level(logging.INFO, logger="channels.email.listener")
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=bot.settings.email.listen_port) as server:
        await server.sendmail(FORWARDER, [SHOP], bounce)  # not the null sender
        await server.sendmail(OLIVIA, [SHOP], out_of_office.as_bytes())
        await server.sendmail(OLIVIA, [SHOP], ticket.as_bytes())
    await bot.inbox.drain()
    await bot.outbox.drain()

    assert len(relay.received) == 1  # the answer to the question, nothing more
    assert await refused_counts(bot) == {"bounce": "1.0", "auto_reply": "1.0",
                                         "configured": "1.0"}
    async with bot.database.transaction() as session:
        marked = await session.scalar(
            select(CustomerRow.email_undeliverable).where(CustomerRow.email == OLIVIA))
    assert marked is True
    logged = [r.getMessage() for r in caplog.records if "not answered" in r.getMessage()]
    assert logged == ["email: mail not answered: bounce (From of a mail system)",
                      "email: mail not answered: auto_reply (out-of-office subject)",
                      "email: mail not answered: configured (email.automatic_subjects)"]
