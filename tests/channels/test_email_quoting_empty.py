"""A mail with no text of its own, over real SMTP: the customer is asked, in their language,
whether they meant to write something; nothing reaches the dialog and no conversation starts.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.tables import Conversation, InboxRow
from tests.channels import test_email
from tests.channels.test_email import ANNA, OLIVIA, SHOP, MailClient
from tests.doubles.smtp_relay import SmtpRelayDouble, customer_mail

IVAN = "ivan.petrov@example.com"
bot = test_email.bot  # the same bot fixture: email on, the relay double as its relay


async def recorded(bot: Orderbot) -> tuple[int, int]:
    """(inbox rows, email conversations): what reached the dialog."""
    async with bot.database.transaction() as session:
        inbox = await session.scalar(select(func.count()).select_from(InboxRow))
        conversations = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.channel == "email"))
    return int(inbox or 0), int(conversations or 0)


async def asked_count(bot: Orderbot) -> str:
    """What /metrics counts of mails answered with the question instead of the dialog."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://127.0.0.1") as client:
        metrics = (await client.get("/metrics")).text
    line = 'orderbot_messages_unanswered_total{channel="email",reason="no_new_text"}'
    found = [row.split()[-1] for row in metrics.splitlines() if row.startswith(line)]
    return found[0] if found else "0"


@pytest.mark.parametrize("address, body, subject, question", [
    (OLIVIA, "On Mon, 2 Mar 2026 at 10:00, Shop <orders@shop.example> wrote:\n> Your order\n",
     "Re: Your order", "Did you mean to write something?"),
    (ANNA, "\n\nWysłane z iPhone'a\n\nW dniu 2.03.2026 o 10:00, Sklep pisze:\n> Zamówienie\n",
     "Odp: Twoje zamówienie", "Czy chciałeś(-aś) coś napisać?"),
    (IVAN, "\n\n2 марта 2026 г., в 10:00, Магазин <orders@shop.example> написал(а):\n"
     "> Ваш заказ подтверждён\n", "Re: Ваш заказ", "Вы хотели что-то написать?"),
])
async def test_a_mail_with_only_a_quote_is_asked_about_in_its_language(
    bot: Orderbot, relay: SmtpRelayDouble, address: str, body: str, subject: str,
    question: str,
) -> None:
    client = MailClient(bot, relay, address)
    sent = customer_mail(address, body, to=SHOP, subject=subject)
    await client.send(sent)
    answer = (await relay.wait_for(1, address))[0]

    assert question in answer.text
    assert answer["In-Reply-To"] == sent["Message-ID"]  # in the customer's thread
    assert answer["Auto-Submitted"] == "auto-replied"
    assert await recorded(bot) == (0, 0)  # the dialog never saw it


async def test_an_html_only_quote_is_asked_about_in_the_language_of_its_words(
    bot: Orderbot, relay: SmtpRelayDouble,
) -> None:
    """An HTML mail whose only words are a Russian quote: its markup (Latin letters) is not
    read as English."""
    client = MailClient(bot, relay, IVAN)
    html = ('<div dir="ltr"><br></div><div class="gmail_quote"><div dir="ltr"'
            ' class="gmail_attr">2 марта 2026 г., в 10:00, Магазин &lt;orders@shop.example&gt;'
            ' написал(а):<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px'
            ' 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Ваш заказ'
            ' отправлен, номер для отслеживания придёт отдельным письмом</blockquote></div>')
    await client.send(customer_mail(IVAN, "", to=SHOP, subject="Re: Заказ", html=html))
    answer = (await relay.wait_for(1, IVAN))[0]

    assert "Вы хотели что-то написать?" in answer.text
    assert await recorded(bot) == (0, 0)


async def test_an_empty_mail_is_asked_about_and_the_next_real_one_is_answered(
    bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    await olivia.send(customer_mail(OLIVIA, "", to=SHOP))
    question = (await relay.wait_for(1, OLIVIA))[0]
    assert "Did you mean to write something?" in question.text
    assert await asked_count(bot) == "1.0"

    answer = await olivia.write("Where is my order A-1015?")
    assert "A-1015" in answer.text
    assert (await recorded(bot))[0] == 1  # only the real question was recorded
