"""Payment questions in English, Polish and Russian: accepted methods, the payment status of a
proven order, a payment link for an unpaid one, the invoice as a PDF; nothing before proof."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.messages import Inbound
from orders.payments import PaymentFailed
from orders.service import OrderView
from orders.tables import Document, Order
from tests.dialog.conftest import Conversation

# From the demo shop (orders/demo.py).
UNPAID_EN = "A-1041"  # Sophie Turner, LS1 1UR, bank transfer, due in 10 days
UNPAID_PL = "A-1042"  # Marek Zieliński, 61-001, due in 2 days
OVERDUE_RU = "A-1043"  # Дмитрий Соколов, 420000, 3 days overdue
PAID = "A-1015"  # Olivia Brown, olivia.brown@example.com


async def order(bot: Orderbot, number: str) -> OrderView:
    async with bot.database.transaction() as session:
        found = await bot.orders.get_order(session, number)
    assert found is not None
    return found


def euros(minor: int, comma: bool = False) -> str:
    text = f"{minor / 100:.2f}"
    return (text.replace(".", ",") if comma else text) + " EUR"


async def fetch(bot: Orderbot, url: str) -> httpx.Response:
    path = url.split("://", 1)[1].split("/", 1)[1]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(bot)), base_url="http://test"
    ) as client:
        return await client.get("/" + path)


async def test_accepted_methods_need_no_order(conversation: Conversation) -> None:
    reply = await conversation.say("what payment methods do you accept?")
    assert reply == "You can pay by: card, BLIK, bank transfer, cash on delivery."


async def test_unpaid_order_status_link_and_invoice(
    conversation: Conversation, bot: Orderbot
) -> None:
    unpaid = await order(bot, UNPAID_EN)
    assert unpaid.payment_due_date is not None
    reply = await conversation.say(f"has my payment for {UNPAID_EN} arrived?")
    assert "postcode" in reply and "EUR" not in reply
    reply = await conversation.say("LS1 1UR")
    assert reply == (
        f"Order {UNPAID_EN} is not paid yet: {euros(unpaid.total_minor)} to pay by bank "
        f"transfer, due on {unpaid.payment_due_date.strftime('%d %b %Y')}."
    )
    assert [b.title for b in conversation.buttons] == [
        "Pay now", "Invoice (PDF)", "Payment methods"
    ]
    reply = await conversation.press("Pay now")
    assert reply == (
        f"Here is your payment link for order {UNPAID_EN} ({euros(unpaid.total_minor)}):\n"
        f"{bot.settings.base_url}/pay/{unpaid.pay_token}"
    )
    await conversation.say(f"status of payment for {UNPAID_EN}")
    reply = await conversation.press("Invoice (PDF)")
    assert reply.startswith(f"Here is the invoice for order {UNPAID_EN} (PDF):\n")
    pdf = await fetch(bot, reply.splitlines()[-1])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


async def test_asking_again_for_an_unchanged_invoice_gives_the_stored_one(
    conversation: Conversation, bot: Orderbot
) -> None:
    """Each press used to render and store one more PDF: a script could fill the database."""
    await conversation.say(f"has my payment for {UNPAID_EN} arrived?")
    await conversation.say("LS1 1UR")
    links = []
    for _ in range(3):
        await conversation.say(f"status of payment for {UNPAID_EN}")
        links.append((await conversation.press("Invoice (PDF)")).splitlines()[-1])
    assert links[0] == links[1] == links[2]
    assert await invoices_stored(bot, UNPAID_EN) == 1
    assert bot.services.invoices.renders == 1
    async with bot.database.transaction() as session:  # paid: a new invoice, marked paid
        await bot.orders.apply_event(session, UNPAID_EN, "payment_received", "test")
    await conversation.say(f"status of payment for {UNPAID_EN}")
    paid = (await conversation.press("Invoice (PDF)")).splitlines()[-1]
    assert paid != links[0] and (await fetch(bot, paid)).status_code == 200
    assert await invoices_stored(bot, UNPAID_EN) == 2


async def invoices_stored(bot: Orderbot, number: str) -> int:
    async with bot.database.transaction() as session:
        return len((await session.scalars(
            select(Document.id).join(Order, Order.id == Document.order_id)
            .where(Order.number == number, Document.kind == "invoice"))).all())


async def test_paid_order_says_paid_and_a_link_is_not_needed(
    conversation: Conversation, bot: Orderbot
) -> None:
    paid = await order(bot, PAID)
    await conversation.say(f"payment status of {PAID}")
    reply = await conversation.say("olivia.brown@example.com")
    assert reply == f"Order {PAID} is paid ({euros(paid.total_minor)}). Thank you!"
    assert await conversation.say(f"send me a payment link for {PAID}") == (
        f"Order {PAID} is paid already, there is nothing more to pay."
    )


async def test_polish_customer_sees_the_due_date_in_polish(
    conversation: Conversation, bot: Orderbot
) -> None:
    unpaid = await order(bot, UNPAID_PL)
    assert unpaid.payment_due_date is not None
    await conversation.say(f"Czy płatność za zamówienie {UNPAID_PL} dotarła?")
    reply = await conversation.say("61-001")
    assert reply == (
        f"Zamówienie {UNPAID_PL} nie jest jeszcze opłacone: do zapłaty "
        f"{euros(unpaid.total_minor, comma=True)}, płatność: przelewem, termin: "
        f"{unpaid.payment_due_date.strftime('%d.%m.%Y')}."
    )
    assert [b.title for b in conversation.buttons][0] == "Zapłać teraz"


async def test_russian_customer_gets_the_invoice(conversation: Conversation, bot: Orderbot) -> None:
    reply = await conversation.say(f"пришлите счёт на оплату заказа {OVERDUE_RU}")
    assert "индекс" in reply
    reply = await conversation.say("420000")
    assert reply.startswith(f"Вот счёт по заказу {OVERDUE_RU} (PDF):\n")
    assert (await fetch(bot, reply.splitlines()[-1])).content.startswith(b"%PDF")


async def test_someone_elses_order_shows_nothing(conversation: Conversation, bot: Orderbot) -> None:
    unpaid = await order(bot, UNPAID_EN)
    await conversation.say(f"payment link for {UNPAID_EN}")
    reply = await conversation.say("anna.kowalska@example.com")
    assert "couldn't find an order" in reply
    assert euros(unpaid.total_minor) not in reply and "/pay/" not in reply


async def test_a_forged_button_asks_for_proof_first(
    conversation: Conversation, bot: Orderbot
) -> None:
    replies = await bot.manager.handle(
        Inbound(key=conversation.key, action=f"payment:link:{UNPAID_EN}")
    )
    assert [r.text for r in replies] == [
        f"To keep your order private, please give me the email address or the delivery "
        f"postcode of order {UNPAID_EN}."
    ]


async def test_nonsense_answer_to_the_number_question_is_not_taken(
    conversation: Conversation,
) -> None:
    assert "order number" in await conversation.say("I want to pay my invoice")
    reply = await conversation.say("blue elephant")
    assert "Sorry, I didn't understand that" in reply


class BrokenPayments:
    async def payment_link(self, order: OrderView) -> str:
        raise PaymentFailed("payment provider answered 503")

    async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
        raise PaymentFailed("payment provider answered 503")


@pytest.fixture
def broken_payments(bot: Orderbot) -> None:
    bot.services.payments = BrokenPayments()


@pytest.mark.usefixtures("broken_payments")
async def test_provider_failure_gets_a_polite_answer_and_a_person(
    conversation: Conversation,
) -> None:
    await conversation.say(f"payment link for {UNPAID_EN}")
    reply = await conversation.say("sophie.turner@example.com")
    assert reply.startswith("Sorry, I can't create a payment link right now.")
    assert [b.title for b in conversation.buttons] == ["Talk to a person"]


async def test_a_verified_customer_is_not_asked_for_proof(bot: Orderbot) -> None:
    unpaid = await order(bot, UNPAID_EN)
    sophie = Conversation(bot, customer_id=unpaid.customer_id)
    reply = await sophie.say("did my payment go through?")
    assert reply.startswith(f"Order {UNPAID_EN} is not paid yet")
    assert isinstance(unpaid.payment_due_date, date)


async def test_someone_elses_order_looks_like_an_unknown_one(conversation: Conversation) -> None:
    await conversation.say(f"payment link for {UNPAID_EN}")
    wrong = await conversation.say("anna.kowalska@example.com")
    other = Conversation(conversation.bot)
    await other.say("payment link for A-9999")
    unknown = await other.say("anna.kowalska@example.com")
    assert wrong.replace(UNPAID_EN, "N") == unknown.replace("A-9999", "N")
    assert [b.title for b in conversation.buttons] == [b.title for b in other.buttons]


async def test_the_question_survives_a_wrong_proof(
    conversation: Conversation, bot: Orderbot
) -> None:
    unpaid = await order(bot, UNPAID_EN)
    await conversation.say(f"payment link for {UNPAID_EN}")
    assert "couldn't find an order" in await conversation.say("wrong@example.com")
    reply = await conversation.say("LS1 1UR")
    assert reply == (
        f"Here is your payment link for order {UNPAID_EN} ({euros(unpaid.total_minor)}):\n"
        f"{bot.settings.base_url}/pay/{unpaid.pay_token}"
    )


async def test_an_overdue_payment_says_it_was_due(
    conversation: Conversation, bot: Orderbot
) -> None:
    overdue = await order(bot, OVERDUE_RU)
    assert overdue.payment_due_date is not None
    await conversation.say(f"Дошла ли оплата заказа {OVERDUE_RU}?")
    reply = await conversation.say("420000")
    assert reply.startswith(f"Заказ {OVERDUE_RU} ещё не оплачен")
    assert f"Срок оплаты истёк {overdue.payment_due_date.strftime('%d.%m.%Y')}" in reply
