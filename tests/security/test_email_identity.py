"""Nobody gets into someone else's order by mail: a From address is the customer only when the
shop's mail server authenticated it (its Authentication-Results on top: dmarc=pass for the
From domain, [email] authserv_id). Anyone else is a stranger who proves the order, is answered
without their own words, and may open only so many new threads.

The forger here sends from their own server (MAIL FROM mallory@...) with Olivia's address in
From, as anyone can; the shop's mail server puts its verdict on top before the bot sees it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.tables import Conversation, InboxRow
from tests.conftest import BotFactory
from tests.doubles.smtp_relay import (
    MTA,
    ReceivedMail,
    SmtpRelayDouble,
    authentication_results,
    customer_mail,
)
from tests.security.conftest import SHOP
from tests.security.test_isolation import leaked, order
from tests.servers import free_port

OLIVIA = "olivia.brown@example.com"  # A-1003 waits for her confirmation; A-1015 is on its way
MALLORY = "mallory@evil.example"
SPAM = "You won 500 EUR, claim at http://evil.example/claim"


def arriving(mail: EmailMessage, *verdicts: str) -> bytes:
    """The mail as the shop's mail server passes it on: its verdicts added on top."""
    return "".join(f"Authentication-Results: {v}\r\n" for v in verdicts).encode() + \
        mail.as_bytes()


def forged(text: str, reply_to: ReceivedMail | None = None, **headers: str) -> EmailMessage:
    return customer_mail(OLIVIA, text, to=SHOP, authenticated=False, reply_to=reply_to,
                         **headers)


def with_forged_verdicts(mail: EmailMessage) -> EmailMessage:
    """The forger writes "passes" into their mail too: with the shop server's id, another
    server's, and one that begins like the shop server's."""
    for server in (MTA, "mx.evil.example", MTA + ".evil.example"):
        mail["Authentication-Results"] = authentication_results(OLIVIA, authserv_id=server)
    return mail


# What the shop's server may say about a mail From Olivia's address that Mallory sent; in
# none of these cases has the server vouched for her address. (It writes a verdict on every
# mail, "none" when it checked nothing: docs/security.md.)
FORGERIES = {
    "nothing-checked": [f"{MTA}; none"],
    "dmarc-fail": [authentication_results(OLIVIA, dmarc="fail")],
    "no-dmarc-policy": [authentication_results(OLIVIA, dmarc="none")],
    "pass-for-another-domain": [authentication_results(OLIVIA, header_from="evil.example")],
    "spf-and-dkim-only": [f"{MTA}; spf=pass smtp.mailfrom=evil.example; dkim=pass "
                          "header.d=evil.example"],
}


async def send(bot: Orderbot, raw: bytes, envelope_from: str = MALLORY) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=bot.settings.email.listen_port) as client:
        await client.sendmail(envelope_from, [SHOP], raw)


async def answer_to(bot: Orderbot, relay: SmtpRelayDouble, raw: bytes,
                    address: str = OLIVIA) -> ReceivedMail:
    before = len(relay.to(address))
    await send(bot, raw)
    await bot.inbox.drain()
    return (await relay.wait_for(before + 1, address))[before]


async def email_conversations(bot: Orderbot) -> list[Conversation]:
    async with bot.database.transaction() as session:
        return list(await session.scalars(
            select(Conversation).where(Conversation.channel == "email").order_by(Conversation.id)))


# A forged From


@pytest.mark.parametrize("verdicts", FORGERIES.values(), ids=FORGERIES.keys())
async def test_a_forged_from_shows_none_of_the_customers_orders(
    mail_bot: Orderbot, relay: SmtpRelayDouble, verdicts: list[str]
) -> None:
    victim = await order(mail_bot, "A-1015")
    mail = with_forged_verdicts(forged("Where is my order A-1015?"))
    answer = await answer_to(mail_bot, relay, arriving(mail, *verdicts))

    assert "email address or the delivery postcode of order A-1015" in answer.text
    assert leaked([answer.text, answer.html], victim) == []
    [conversation] = await email_conversations(mail_bot)
    assert conversation.customer_id is None


@pytest.mark.parametrize("verdicts", [[], FORGERIES["dmarc-fail"]],
                         ids=["no-results-at-all", "dmarc-fail"])
async def test_a_forged_from_cannot_cancel_the_customers_order(
    mail_bot: Orderbot, relay: SmtpRelayDouble, verdicts: list[str]
) -> None:
    before = await order(mail_bot, "A-1003")
    asked = await answer_to(mail_bot, relay,
                            arriving(forged("Please cancel my order A-1003"), *verdicts))
    # The forger cannot read the answer; here they even know it, and answer "1".
    await answer_to(mail_bot, relay, arriving(forged("1", reply_to=asked), *verdicts))
    await answer_to(mail_bot, relay, arriving(forged("1", reply_to=asked), *verdicts))
    assert (await order(mail_bot, "A-1003")).status == before.status == "pending_confirmation"


async def test_an_authenticated_mail_is_the_customer_as_before(
    mail_bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    """The same requests with the server's aligned pass: her orders, answered in her thread."""
    question = customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP, subject="Parcel")
    answer = await answer_to(mail_bot, relay, question.as_bytes())
    assert (await order(mail_bot, "A-1015")).tracking_number in answer.text
    assert answer["Subject"] == "Re: Parcel"

    asked = await answer_to(mail_bot, relay, customer_mail(
        OLIVIA, "Please cancel my order A-1003", to=SHOP).as_bytes())
    assert "1. " in asked.text
    await answer_to(mail_bot, relay, customer_mail(OLIVIA, "1", to=SHOP,
                                                   reply_to=asked).as_bytes())
    assert (await order(mail_bot, "A-1003")).status == "cancelled"


