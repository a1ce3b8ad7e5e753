"""Going to a person and back: the queue, the honest wait, silence while an operator holds the
conversation, the idle operator, and the bot resuming what the customer was doing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.desk_values import AlreadyTaken, DeskError, NotHeld, OperatorRef
from dialog.hours import DAYS, BusinessHours
from dialog.tables import Conversation as ConversationRow
from dialog.tables import Handoff, TranscriptEntry
from tests.conftest import BotFactory
from tests.dialog.conftest import Conversation

ANNA = OperatorRef("console:1", "Anna K.")
BORIS = OperatorRef("console:2", "Boris")


async def status_of(bot: Orderbot, conversation: Conversation) -> tuple[str, str | None]:
    async with bot.database.transaction() as session:
        row = (await session.execute(
            select(ConversationRow.status, ConversationRow.escalation_reason).where(
                ConversationRow.chat_id == conversation.key.chat_id)
        )).one()
    return row.status, row.escalation_reason


async def conversation_id(bot: Orderbot, conversation: Conversation) -> int:
    async with bot.database.transaction() as session:
        found = await session.scalar(select(ConversationRow.id).where(
            ConversationRow.chat_id == conversation.key.chat_id))
    assert found is not None
    return found


Line = tuple[str, str | None, str]  # sender, author, text


async def transcript(bot: Orderbot, conversation: Conversation) -> list[Line]:
    async with bot.database.transaction() as session:
        rows = await session.execute(
            select(TranscriptEntry.sender, TranscriptEntry.author, TranscriptEntry.text)
            .join(ConversationRow, ConversationRow.id == TranscriptEntry.conversation_id)
            .where(ConversationRow.chat_id == conversation.key.chat_id)
            .order_by(TranscriptEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_asking_for_a_person_queues_the_chat_and_says_how_long_the_wait_is(
    bot: Orderbot,
) -> None:
    first, second = Conversation(bot), Conversation(bot)
    answer = await first.say("I want to talk to a person")
    assert "passing you to a colleague" in answer
    assert "Customers ahead of you in the queue: 0. Expected wait: about 6 min." in answer
    assert await status_of(bot, first) == ("escalated", "customer_asked")

    answer = await second.say("can I speak to a human please")
    assert "Customers ahead of you in the queue: 1. Expected wait: about 12 min." in answer
    queue = await bot.desk.queue("escalated")
    assert [item.conversation_id for item in queue] == [
        await conversation_id(bot, first), await conversation_id(bot, second)]
    assert [item.reason for item in queue] == ["customer_asked", "customer_asked"]


async def test_the_wait_is_said_in_the_customers_language(bot: Orderbot) -> None:
    answer = await Conversation(bot).say("Chcę rozmawiać z konsultantem")
    assert "Osób przed Tobą w kolejce: 0" in answer
    answer = await Conversation(bot).say("Позовите оператора, пожалуйста")
    assert "Перед вами в очереди: 1" in answer  # the Polish customer is ahead


async def test_outside_business_hours_the_customer_learns_when_and_the_bot_keeps_helping(
    make_bot: BotFactory,
) -> None:
    zone = ZoneInfo("Europe/Warsaw")
    tomorrow = datetime.now(zone) + timedelta(days=1)
    hours = f"{DAYS[tomorrow.weekday()]} 09:00-17:00"  # closed all day today
    bot = await make_bot(operators={"business_hours": [hours], "timezone": "Europe/Warsaw"})
    chat = Conversation(bot)
    answer = await chat.say("I want to talk to a person")
    assert f"a person will answer from {tomorrow:%d %b %Y} 09:00 (Europe/Warsaw time)" in answer
    assert "Until then I can still help" in answer
    assert await status_of(bot, chat) == ("escalated", "customer_asked")
    # still queued, and the bot still answers what it can
    answer = await chat.say("where is my order A-1001?")
    assert "A-1001" in answer
    assert (await status_of(bot, chat))[0] == "escalated"


def test_business_hours_know_when_they_open() -> None:
    hours = BusinessHours.parse(["mon-fri 09:00-17:00", "sat 10:00-12:00"], "Europe/Warsaw")
    zone = ZoneInfo("Europe/Warsaw")
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=zone)
    assert not hours.is_open(friday_evening)
    assert hours.next_opening(friday_evening) == datetime(2026, 11, 28, 10, 0, tzinfo=zone)
    assert hours.is_open(datetime(2026, 11, 30, 9, 0, tzinfo=zone))
    with pytest.raises(ValueError, match="closes before it opens"):
        BusinessHours.parse(["mon 18:00-09:00"], "Europe/Warsaw")
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessHours.parse([], "Mars/Olympus")


async def test_while_an_operator_holds_the_chat_the_bot_is_silent_and_the_operator_speaks(
    bot: Orderbot,
) -> None:
    chat = Conversation(bot)
    await chat.say("I want to talk to a person")
    conversation = await conversation_id(bot, chat)
    item = await bot.desk.claim(conversation, ANNA)
    assert item.status == "claimed" and item.operator == ANNA

    assert await chat.say("hello? where is my order A-1001") == ""
    line = await bot.desk.say(conversation, ANNA, "Hi, I'm Anna. Let me check A-1001 for you.")
    assert line.sender == "operator" and line.author == "Anna K."
    assert (await transcript(bot, chat))[-2:] == [
        ("customer", None, "hello? where is my order A-1001"),
        ("operator", "Anna K.", "Hi, I'm Anna. Let me check A-1001 for you."),
    ]


async def test_a_claim_is_exclusive(bot: Orderbot) -> None:
    chat = Conversation(bot)
    await chat.say("I want to talk to a person")
    conversation = await conversation_id(bot, chat)
    results = await asyncio.gather(
        bot.desk.claim(conversation, ANNA), bot.desk.claim(conversation, BORIS),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, AlreadyTaken)]
    assert len(won) == 1 and len(lost) == 1
    winner = won[0].operator  # type: ignore[union-attr]
    assert str(lost[0]) == f"already taken by {winner.name}"
    loser = BORIS if winner == ANNA else ANNA
    with pytest.raises(NotHeld):
        await bot.desk.say(conversation, loser, "I'll take this")
    with pytest.raises(NotHeld):
        await bot.desk.hand_back(conversation, loser)


async def test_hand_back_offers_to_go_on_with_what_the_customer_was_doing(bot: Orderbot) -> None:
    chat = Conversation(bot)
    answer = await chat.say("I want to cancel my order")
    assert "order number" in answer.lower()
    await chat.say("talk to a person")
    conversation = await conversation_id(bot, chat)
    await bot.desk.claim(conversation, ANNA)
    await bot.desk.say(conversation, ANNA, "I see you want to cancel; the bot can do that.")
    item = await bot.desk.hand_back(conversation, ANNA)
    assert item.status == "bot"
    sender, _, text = (await transcript(bot, chat))[-1]
    assert (sender, text) == ("bot", "Anna K. has handed you back to me, the shop's assistant. "
                                     "Shall we go back to cancelling your order?")
    chat.replies = []
    answer = await chat.say("yes")
    assert "Good, let's carry on where we left off." in answer
    assert "order number" in answer.lower()
    answer = await chat.say("A-1001")
    assert "A-1001" in answer


async def test_resolve_closes_the_matter_and_the_bot_answers_again(bot: Orderbot) -> None:
    chat = Conversation(bot)
    await chat.say("I want to cancel my order")
    await chat.say("talk to a person")
    conversation = await conversation_id(bot, chat)
    await bot.desk.claim(conversation, ANNA)
    await bot.desk.resolve(conversation, ANNA)
    assert (await transcript(bot, chat))[-1][2] == (
        "Anna K. has closed this conversation. Write any time if you need anything else.\n\n"
        "How did we do? Tap the stars, from 1 (poor) to 5 (excellent), or reply with a number.")
    answer = await chat.say("hi")
    assert "Shall we go back" not in answer and answer
    with pytest.raises(DeskError, match="with the bot already"):
        await bot.desk.resolve(conversation, ANNA)
    async with bot.database.transaction() as session:
        outcomes = (await session.scalars(
            select(Handoff.outcome).where(Handoff.conversation_id == conversation))).all()
    assert outcomes == ["resolved"]


async def test_an_operator_silent_too_long_puts_the_customer_back_in_the_queue(
    bot: Orderbot,
) -> None:
    chat = Conversation(bot)
    await chat.say("I want to talk to a person")
    conversation = await conversation_id(bot, chat)
    await bot.desk.claim(conversation, ANNA)
    await chat.say("are you there?")
    later = datetime.now(ZoneInfo("UTC")) + timedelta(minutes=5)
    assert await bot.desk.requeue_idle(later) == 0  # 10 minutes are allowed
    later = datetime.now(ZoneInfo("UTC")) + timedelta(minutes=11)
    assert await bot.desk.requeue_idle(later) == 1
    item = await bot.desk.get(conversation)
    assert item.status == "escalated" and item.operator is None
    assert (await transcript(bot, chat))[-1][2] == (
        "Anna K. had to step away. You're back in the queue, and the next free colleague "
        "will answer here.")
    assert await bot.desk.requeue_idle(later) == 0  # told once
    await bot.desk.claim(conversation, BORIS)  # the next operator can take it


async def test_an_operator_who_answered_is_not_idle_while_the_customer_is_silent(
    bot: Orderbot,
) -> None:
    chat = Conversation(bot)
    await chat.say("I want to talk to a person")
    conversation = await conversation_id(bot, chat)
    await bot.desk.claim(conversation, ANNA)
    await bot.desk.say(conversation, ANNA, "Hello, how can I help?")
    later = datetime.now(ZoneInfo("UTC")) + timedelta(minutes=30)
    assert await bot.desk.requeue_idle(later) == 0
    assert (await bot.desk.get(conversation)).status == "claimed"


async def test_two_misunderstandings_in_a_row_go_to_a_person(bot: Orderbot) -> None:
    chat = Conversation(bot)
    await chat.say("qwpoeiru zxmcnv")
    answer = await chat.say("asdlkfj qwoeiru")
    assert "passing you to a colleague" in answer
    assert "Expected wait" in answer
    assert await status_of(bot, chat) == ("escalated", "not_understood")


async def test_notes_stay_with_the_operators(bot: Orderbot) -> None:
    chat = Conversation(bot)
    await chat.say("I want to talk to a person")
    conversation = await conversation_id(bot, chat)
    note = await bot.desk.add_note(conversation, ANNA, "Customer called twice about this.")
    assert [n.text for n in await bot.desk.notes(conversation)] == [note.text]
    assert all(text != note.text for _, _, text in await transcript(bot, chat))
    with pytest.raises(DeskError):
        await bot.desk.add_note(conversation, ANNA, "   ")


async def test_an_item_with_no_restock_date_offers_a_person(bot: Orderbot) -> None:
    async with bot.database.transaction() as session:
        await bot.orders.set_stock(session, "PB-530", 0, None)
    chat = Conversation(bot)
    answer = await chat.say("Is the power bank in stock?")
    assert "there is no delivery date yet" in answer
    assert "Talk to a person" in [b.title for b in chat.buttons]
    answer = await chat.press("Talk to a person")
    assert "passing you to a colleague" in answer
    assert await status_of(bot, chat) == ("escalated", "item_not_restocking")


async def test_a_conversation_goes_to_the_operators_three_times_an_hour_at_most(
    bot: Orderbot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Asking for a person again and again (a script, say) does not fill the queue."""
    chat = Conversation(bot)
    for _ in range(3):
        assert "passing you to a colleague" in await chat.say("talk to a person")
        conversation = await conversation_id(bot, chat)
        await bot.desk.claim(conversation, ANNA)
        await bot.desk.hand_back(conversation, ANNA)
    answer = await chat.say("talk to a person")
    assert answer == ("You have asked for a person several times in the last hour, so I can't "
                      "pass you on again just now. Please write your question here, or ask "
                      "again a little later.")
    assert (await status_of(bot, chat))[0] == "bot"
    async with bot.database.transaction() as session:
        handoffs = (await session.scalars(
            select(Handoff.id).where(Handoff.conversation_id == conversation))).all()
    assert len(handoffs) == 3
    assert bot.metrics.registry.get_sample_value(
        "orderbot_refused_requests_total", {"reason": "escalation_limit"}) == 1
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"handoff refused: conversation {conversation} went to the operators 3 times in the "
        "last hour"]

    later = datetime.now(ZoneInfo("UTC")) + timedelta(minutes=61)
    monkeypatch.setattr("dialog.flows.escalation.utcnow", lambda: later)
    assert "passing you to a colleague" in await chat.say("talk to a person")
    assert (await status_of(bot, chat))[0] == "escalated"
