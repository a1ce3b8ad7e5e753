"""The strong level of proof in conversation (docs/security.md): what a postcode allows, the
one-time code for the rest, its tries and expiry, and the news of a change to the customer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from composition.bootstrap import Orderbot
from dialog.tables import TranscriptEntry
from storage.clock import utcnow
from tests.dialog.confirm_helpers import fix_clock, order, verified
from tests.dialog.conftest import Conversation, sent_code

CONFIRMED = "A-1009"  # Иван Петров, 101000, confirmed, courier
PAID = "A-1014"  # James Wilson, M1 1AE, confirmed, card, paid


async def wrong(bot: Orderbot, number: str) -> str:
    code, _ = await sent_code(bot, number)
    return "000000" if code != "000000" else "111111"


async def messages_with(bot: Orderbot, words: str) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(TranscriptEntry).where(
            TranscriptEntry.text.like(f"%{words}%"))) or 0)


async def test_the_day_of_a_courier_delivery_changes_on_the_postcode_alone(
    bot: Orderbot,
) -> None:
    fix_clock(bot)  # Tuesday 24 Nov 2026
    conversation = Conversation(bot)
    await conversation.say(f"change the delivery of {CONFIRMED}, postcode 101000")
    assert "Which day?" in await conversation.press("Delivery day and time")
    assert "At what time" in await conversation.say("friday")
    assert "will come by courier on 27 Nov 2026" in await conversation.say("morning")


async def test_three_wrong_codes_use_it_up(bot: Orderbot) -> None:
    conversation = Conversation(bot)
    await conversation.say(f"change the delivery of {CONFIRMED}, postcode 101000")
    assert "6-digit code" in await conversation.press("Delivery method")
    code, _ = await sent_code(bot, CONFIRMED)
    bad = await wrong(bot, CONFIRMED)
    assert "not right" in await conversation.say(bad)
    assert "not right" in await conversation.say(bad)
    assert "can't be tried again" in await conversation.say(bad)
    assert "What would you like" not in await conversation.say(code)  # the right one, too late
    async with bot.units() as uow:
        state = await bot.store.load(uow, conversation.key)
    assert CONFIRMED not in state.strong_orders


async def test_an_expired_code_is_refused(bot: Orderbot) -> None:
    conversation = Conversation(bot)
    await conversation.say(f"change the delivery of {CONFIRMED}, postcode 101000")
    await conversation.press("Address")
    code, _ = await sent_code(bot, CONFIRMED)
    async with bot.units() as uow:  # eleven minutes later
        state = await bot.store.load(uow, conversation.key)
        state.slots["code"]["expires"] = (utcnow() - timedelta(minutes=1)).isoformat()
        await bot.store.save(uow, state)
        await uow.commit()
    assert "has expired" in await conversation.say(code)


async def test_another_question_while_the_code_is_awaited_is_answered(bot: Orderbot) -> None:
    conversation = Conversation(bot)
    await conversation.say(f"cancel {PAID}, postcode M1 1AE")
    reply = await conversation.say("where is my order A-1015?")
    assert "postcode of order A-1015" in reply


async def test_a_verified_customer_needs_no_code_and_is_not_told_twice(bot: Orderbot) -> None:
    conversation = await verified(bot, CONFIRMED)
    await conversation.say(f"change the delivery of {CONFIRMED}")
    assert "new delivery address" in await conversation.press("Address")
    reply = await conversation.say("Baker Street 221B, London NW1 6XE")
    assert "will be delivered to Baker Street 221B" in reply
    assert (await order(bot, CONFIRMED)).delivery_address["postcode"] == "NW1 6XE"
    assert await messages_with(bot, "6-digit code") == 0  # no one-time code was asked for
    # the change was made in her own conversation: no "not you?" news elsewhere
    assert await messages_with(bot, "changed in a chat with us") == 0
    assert await messages_with(bot, "изменён в чате") == 0


async def test_a_few_codes_an_hour_at_most_are_sent_for_an_order(bot: Orderbot) -> None:
    conversation = Conversation(bot)
    await conversation.say(f"change the delivery of {CONFIRMED}, postcode 101000")
    for _ in range(3):
        assert "6-digit code" in await conversation.press("Delivery method")
        await conversation.say(f"change the delivery of {CONFIRMED}")
    reply = await conversation.press("Delivery method")
    assert "can't check order details in this chat right now" in reply
    assert await messages_with(bot, "Ваш код для заказа") == 3  # in the customer's language


async def test_no_code_is_sent_for_an_order_locked_by_others_guesses(bot: Orderbot) -> None:
    """A chat proved the order by its postcode; meanwhile five wrong postcodes from other
    chats lock the order: the code the chat's change needs is not sent (it would let the
    customer's mailbox be flooded, and tell nothing a lockout should hide)."""
    conversation = Conversation(bot)
    await conversation.say(f"change the delivery of {CONFIRMED}, postcode 101000")
    for guess in range(5):
        await Conversation(bot).say(f"where is {CONFIRMED}? postcode 99999{guess}")
    reply = await conversation.press("Delivery method")
    assert "can't check order details in this chat right now" in reply
    assert await messages_with(bot, "Ваш код для заказа") == 0
