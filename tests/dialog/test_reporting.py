"""What a turn records for the reports: the flow that answered each customer message and the
intent guessed, the flow that handed a conversation over, and the outcomes (events)."""

from __future__ import annotations

from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog import events
from dialog.tables import Event, Handoff, TranscriptEntry
from tests.dialog.conftest import Conversation
from tests.dialog.test_handoff import conversation_id


async def test_each_customer_message_keeps_its_flow_and_guessed_intent(
    bot: Orderbot, conversation: Conversation,
) -> None:
    await conversation.say("where is my order A-1015?")
    await conversation.say("EH1 1YZ")
    await conversation.say("qwzx vbnm")
    await conversation.say("plokij uhygtf")  # the second miss in a row: a person
    chat = await conversation_id(bot, conversation)
    async with bot.database.transaction() as session:
        said = (await session.execute(
            select(TranscriptEntry.flow, TranscriptEntry.intent)
            .where(TranscriptEntry.conversation_id == chat,
                   TranscriptEntry.sender == "customer").order_by(TranscriptEntry.id))).all()
        handoff = await session.scalar(select(Handoff).where(Handoff.conversation_id == chat))
        noted = (await session.execute(select(Event.kind, Event.subject).where(
            Event.conversation_id == chat))).all()
    assert [flow for flow, _ in said] == ["status", "status", "fallback", "fallback"]
    assert said[0][1] == "order_status" and all(intent for _, intent in said)
    assert handoff is not None
    assert (handoff.reason, handoff.flow) == ("not_understood", "fallback")
    assert noted == [(events.STATUS_ANSWERED, "A-1015")]
