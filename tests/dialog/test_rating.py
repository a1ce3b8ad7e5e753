"""The one-tap rating at the end of a conversation: offered when an operator resolves or hands
back with nothing to resume and when the customer says goodbye; a star, a typed number or an
email's digit rates the newest offer once; stored with the handoff it is about."""

from __future__ import annotations

from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog import events
from dialog.desk_values import OperatorRef
from dialog.messages import Inbound
from dialog.tables import Event, Handoff
from tests.dialog.conftest import Conversation
from tests.dialog.test_handoff import conversation_id

ANNA = OperatorRef("console:1", "Anna K.")
STARS = ["★", "★★", "★★★", "★★★★", "★★★★★"]


async def stored(bot: Orderbot, conversation: int) -> list[tuple[str, int | None, int | None]]:
    async with bot.database.transaction() as session:
        rows = await session.execute(
            select(Event.kind, Event.value, Event.handoff_id)
            .where(Event.conversation_id == conversation,
                   Event.kind.in_((events.RATING_OFFERED, events.RATING)))
            .order_by(Event.id))
        return [tuple(row) for row in rows]


async def handed_over_and_resolved(bot: Orderbot, chat: Conversation) -> tuple[int, int]:
    await chat.say("I want to talk to a person")
    conversation = await conversation_id(bot, chat)
    await bot.desk.claim(conversation, ANNA)
    await bot.desk.resolve(conversation, ANNA)
    async with bot.database.transaction() as session:
        handoff = await session.scalar(select(Handoff.id).where(
            Handoff.conversation_id == conversation))
    assert handoff is not None
    return conversation, handoff


async def test_a_resolved_conversation_is_rated_with_a_star(bot: Orderbot) -> None:
    chat = Conversation(bot)
    conversation, handoff = await handed_over_and_resolved(bot, chat)
    async with bot.units() as uow:
        history = (await bot.store.history(uow, chat.key))[1]
    assert [b.title for b in history[-1].buttons] == STARS
    chat.replies = list(await bot.manager.handle(chat_action(chat, "rating:4")))
    assert "Thank you for your rating!" in "\n".join(r.text for r in chat.replies)
    assert await stored(bot, conversation) == [
        (events.RATING_OFFERED, None, handoff), (events.RATING, 4, handoff)]
    again = await bot.manager.handle(chat_action(chat, "rating:5"))  # an old message's star
    assert "rated this conversation already" in again[0].text


async def test_a_typed_number_rates_and_a_low_one_offers_a_person(bot: Orderbot) -> None:
    chat = Conversation(bot)
    conversation, handoff = await handed_over_and_resolved(bot, chat)
    reply = await chat.say("1")
    assert "sorry it wasn't better" in reply
    assert [b.title for b in chat.buttons] == ["Talk to a person"]
    assert (await stored(bot, conversation))[-1] == (events.RATING, 1, handoff)


async def test_goodbye_asks_for_a_rating_once_a_day(bot: Orderbot) -> None:
    chat = Conversation(bot)
    reply = await chat.say("bye")
    assert reply.startswith("Goodbye") and "How did we do?" in reply
    assert [b.title for b in chat.buttons] == STARS
    assert "Thank you for your rating" in await chat.press("★★★★★")
    reply = await chat.say("bye")
    assert "How did we do?" not in reply and not chat.buttons
    conversation = await conversation_id(bot, chat)
    assert await stored(bot, conversation) == [
        (events.RATING_OFFERED, None, None), (events.RATING, 5, None)]


async def test_a_star_without_an_offer_is_thanked_and_not_stored(bot: Orderbot) -> None:
    chat = Conversation(bot)
    await chat.say("hello")
    chat.replies = list(await bot.manager.handle(chat_action(chat, "rating:3")))
    assert chat.replies[0].text == "Thank you! There is nothing to rate just now."
    assert await stored(bot, await conversation_id(bot, chat)) == []


def chat_action(chat: Conversation, payload: str) -> Inbound:
    return Inbound(key=chat.key, action=payload)
