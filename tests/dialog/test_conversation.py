"""Greeting, buttons, misunderstanding, handoff, duplicates and the durable record of a turn."""

from __future__ import annotations

from sqlalchemy import func, select

from composition.bootstrap import Orderbot
from dialog.tables import Conversation as ConversationRow
from dialog.tables import OutboxRow, TranscriptEntry
from tests.dialog.conftest import Conversation


async def test_greeting_offers_buttons_and_the_button_works(conversation: Conversation) -> None:
    reply = await conversation.say("hello")
    assert "Demo Shop assistant" in reply
    assert [b.title for b in conversation.buttons] == ["Track my order", "Talk to a person"]
    assert "order number" in await conversation.press("Track my order")


async def test_greeting_in_each_language(bot: Orderbot) -> None:
    assert "Dzień dobry" in await Conversation(bot).say("dzień dobry")
    assert "Здравствуйте" in await Conversation(bot).say("здравствуйте")


async def test_two_misunderstandings_in_a_row_escalate(
    conversation: Conversation, bot: Orderbot
) -> None:
    first = await conversation.say("qwzx vbnm plok")
    assert "didn't understand" in first
    second = await conversation.say("zzkr ttpw")
    assert "passing you to a colleague" in second
    assert await _status(bot, conversation) == ("escalated", "not_understood")


async def test_an_understood_message_resets_the_misunderstanding_count(
    conversation: Conversation,
) -> None:
    await conversation.say("qwzx vbnm plok")
    await conversation.say("hi")
    assert "didn't understand" in await conversation.say("zzkr ttpw")


async def test_asking_for_a_person_escalates_once(
    conversation: Conversation, bot: Orderbot
) -> None:
    assert "passing you to a colleague" in await conversation.say("I want to talk to a human")
    assert await _status(bot, conversation) == ("escalated", "customer_asked")
    assert "in the queue already" in await conversation.say("can I talk to an agent please")


async def test_a_person_can_be_asked_for_in_the_middle_of_verification(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say("where is my order A-1015")
    assert "passing you to a colleague" in await conversation.say("talk to a person")


async def test_a_turn_is_recorded_with_its_replies_and_outbox(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say("hello")
    async with bot.database.transaction() as session:
        row = await session.scalar(
            select(ConversationRow).where(ConversationRow.chat_id == conversation.key.chat_id)
        )
        assert row is not None
        entries = list(await session.scalars(
            select(TranscriptEntry).where(TranscriptEntry.conversation_id == row.id)
            .order_by(TranscriptEntry.id)
        ))
        outbox = await session.scalar(
            select(func.count(OutboxRow.id)).where(OutboxRow.chat_id == conversation.key.chat_id)
        )
    assert [(e.sender, e.text[:5]) for e in entries] == [("customer", "hello"), ("bot", "Hello")]
    assert outbox == 1


async def test_the_same_platform_message_twice_is_answered_once(
    conversation: Conversation, bot: Orderbot
) -> None:
    assert await conversation.say("hello", message_id="m-1")
    assert await conversation.say("hello", message_id="m-1") == ""
    async with bot.database.transaction() as session:
        count = await session.scalar(
            select(func.count(TranscriptEntry.id)).where(TranscriptEntry.text.like("Hello!%"))
        )
    assert count == 1


async def test_unknown_button_payload_is_a_polite_reask(conversation: Conversation) -> None:
    conversation.replies = []
    reply = await conversation.bot.manager.handle(
        __import__("dialog.messages", fromlist=["Inbound"]).Inbound(
            key=conversation.key, action="nonsense:payload"
        )
    )
    assert "didn't understand" in reply[0].text


async def _status(bot: Orderbot, conversation: Conversation) -> tuple[str, str | None]:
    async with bot.database.transaction() as session:
        row = await session.scalar(
            select(ConversationRow).where(ConversationRow.chat_id == conversation.key.chat_id)
        )
    assert row is not None
    return row.status, row.escalation_reason


async def test_a_chat_link_proves_its_one_order_and_nothing_else(bot: Orderbot) -> None:
    from dialog.messages import Inbound

    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, "A-1017")  # Anna Kowalska, shipped
        link = await bot.orders.issue_link_token(session, "A-1017")
    assert order is not None
    conversation = Conversation(bot, channel="telegram")
    replies = await bot.manager.handle(
        Inbound(key=conversation.key, action=f"link:{link}", sender="tg-user-1")
    )
    texts = [reply.text for reply in replies]
    assert texts[0] == (
        "Dzień dobry, Anna! Ten czat jest teraz połączony z Twoim zamówieniem A-1017."
    )
    assert "InPost" in texts[1]
    # A link may be forwarded: her other orders still need their proof, and the chat does not
    # become hers (docs/security.md).
    reply = await conversation.say("gdzie jest zamówienie A-1005?")
    assert "kod pocztowy dostawy zamówienia A-1005" in reply
    async with bot.units() as uow:
        known = await bot.orders.customer_for_identity(uow.session, "telegram", "tg-user-1")
        state = await bot.store.load(uow, conversation.key)
    assert known is None and state.customer_id is None
    assert state.strong_orders == ["A-1017"]


async def test_an_unknown_chat_link_is_a_polite_no(conversation: Conversation) -> None:
    from dialog.messages import Inbound

    replies = await conversation.bot.manager.handle(
        Inbound(key=conversation.key, action="link:forged-token")
    )
    assert replies[0].text.startswith("This link is not valid any more")


async def test_a_pressed_button_reads_as_its_title_in_the_history(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say("where is my order A-1015, EH1 1YZ")
    await conversation.press("Another order")
    _, history = await bot.manager.history(conversation.key)
    assert [(e.sender, e.text) for e in history if e.sender == "customer"] == [
        ("customer", "where is my order A-1015, EH1 1YZ"), ("customer", "Another order"),
    ]
