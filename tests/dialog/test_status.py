"""Where is my order: verification first, then the status, in the customer's language."""

from __future__ import annotations

from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.tables import Conversation as ConversationRow
from orders.tables import Customer
from tests.dialog.conftest import Conversation, sent_code

# From the demo shop (orders/demo.py).
SHIPPED = "A-1015"  # Olivia Brown, olivia.brown@example.com, EH1 1YZ, DHL
SHIPPED_PL = "A-1017"  # Anna Kowalska, 00-950, InPost
SHIPPED_RU = "A-1021"  # Иван Петров, 101000, DHL
DELIVERED = "A-1025"  # Emma Thompson, SW1A 1AA


async def test_asks_for_proof_before_telling_anything(conversation: Conversation) -> None:
    reply = await conversation.say(f"where is my order {SHIPPED}?")
    assert "email address or the delivery postcode" in reply
    assert "DHL" not in reply and "shipped" not in reply.lower()


async def test_shipped_order_after_email_gives_carrier_tracking_and_link(
    conversation: Conversation,
) -> None:
    await conversation.say(f"where is my order {SHIPPED}?")
    reply = await conversation.say("Olivia.Brown@example.com")
    assert f"Order {SHIPPED} is on its way with DHL" in reply
    assert "Tracking number: DHL" in reply
    assert "https://dhl.example/track?id=DHL" in reply
    assert [b.title for b in conversation.buttons] == ["Another order", "Talk to a person"]


async def test_each_status_offers_what_can_be_done_next(bot: Orderbot) -> None:
    pending = Conversation(bot)
    await pending.say("status of A-1001, postcode SW1A 1AA")
    assert "Confirm my order" in [b.title for b in pending.buttons]
    assert "Here is your order A-1001" in await pending.press("Confirm my order")
    confirmed = Conversation(bot)
    await confirmed.say("status of A-1041, postcode LS1 1UR")  # confirmed, unpaid transfer
    assert [b.title for b in confirmed.buttons] == [
        "Change delivery", "Pay now", "Another order", "Talk to a person",
    ]
    assert "payment link for order A-1041" in await confirmed.press("Pay now")
    delivered = Conversation(bot)
    await delivered.say(f"{DELIVERED} sw1a1aa")
    # a return needs the strong level: the one-time code sent to the customer first
    assert "6-digit code" in await delivered.press("Return items")
    code, _ = await sent_code(bot, DELIVERED)
    assert "return items from order" in await delivered.say(code)


async def test_number_and_postcode_in_one_message(conversation: Conversation) -> None:
    reply = await conversation.say(f"status of {SHIPPED} please, postcode EH1 1YZ")
    assert "on its way with DHL" in reply


async def test_polish_customer_gets_polish_answer(conversation: Conversation) -> None:
    reply = await conversation.say(f"Gdzie jest moje zamówienie {SHIPPED_PL}?")
    assert "kod pocztowy" in reply
    reply = await conversation.say("00 950")
    assert f"Zamówienie {SHIPPED_PL} jest w drodze, przewoźnik: InPost" in reply


async def test_russian_customer_gets_russian_answer(conversation: Conversation) -> None:
    assert "номер заказа" in await conversation.say("где мой заказ?")
    assert "индекс" in await conversation.say(SHIPPED_RU)
    reply = await conversation.say("101000")
    assert f"Заказ {SHIPPED_RU} в пути, служба доставки: DHL" in reply


async def test_delivered_order_tells_the_day(conversation: Conversation) -> None:
    reply = await conversation.say(f"{DELIVERED} sw1a1aa")
    assert reply.startswith(f"Order {DELIVERED} was delivered on ")


async def test_someone_elses_order_is_not_revealed_and_looks_like_unknown(
    conversation: Conversation,
) -> None:
    await conversation.say(f"where is my order {SHIPPED}")
    wrong_proof = await conversation.say("anna.kowalska@example.com")
    other = Conversation(conversation.bot)
    await other.say("where is my order A-9999")
    unknown = await other.say("anna.kowalska@example.com")
    assert "couldn't find an order" in wrong_proof
    assert wrong_proof.replace(SHIPPED, "N") == unknown.replace("A-9999", "N")
    assert "DHL" not in wrong_proof


async def test_three_wrong_proofs_hand_over_to_a_person(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say(f"where is my order {SHIPPED}")
    await conversation.say("wrong@example.com")
    await conversation.say("00-001")
    reply = await conversation.say("nobody@example.com")
    assert "passing you to a colleague" in reply
    async with bot.database.transaction() as session:
        row = await session.scalar(
            select(ConversationRow).where(ConversationRow.chat_id == conversation.key.chat_id)
        )
    assert row is not None and row.status == "escalated"
    assert row.escalation_reason == "verification_failed"


async def test_verified_order_is_remembered_in_the_conversation(
    conversation: Conversation,
) -> None:
    await conversation.say(f"where is {SHIPPED}")
    await conversation.say("EH1 1YZ")
    reply = await conversation.say("and where is my order now?")
    assert f"Order {SHIPPED} is on its way" in reply


async def test_verified_customer_sees_own_orders_without_proof(bot: Orderbot) -> None:
    async with bot.database.transaction() as session:
        customer = await session.scalar(
            select(Customer).where(Customer.email == "olivia.brown@example.com")
        )
        assert customer is not None
    conversation = Conversation(bot, customer_id=customer.id)
    reply = await conversation.say("where is my order?")
    assert reply == "Which order do you mean?"
    titles = [b.title for b in conversation.buttons]
    assert SHIPPED in titles and SHIPPED_PL not in titles
    assert "on its way with DHL" in await conversation.press(SHIPPED)
    # Another customer's order still needs its proof.
    assert "postcode" in await conversation.say(f"where is {SHIPPED_PL}")


async def test_another_order_asks_for_the_other_number(conversation: Conversation) -> None:
    await conversation.say(f"where is my order {SHIPPED}?")
    await conversation.say("olivia.brown@example.com")
    assert "order number" in await conversation.press("Another order")
    reply = await conversation.say(DELIVERED)
    assert "email address or the delivery postcode" in reply  # another order, another proof
    assert "DHL" not in reply


async def test_a_very_long_message_is_understood_from_its_start(
    conversation: Conversation,
) -> None:
    reply = await conversation.say(f"where is my order {SHIPPED}? " + "x" * 50_000)
    assert f"delivery postcode of order {SHIPPED}" in reply
