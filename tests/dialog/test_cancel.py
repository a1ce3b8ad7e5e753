"""Cancel an order: proof first, a yes/no confirmation, stock back and a refund for a paid
order; after shipping an explanation and a return instead. Never reveals another's order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.messages import Inbound
from dialog.tables import Conversation as ConversationRow
from orders.payments import PaymentFailed
from orders.service import OrderView
from orders.states import OrderStatus
from orders.tables import Customer, Product
from tests.dialog.conftest import Conversation


@pytest.fixture
def conversation(bot: Orderbot) -> Conversation:
    """These customers prove their orders by email/postcode, so a change that needs the
    strong level (docs/security.md) has them type the one-time code sent to them."""
    return Conversation(bot, answers_codes=True)


# From the demo shop (orders/demo.py).
CONFIRMED_PAID = "A-1014"  # James Wilson, M1 1AE, card, paid
CONFIRMED_PL = "A-1007"  # Katarzyna Wiśniewska, 80-001
CONFIRMED_RU = "A-1010"  # Мария Смирнова, 190000
PENDING_UNPAID = "A-1002"  # James Wilson, M1 1AE
SHIPPED = "A-1015"  # Olivia Brown, EH1 1YZ
DELIVERED = "A-1025"  # Emma Thompson, SW1A 1AA
CANCELLED = "A-1033"  # Иван Петров, 101000


async def order(bot: Orderbot, number: str) -> OrderView:
    async with bot.database.transaction() as session:
        found = await bot.orders.get_order(session, number)
    assert found is not None
    return found


async def stock(bot: Orderbot, skus: list[str]) -> dict[str, int]:
    async with bot.database.transaction() as session:
        rows = await session.execute(
            select(Product.sku, Product.stock).where(Product.sku.in_(skus))
        )
        return {sku: count for sku, count in rows}


def euros(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d} EUR"


async def test_paid_order_is_cancelled_after_yes_with_stock_back_and_refund(
    conversation: Conversation, bot: Orderbot
) -> None:
    before = await order(bot, CONFIRMED_PAID)
    skus = [line.sku for line in before.lines]
    stock_before = await stock(bot, skus)
    assert "postcode" in await conversation.say(f"please cancel my order {CONFIRMED_PAID}")
    reply = await conversation.say("M1 1AE")
    assert reply.startswith(f"Cancel order {CONFIRMED_PAID}? You have paid "
                            f"{euros(before.total_minor)}")
    assert [b.title for b in conversation.buttons] == ["Yes, cancel it", "No, keep it"]
    assert (await order(bot, CONFIRMED_PAID)).status is OrderStatus.CONFIRMED  # not yet

    reply = await conversation.say("yes")
    assert reply.startswith(f"Order {CONFIRMED_PAID} is cancelled. A refund of "
                            f"{euros(before.total_minor)} has been started")
    after = await order(bot, CONFIRMED_PAID)
    assert after.status is OrderStatus.CANCELLED
    assert after.refunded_minor == before.total_minor
    assert after.history[-1].cause.startswith("refund started: local-refund-")
    back = await stock(bot, skus)
    for line in before.lines:
        assert back[line.sku] == stock_before[line.sku] + line.quantity


async def test_no_keeps_the_order(conversation: Conversation, bot: Orderbot) -> None:
    await conversation.say(f"cancel {CONFIRMED_PAID} M1 1AE")
    assert await conversation.press("No, keep it") == (
        f"All right, order {CONFIRMED_PAID} stays as it is."
    )
    assert "cancelled" not in await conversation.say("yes")  # no longer a question about it
    assert (await order(bot, CONFIRMED_PAID)).status is OrderStatus.CONFIRMED


async def test_nonsense_gets_a_polite_reask(conversation: Conversation, bot: Orderbot) -> None:
    await conversation.say(f"cancel {CONFIRMED_PAID} M1 1AE")
    reply = await conversation.say("purple elephants")
    assert reply == f"Sorry, I need a yes or a no: shall I cancel order {CONFIRMED_PAID}?"
    assert [b.title for b in conversation.buttons] == ["Yes, cancel it", "No, keep it"]
    assert "is cancelled" in await conversation.press("Yes, cancel it")


async def test_the_buttons_words_and_numbers_work_as_answers(bot: Orderbot) -> None:
    typed = Conversation(bot, answers_codes=True)
    await typed.say(f"cancel {CONFIRMED_PAID} M1 1AE")
    assert "stays as it is" in await typed.say("2.")
    numbered = Conversation(bot, answers_codes=True)
    await numbered.say(f"cancel {PENDING_UNPAID} M1 1AE")
    assert await numbered.say("yes, cancel it") == f"Order {PENDING_UNPAID} is cancelled."


async def test_unpaid_pending_order_needs_no_refund(
    conversation: Conversation, bot: Orderbot
) -> None:
    reply = await conversation.say(f"I want to cancel {PENDING_UNPAID}, postcode M1 1AE")
    assert reply == f"Cancel order {PENDING_UNPAID}? Please answer yes or no."
    assert await conversation.say("1") == f"Order {PENDING_UNPAID} is cancelled."
    cancelled = await order(bot, PENDING_UNPAID)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.refunded_minor == 0


async def test_after_shipping_the_bot_explains_and_offers_a_return(
    conversation: Conversation, bot: Orderbot
) -> None:
    reply = await conversation.say(f"cancel order {SHIPPED}, olivia.brown@example.com")
    assert "already been shipped, so it can no longer be cancelled" in reply
    assert [(b.title, b.payload) for b in conversation.buttons] == [
        ("Return it instead", f"returns:order:{SHIPPED}"), ("Talk to a person", "intent:human"),
    ]
    assert (await order(bot, SHIPPED)).status is OrderStatus.SHIPPED
    reply = await conversation.press("Return it instead")  # the same order, no number asked
    assert f"{SHIPPED} hasn't been delivered yet" in reply
    delivered = Conversation(bot, answers_codes=True)
    reply = await delivered.say(f"cancel {DELIVERED} sw1a1aa")
    assert "already been delivered" in reply and "you can return it" in reply
    reply = await delivered.press("Return it instead")
    assert f"return items from order {DELIVERED} until" in reply


async def test_an_already_cancelled_order(bot: Orderbot) -> None:
    conversation = Conversation(bot, answers_codes=True)
    reply = await conversation.say(f"отменить заказ {CANCELLED} индекс 101000")
    assert reply == f"Заказ {CANCELLED} уже отменён."


async def test_someone_elses_order_looks_like_an_unknown_one(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say(f"cancel my order {CONFIRMED_PAID}")
    wrong = await conversation.say("anna.kowalska@example.com")
    other = Conversation(bot, answers_codes=True)
    await other.say("cancel my order A-9999")
    unknown = await other.say("anna.kowalska@example.com")
    assert "couldn't find an order" in wrong
    assert wrong.replace(CONFIRMED_PAID, "N") == unknown.replace("A-9999", "N")
    # The status flow answers the same way.
    status = Conversation(bot, answers_codes=True)
    await status.say(f"where is my order {CONFIRMED_PAID}")
    assert await status.say("anna.kowalska@example.com") == wrong
    assert (await order(bot, CONFIRMED_PAID)).status is OrderStatus.CONFIRMED


async def test_a_stale_yes_button_of_an_unproven_order_asks_for_proof(bot: Orderbot) -> None:
    stranger = Conversation(bot, answers_codes=True)
    replies = await bot.manager.handle(
        Inbound(key=stranger.key, action=f"cancel:yes:{CONFIRMED_PAID}")
    )
    assert "postcode" in replies[0].text
    assert (await order(bot, CONFIRMED_PAID)).status is OrderStatus.CONFIRMED


async def test_polish_cancellation(conversation: Conversation, bot: Orderbot) -> None:
    assert "kod pocztowy" in await conversation.say(f"anuluj zamówienie {CONFIRMED_PL}")
    reply = await conversation.say("80-001")
    assert reply.startswith(f"Anulować zamówienie {CONFIRMED_PL}? Zapłacono ")
    assert "," in reply.split("Zapłacono ")[1][:8]  # 37,50 EUR
    reply = await conversation.say("tak")
    assert reply.startswith(f"Zamówienie {CONFIRMED_PL} zostało anulowane. Rozpoczęliśmy zwrot")
    assert (await order(bot, CONFIRMED_PL)).status is OrderStatus.CANCELLED


async def test_russian_cancellation_by_button(conversation: Conversation, bot: Orderbot) -> None:
    await conversation.say(f"Хочу отменить заказ {CONFIRMED_RU}")
    assert (await conversation.say("190000")).startswith(f"Отменить заказ {CONFIRMED_RU}?")
    assert (await conversation.press("Да, отменить")).startswith(f"Заказ {CONFIRMED_RU} отменён.")


async def test_verified_customer_picks_the_order_to_cancel(bot: Orderbot) -> None:
    async with bot.database.transaction() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.email == "james.wilson@example.com")
        )
        assert customer is not None
    conversation = Conversation(bot, customer_id=customer.id)
    assert await conversation.say("I want to cancel my order") == "Which order do you mean?"
    assert CONFIRMED_PAID in [b.title for b in conversation.buttons]
    reply = await conversation.press(CONFIRMED_PAID)
    assert reply.startswith(f"Cancel order {CONFIRMED_PAID}?")  # no proof needed


async def test_a_refused_refund_goes_to_a_person(
    conversation: Conversation, bot: Orderbot
) -> None:
    class RefusingPayments:
        async def payment_link(self, order: OrderView) -> str:
            return "-"

        async def refund(self, order: OrderView, amount_minor: int, reason: str) -> str:
            raise PaymentFailed("provider down")

    bot.services.payments = RefusingPayments()
    await conversation.say(f"cancel {CONFIRMED_PAID} M1 1AE")
    reply = await conversation.say("yes")
    assert "couldn't start the refund" in reply
    assert (await order(bot, CONFIRMED_PAID)).status is OrderStatus.CANCELLED
    async with bot.database.transaction() as session:
        row = await session.scalar(
            select(ConversationRow).where(ConversationRow.chat_id == conversation.key.chat_id)
        )
    assert row is not None and (row.status, row.escalation_reason) == ("escalated", "refund_failed")