async def test_a_forger_who_knows_the_customers_thread_gets_a_conversation_of_their_own(
    mail_bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    """Olivia's conversation knows her; a forged reply into her thread (with the bot's own
    Message-IDs in it) must not land there."""
    victim = await order(mail_bot, "A-1015")
    hers = await answer_to(mail_bot, relay, customer_mail(
        OLIVIA, "Where is my order A-1015?", to=SHOP).as_bytes())
    assert victim.tracking_number in hers.text

    forged_answer = await answer_to(mail_bot, relay, arriving(
        forged("And where is it now? Cancel A-1003 too", reply_to=hers)))
    assert leaked([forged_answer.text], victim) == []
    assert forged_answer["In-Reply-To"] != hers["In-Reply-To"]
    identified, stranger = await email_conversations(mail_bot)
    assert identified.customer_id is not None and stranger.customer_id is None
    assert (await order(mail_bot, "A-1003")).status == "pending_confirmation"


async def test_the_answer_to_an_unauthenticated_sender_repeats_nothing_of_theirs(
    mail_bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    """The shop's mail to whoever's address was in From carries no forger's words: neither
    the subject nor the display name; it still threads (In-Reply-To, References)."""
    mail = customer_mail(f'"Claim 500 EUR at http://evil.example" <{OLIVIA}>', "Hello",
                         to=SHOP, subject=SPAM, authenticated=False)
    answer = await answer_to(mail_bot, relay, mail.as_bytes())
    assert answer["Subject"] == "Your message to Demo Shop"
    assert "evil.example" not in answer.raw.decode("utf-8", "replace")
    assert answer["In-Reply-To"] == mail["Message-ID"]
    assert answer["References"] == mail["Message-ID"]
    assert answer["To"] == OLIVIA

    polish = customer_mail(OLIVIA, "Dzień dobry, gdzie jest moje zamówienie?", to=SHOP,
                           subject=SPAM, authenticated=False)
    assert (await answer_to(mail_bot, relay, polish.as_bytes()))["Subject"] == \
        "Twoja wiadomość do Demo Shop"


# New threads of unauthenticated senders

LIMIT = 2


@pytest.fixture
async def limited_bot(make_bot: BotFactory, relay: SmtpRelayDouble) -> AsyncIterator[Orderbot]:
    bot = await make_bot(
        http={"port": free_port()},
        email={"enabled": True, "listen_port": free_port(), "address": SHOP,
               "relay_host": "127.0.0.1", "relay_port": relay.port, "authserv_id": MTA},
        limits={"email_unverified_threads_per_address_per_minute": LIMIT,
                "email_unverified_threads_per_domain_per_minute": LIMIT + 1,
                "email_unverified_threads_per_minute": LIMIT + 2},
    )
    yield bot
    await bot.inbox.drain()
    await bot.outbox.drain()


async def inbox_rows(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return len(list(await session.scalars(select(InboxRow.id))))


async def unanswered_count(bot: Orderbot) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://127.0.0.1") as client:
        metrics = (await client.get("/metrics")).text
    line = 'orderbot_messages_unanswered_total{channel="email",reason="rate_limited"}'
    found = [row.split()[-1] for row in metrics.splitlines() if row.startswith(line)]
    return found[0] if found else "0"


@pytest.mark.parametrize("senders", [
    [OLIVIA] * (LIMIT + 1),  # one address
    [f"{name}@example.com" for name in ("ann", "bob", "cid", "dan")],  # one domain: LIMIT + 1
    [f"x@{domain}.example" for domain in ("a", "b", "c", "d", "e")],  # in all: LIMIT + 2
], ids=["per-address", "per-domain", "in-all"])
async def test_new_threads_of_unauthenticated_senders_past_the_limit_are_not_answered(
    limited_bot: Orderbot, relay: SmtpRelayDouble, senders: list[str]
) -> None:
    for sender in senders:
        await send(limited_bot, customer_mail(sender, "Hello", to=SHOP, subject=SPAM,
                                              authenticated=False).as_bytes())  # 250 each
    await limited_bot.inbox.drain()
    await limited_bot.outbox.drain()
    assert len(relay.received) == len(senders) - 1 == await inbox_rows(limited_bot)
    assert relay.to(senders[-1]) == [] or senders[-1] == senders[0]
    assert await unanswered_count(limited_bot) == "1.0"


async def test_the_limit_leaves_authenticated_mail_and_begun_conversations_alone(
    limited_bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    first = await answer_to(limited_bot, relay, forged("Hello").as_bytes())
    await answer_to(limited_bot, relay, forged("Hello again").as_bytes())
    await send(limited_bot, forged("A third new thread").as_bytes())  # past the limit

    await answer_to(limited_bot, relay, forged("Thanks", reply_to=first).as_bytes())  # begun
    mine = await answer_to(limited_bot, relay, customer_mail(
        OLIVIA, "Where is my order A-1015?", to=SHOP).as_bytes())
    assert (await order(limited_bot, "A-1015")).tracking_number in mine.text
    assert len(relay.to(OLIVIA)) == 4 and await unanswered_count(limited_bot) == "1.0"
