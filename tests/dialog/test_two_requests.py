"""A message with two requests: the first is handled, the second offered once it is done."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.messages import ConversationKey
from dialog.nlu import NluModel
from orders.states import OrderStatus
from orders.tables import Customer, Order
from tests.dialog.conftest import Conversation


async def verified(bot: Orderbot, email: str) -> tuple[Conversation, str, str, OrderStatus]:
    """A conversation of the customer with a verified identity, an order of theirs that can
    still be cancelled, and another of theirs with its status."""
    async with bot.database.transaction() as session:
        customer = await session.scalar(select(Customer).where(Customer.email == email))
        assert customer is not None
        orders = (await session.execute(
            select(Order.number, Order.status).where(Order.customer_id == customer.id)
            .order_by(Order.number)
        )).all()
    cancellable = (OrderStatus.CONFIRMED, OrderStatus.PENDING_CONFIRMATION)
    first = next(number for number, status in orders if status in cancellable)
    second, status = next((number, status) for number, status in orders if number != first)
    return Conversation(bot, customer_id=customer.id), first, second, status


async def state_of(bot: Orderbot, key: ConversationKey) -> dict[str, object]:
    async with bot.units() as uow:
        state = await bot.store.load(uow, key)
    return {"also": state.also, "proposal": state.proposal, "flow": state.flow}


# language, the customer (orders/demo.py), the message with their two orders in it
TWO_REQUESTS = [
    ("en", "james.wilson@example.com", "cancel {first} and where is {second}"),
    ("pl", "kasia.wisniewska@example.com", "anuluj {first} i gdzie jest {second}"),
    ("ru", "maria.smirnova@example.com", "отмените {first} и где {second}"),
]


@pytest.mark.parametrize(("language", "email", "message"), TWO_REQUESTS)
async def test_cancels_the_first_and_offers_the_status_of_the_second(
    bot: Orderbot, nlu: NluModel, language: str, email: str, message: str
) -> None:
    texts = bot.texts
    chat, first, second, status = await verified(bot, email)
    text = message.format(first=first, second=second)
    understood = nlu.understand(text)
    assert understood.intent == "cancel_order", understood  # the message reads as the test needs

    reply = await chat.say(text)
    # Told at once that the second is not forgotten, then the cancel flow's confirmation.
    later, confirmation = reply.split("\n", 1)
    assert later == texts.get(language, "also_later")
    assert confirmation.split("?")[0] == texts.get(language, "cancel_ask", number=first) \
        .split("?")[0]
    assert [b.title for b in chat.buttons] == [texts.get(language, "cancel_button_yes"),
                                               texts.get(language, "cancel_button_no")]

    reply = await chat.press(texts.get(language, "cancel_button_yes"))
    assert reply.startswith(texts.get(language, "cancel_done", number=first)[:-1])
    offer = texts.get(language, "also_order_status_number", number=second)
    assert reply.endswith(offer)
    assert [b.title for b in chat.buttons] == [texts.get(language, "also_button_yes"),
                                               texts.get(language, "also_button_no")]

    reply = await chat.press(texts.get(language, "also_button_yes"))
    told = texts.get(language, f"status_{OrderStatus(status).value}", number=second,
                     date="~", carrier="~", tracking_number="~", tracking_url="~")
    assert reply.startswith(told.split("~")[0]) and first not in reply


async def test_a_customer_who_must_prove_each_order_proves_the_second_too(
    bot: Orderbot, nlu: NluModel
) -> None:
    """A-1014 and A-1002 are James Wilson's (M1 1AE): proven one at a time, as status asks."""
    chat = Conversation(bot, answers_codes=True)
    reply = await chat.say("cancel A-1014 and where is A-1002")
    assert reply == ("You asked about two things. Let's take them one at a time: I'll come "
                     "back to the other one right after this.\n"
                     "To keep your order private, please give me the email address or the "
                     "delivery postcode of order A-1014.")
    assert (await chat.say("M1 1AE")).startswith("Cancel order A-1014?")
    reply = await chat.say("yes")
    assert reply.startswith("Order A-1014 is cancelled.")
    assert reply.endswith("You also asked where A-1002 is. Shall I check?")
    assert await chat.say("yes") == ("To keep your order private, please give me the email "
                                     "address or the delivery postcode of order A-1002.")
    assert await chat.say("M1 1AE") == "Order A-1002 is waiting for your confirmation."
    assert (await state_of(bot, chat.key))["also"] is None


async def test_the_offer_can_be_declined(bot: Orderbot) -> None:
    chat, first, second, _ = await verified(bot, "james.wilson@example.com")
    await chat.say(f"cancel {first} and where is {second}")
    await chat.say("yes")
    assert chat.buttons[-1].title == "No, thanks"
    assert await chat.press("No, thanks") == bot.texts.get("en", "anything_else")
    assert await state_of(bot, chat.key) == {"also": None, "proposal": None, "flow": None}


async def test_the_offer_is_dropped_when_the_customer_moves_on(bot: Orderbot) -> None:
    chat, first, second, _ = await verified(bot, "james.wilson@example.com")
    await chat.say(f"cancel {first} and where is {second}")
    # Asked something else instead of confirming: the second request goes with the first.
    assert "pay by" in await chat.say("what payment methods do you accept")
    assert (await state_of(bot, chat.key))["also"] is None
    reply = await chat.say("hello")
    assert "also asked" not in reply


async def test_an_old_offer_does_not_answer_a_later_yes(bot: Orderbot) -> None:
    chat, first, second, _ = await verified(bot, "james.wilson@example.com")
    await chat.say(f"cancel {first} and where is {second}")
    await chat.say("yes")  # cancelled, and the status of the other offered
    await chat.say("hello")  # moved on
    assert await chat.say("yes") == bot.texts.get("en", "anything_else")


@pytest.mark.parametrize("message", [
    "where is my order A-1002 and when will it arrive",
    "I want to return the shoes and get a refund",
    "gdzie jest moja paczka i kiedy przyjdzie",
    "где мой заказ и когда он придёт",
])
async def test_one_request_with_and_inside_is_not_split(
    bot: Orderbot, nlu: NluModel, message: str
) -> None:
    assert nlu.understand(message).confidence >= nlu.threshold
    chat = Conversation(bot)
    reply = await chat.say(message)
    for language in ("en", "pl", "ru"):
        assert bot.texts.get(language, "also_later") not in reply
    assert (await state_of(bot, chat.key))["also"] is None
