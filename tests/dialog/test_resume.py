"""Conversation quality: changing one's mind mid-flow (answer, then offer to resume at the
same step), and free text ("2", "2.", a button's words) picking the last offered button."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from composition.bootstrap import Orderbot
from orders.states import OrderStatus
from orders.tables import Customer
from tests.dialog.conftest import Conversation


@pytest.fixture
def conversation(bot: Orderbot) -> Conversation:
    """Cancelling a paid order needs the strong level of proof (docs/security.md): these
    customers type the one-time code sent to them when asked."""
    return Conversation(bot, answers_codes=True)


CONFIRMED = "A-1014"  # James Wilson, M1 1AE
CONFIRMED_RU = "A-1010"  # Мария Смирнова, 190000
SHIPPED = "A-1015"  # Olivia Brown, EH1 1YZ
SHIPPED_RU = "A-1021"  # Иван Петров, 101000


async def status_of(bot: Orderbot, number: str) -> OrderStatus:
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, number)
    assert order is not None
    return order.status


async def test_another_question_is_answered_then_the_cancellation_resumes(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say(f"cancel my order {CONFIRMED} M1 1AE")
    assert "postcode" in await conversation.say(f"actually, where is my order {SHIPPED}?")
    reply = await conversation.say("EH1 1YZ")
    assert f"Order {SHIPPED} is on its way with DHL" in reply
    assert reply.endswith(f"Shall we go back to cancelling your order, order {CONFIRMED}?")
    assert [b.title for b in conversation.replies[-1].buttons] == [
        "Continue with cancelling your order", "No, thanks",
    ]
    assert await status_of(bot, CONFIRMED) is OrderStatus.CONFIRMED

    reply = await conversation.press("Continue with cancelling your order")
    assert reply.startswith("Good, let's carry on where we left off.")
    assert f"Cancel order {CONFIRMED}? You have paid" in reply  # the same question, same step
    assert [b.title for b in conversation.replies[-1].buttons] == [
        "Yes, cancel it", "No, keep it",
    ]
    assert "is cancelled" in await conversation.say("yes")
    assert await status_of(bot, CONFIRMED) is OrderStatus.CANCELLED


async def test_yes_in_free_text_resumes_and_keeps_the_slots(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say(f"cancel my order {CONFIRMED}")
    await conversation.say("M1 1AE")
    reply = await conversation.say(f"wait, where is my order {CONFIRMED}?")
    assert f"Order {CONFIRMED} is confirmed" in reply  # proven already: told at once
    assert "Shall we go back to cancelling your order" in reply
    reply = await conversation.say("yes")
    assert f"Cancel order {CONFIRMED}?" in reply
    assert await conversation.say("1") == (
        f"Order {CONFIRMED} is cancelled. A refund of "
        + reply.split("You have paid ")[1].split(";")[0]
        + " has been started; it usually reaches your account within 5 working days."
    )


async def test_resume_in_the_middle_of_verification(conversation: Conversation) -> None:
    assert "postcode" in await conversation.say(f"please cancel {CONFIRMED}")
    reply = await conversation.say("hi there")  # a greeting in between: answered, then...
    assert "Hello!" in reply
    assert reply.endswith(f"Shall we go back to cancelling your order, order {CONFIRMED}?")
    reply = await conversation.say("yes")
    assert f"delivery postcode of order {CONFIRMED}" in reply  # back at the proof question
    assert f"Cancel order {CONFIRMED}?" in await conversation.say("M1 1AE")


async def test_no_thanks_drops_the_interrupted_flow(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say(f"cancel {CONFIRMED} M1 1AE")
    await conversation.say(f"where is {SHIPPED} EH1 1YZ")
    assert "anything else" in await conversation.say("no")
    assert "Cancel order" not in await conversation.say("yes")
    assert await status_of(bot, CONFIRMED) is OrderStatus.CONFIRMED


async def test_an_ignored_offer_lapses(conversation: Conversation, bot: Orderbot) -> None:
    await conversation.say(f"cancel {CONFIRMED} M1 1AE")
    await conversation.say(f"where is {SHIPPED} EH1 1YZ")
    await conversation.say("thanks")
    assert "Cancel order" not in await conversation.say("yes")
    assert await status_of(bot, CONFIRMED) is OrderStatus.CONFIRMED


async def test_russian_resume(conversation: Conversation, bot: Orderbot) -> None:
    await conversation.say(f"отменить заказ {CONFIRMED_RU} индекс 190000")
    reply = await conversation.say(f"а где мой заказ {SHIPPED_RU}? индекс 101000")
    assert f"Заказ {SHIPPED_RU} в пути" in reply
    assert reply.endswith(f"Вернёмся к предыдущему вопросу: отмена заказа, заказ {CONFIRMED_RU}?")
    reply = await conversation.press("Продолжить: отмена заказа")
    assert reply.startswith("Хорошо, продолжим")
    assert f"Отменить заказ {CONFIRMED_RU}?" in reply
    assert (await conversation.say("да")).startswith(f"Заказ {CONFIRMED_RU} отменён.")


async def test_a_number_picks_the_button_of_the_last_message(bot: Orderbot) -> None:
    first = Conversation(bot)
    await first.say("hello")  # offers Track my order / Talk to a person
    assert "order number" in await first.say("1")
    second = Conversation(bot)
    await second.say("hello")
    assert "passing you to a colleague" in await second.say("2.")
    third = Conversation(bot)
    await third.say("hello")
    assert "order number" in await third.say("Track my order")
    fourth = Conversation(bot)
    await fourth.say("hello")
    assert "didn't understand" in await fourth.say("7")  # no seventh option


async def test_a_proactive_messages_buttons_are_the_ones_a_number_picks(bot: Orderbot) -> None:
    async with bot.database.transaction() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.email == "olivia.brown@example.com")
        )
        assert customer is not None
    conversation = Conversation(bot, customer_id=customer.id)
    await conversation.say("hello")  # offers Track my order / Talk to a person
    async with bot.units() as uow:
        view = await bot.orders.get_customer(uow.session, customer.id)
        assert view is not None
        await bot.proactive.tell(
            uow, view, "notify_delivered", ("button_human", "intent:human"), number=SHIPPED
        )
        await uow.commit()
    # "1" now means the proactive message's only button, not "Track my order".
    assert "passing you to a colleague" in await conversation.say("1")
